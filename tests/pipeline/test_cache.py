"""The line cache: stable keys, int16 round trip, atomic entries."""

import numpy as np

from talecast.pipeline.cache import LineCache, line_key, to_int16


def test_line_key_changes_with_voice_text_engine_and_replacements():
    base = line_key("hibari-1", 1, (), "Hello.")
    assert base == line_key("hibari-1", 1, (), "Hello.")
    assert base != line_key("hibari-2", 1, (), "Hello.")
    assert base != line_key("hibari-1", 2, (), "Hello.")
    assert base != line_key("hibari-1", 1, (), "Hello!")
    assert base != line_key("hibari-1", 1, (), "Hello.", {"hello": "hullo"})


def test_cache_returns_exactly_the_int16_samples_it_stored(tmp_path):
    cache = LineCache(tmp_path, 24000)
    audio = np.sin(np.linspace(0, 200, 24000)).astype(np.float32) * 0.5
    stored = cache.put("ab" * 32, audio)
    again = cache.get("ab" * 32)
    assert again is not None and again.dtype == np.int16
    assert np.array_equal(stored, again)
    assert np.array_equal(stored, to_int16(audio))
    assert not list(tmp_path.rglob("*.part"))


def test_cache_miss_and_empty_line(tmp_path):
    cache = LineCache(tmp_path, 24000)
    assert cache.get("cd" * 32) is None
    cache.put("ef" * 32, np.zeros(0, dtype=np.float32))
    assert cache.get("ef" * 32).size == 0


def test_to_int16_clips_instead_of_wrapping():
    out = to_int16(np.array([2.0, -2.0, 0.5], dtype=np.float32))
    assert out.tolist() == [32767, -32767, 16384]
