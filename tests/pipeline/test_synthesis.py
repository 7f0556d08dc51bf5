"""Speech synthesis with the real engines: every voice, levels, determinism, errors."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import subprocess
import sys

import numpy as np
import pyloudnorm
import pytest

from talecast.errors import EngineError
from talecast.pipeline.engines import get_engine
from talecast.pipeline.engines.kokoro import MAX_TOKENS, _token_chunks
from talecast.pipeline.synthesis import (
    OUTPUT_RATE_HZ,
    PEAK_LIMIT,
    TARGET_DBFS,
    Synthesizer,
    get_synthesizer,
    match_loudness,
    resample_to_output,
    speech_level_dbfs,
    trim_silence,
)
from talecast.pipeline.voices import Voice, get_voice, list_voices

SENTENCE = "Bring the lamp here, keeper."
DETERMINISM_VOICES = (1, 2, 20, 31)


@pytest.fixture(scope="module")
def spoken() -> dict[int, np.ndarray]:
    """Every available voice speaking the same sentence, through one Synthesizer."""
    synth = get_synthesizer()
    return {voice.id: synth.synthesize(SENTENCE, voice) for voice in list_voices()}


def _digest(audio: np.ndarray) -> str:
    return hashlib.sha256(audio.tobytes()).hexdigest()


def _median_f0_hz(audio: np.ndarray, rate_hz: int = OUTPUT_RATE_HZ) -> float:
    """Median pitch over clearly voiced 40 ms frames, by autocorrelation."""
    frame = int(0.04 * rate_hz)
    lowest_lag, highest_lag = rate_hz // 400, rate_hz // 60
    pitches = []
    for start in range(0, audio.size - frame, frame // 2):
        x = audio[start : start + frame] - np.mean(audio[start : start + frame])
        if np.sqrt(np.mean(x**2)) < 0.03:
            continue
        corr = np.correlate(x, x, "full")[frame - 1 :]
        lag = lowest_lag + int(np.argmax(corr[lowest_lag:highest_lag]))
        if corr[lag] > 0.4 * corr[0]:
            pitches.append(rate_hz / lag)
    return float(np.median(pitches)) if pitches else 0.0


def _spectrum_shape_db(audio: np.ndarray, rate_hz: int = OUTPUT_RATE_HZ) -> np.ndarray:
    """Long-term average spectrum in 24 log-spaced bands (80 Hz-8 kHz), mean removed."""
    size = 1024
    frames = [
        audio[i : i + size] * np.hanning(size)
        for i in range(0, audio.size - size, size // 2)
    ]
    power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    freqs = np.fft.rfftfreq(size, 1 / rate_hz)
    edges = np.geomspace(80, 8000, 25)
    bands = np.array(
        [
            power[(freqs >= lo) & (freqs < hi)].mean()
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        ]
    )
    shape = 10 * np.log10(bands + 1e-12)
    return shape - shape.mean()


def test_every_voice_speaks_audible_24khz_audio(spoken: dict[int, np.ndarray]) -> None:
    assert set(spoken) == {v.id for v in list_voices()}
    for voice_id, audio in spoken.items():
        assert audio.dtype == np.float32, voice_id
        assert audio.ndim == 1, voice_id
        assert 0.5 < audio.size / OUTPUT_RATE_HZ < 4.0, voice_id
        assert speech_level_dbfs(audio, OUTPUT_RATE_HZ) > -25, voice_id
        assert np.max(np.abs(audio)) <= PEAK_LIMIT, voice_id


def test_output_edges_hold_little_silence(spoken: dict[int, np.ndarray]) -> None:
    for voice_id, audio in spoken.items():
        threshold = np.max(np.abs(audio)) * 0.01
        loud = np.flatnonzero(np.abs(audio) > threshold)
        assert loud[0] / OUTPUT_RATE_HZ <= 0.04, voice_id
        assert (audio.size - loud[-1]) / OUTPUT_RATE_HZ <= 0.04, voice_id


def test_every_pair_of_voices_differs_in_pitch_or_timbre(
    spoken: dict[int, np.ndarray],
) -> None:
    pitch = {k: _median_f0_hz(a) for k, a in spoken.items()}
    shape = {k: _spectrum_shape_db(a) for k, a in spoken.items()}
    for a, b in itertools.combinations(spoken, 2):
        semitones = abs(12 * np.log2(max(pitch[a], 1.0) / max(pitch[b], 1.0)))
        timbre_db = float(np.sqrt(np.mean((shape[a] - shape[b]) ** 2)))
        assert semitones >= 2.0 or timbre_db >= 3.0, (a, b, semitones, timbre_db)


def test_voice_genders_match_their_pitch(spoken: dict[int, np.ndarray]) -> None:
    for voice_id, audio in spoken.items():
        f0_hz = _median_f0_hz(audio)
        if get_voice(voice_id).gender == "male":
            assert 60 < f0_hz < 150, (voice_id, f0_hz)
        else:
            assert 140 < f0_hz < 400, (voice_id, f0_hz)


def test_loudness_of_all_voices_is_matched_within_2_db(
    spoken: dict[int, np.ndarray],
) -> None:
    meter = pyloudnorm.Meter(OUTPUT_RATE_HZ)
    lufs = {
        k: meter.integrated_loudness(a.astype(np.float64)) for k, a in spoken.items()
    }
    assert max(lufs.values()) - min(lufs.values()) <= 4.0, lufs
    median = float(np.median(list(lufs.values())))
    assert all(abs(v - median) <= 2.0 for v in lufs.values()), lufs
    for voice_id, audio in spoken.items():
        level = speech_level_dbfs(audio, OUTPUT_RATE_HZ)
        assert level == pytest.approx(TARGET_DBFS, abs=0.5), voice_id


def test_synthesis_is_bitwise_repeatable_in_process(
    spoken: dict[int, np.ndarray],
) -> None:
    synth = get_synthesizer()
    for voice_id in DETERMINISM_VOICES:
        synth.synthesize("No.", get_voice(voice_id))
        again = synth.synthesize(SENTENCE, get_voice(voice_id))
        assert np.array_equal(again, spoken[voice_id]), voice_id


def test_synthesis_is_bitwise_repeatable_across_processes(
    spoken: dict[int, np.ndarray],
) -> None:
    script = (
        "import hashlib, sys\n"
        "from talecast.pipeline.synthesis import get_synthesizer\n"
        "from talecast.pipeline.voices import get_voice\n"
        "s = get_synthesizer()\n"
        f"for i in reversed({DETERMINISM_VOICES!r}):\n"
        f"    a = s.synthesize({SENTENCE!r}, get_voice(i))\n"
        "    print(i, hashlib.sha256(a.tobytes()).hexdigest())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    digests = dict(line.split() for line in out.splitlines())
    for voice_id in DETERMINISM_VOICES:
        assert digests[str(voice_id)] == _digest(spoken[voice_id]), voice_id


@pytest.mark.parametrize(
    ("voice_id", "rate_hz"), [(1, 24_000), (20, 16_000), (30, 16_000), (33, 16_000)]
)
def test_raw_synthesize_returns_the_engines_native_rate(
    voice_id: int, rate_hz: int
) -> None:
    audio, rate = get_synthesizer().raw_synthesize("Good evening.", get_voice(voice_id))
    assert rate == rate_hz
    assert audio.dtype == np.float32
    assert audio.size > 0.3 * rate_hz


def test_long_text_is_split_and_joined_in_order() -> None:
    synth = get_synthesizer()
    sentence = "The keeper climbed the narrow stair and trimmed the wick once more."
    one = synth.synthesize(sentence, get_voice(1))
    many = synth.synthesize(" ".join([sentence] * 6), get_voice(1))
    assert 5.0 < many.size / one.size < 7.0
    assert np.max(np.abs(many)) <= PEAK_LIMIT


def test_text_that_normalises_to_nothing_gives_empty_audio() -> None:
    audio = Synthesizer().synthesize("  * _ “” ", get_voice(2))
    assert audio.dtype == np.float32
    assert audio.size == 0


def test_unknown_engine_raises_engine_error() -> None:
    voice = dataclasses.replace(get_voice(1), id=900, engine="nosuch")
    with pytest.raises(EngineError, match="nosuch"):
        Synthesizer().synthesize("Hello.", voice)


def test_unknown_flite_voice_raises_engine_error_naming_the_voice() -> None:
    voice = dataclasses.replace(
        get_voice(30), id=901, name="Ghost", params=(("voice", "ghost"),)
    )
    with pytest.raises(EngineError, match=r"901 \(Ghost\)"):
        Synthesizer().synthesize("Hello.", voice)


def test_bad_kokoro_blend_raises_engine_error_naming_the_voice() -> None:
    voice = dataclasses.replace(
        get_voice(2), id=902, name="Broken", params=(("blend", (("jx_nobody", 1.0),)),)
    )
    with pytest.raises(EngineError, match=r"902 \(Broken\).*jx_nobody"):
        Synthesizer().synthesize("Hello.", voice)


def test_kokoro_token_chunks_respect_the_model_limit() -> None:
    space = 16
    tokens = ([50, 51, 52, space] * 400)[:1500]
    chunks = _token_chunks(tokens, space)
    assert all(len(c) <= MAX_TOKENS for c in chunks)
    assert all(c[-1] == space for c in chunks[:-1])
    assert sum(chunks, []) == tokens


def test_engine_version_tracks_voice_parameters() -> None:
    synth = get_synthesizer()
    kumo, haru = get_voice(2), get_voice(7)
    assert synth.engine_version(kumo) == synth.engine_version(get_voice(2))
    assert synth.engine_version(kumo) != synth.engine_version(haru)
    assert get_synthesizer() is synth


def test_resampling_uses_exact_ratios() -> None:
    assert resample_to_output(np.ones(16_000, np.float32), 16_000).size == 24_000
    assert resample_to_output(np.ones(22_050, np.float32), 22_050).size == 24_000
    assert resample_to_output(np.ones(8_000, np.float32), 8_000).size == 24_000


def test_loud_input_is_limited_below_full_scale() -> None:
    t = np.arange(OUTPUT_RATE_HZ) / OUTPUT_RATE_HZ
    spiky = (np.sin(2 * np.pi * 200 * t) ** 15).astype(np.float32)
    out = match_loudness(spiky, OUTPUT_RATE_HZ)
    assert np.max(np.abs(out)) <= PEAK_LIMIT
    assert speech_level_dbfs(out, OUTPUT_RATE_HZ) == pytest.approx(TARGET_DBFS, abs=2)


def test_trim_silence_keeps_about_30_ms_at_each_edge() -> None:
    tone = np.sin(np.arange(2400) / 5.0).astype(np.float32)
    padded = np.concatenate(
        [np.zeros(24_000, np.float32), tone, np.zeros(12_000, np.float32)]
    )
    trimmed = trim_silence(padded, OUTPUT_RATE_HZ)
    assert trimmed.size == pytest.approx(2400 + 2 * 720, abs=4)


def test_synthesize_many_rejects_zero_lines_at_once() -> None:
    with pytest.raises(ValueError, match="at_once"):
        list(Synthesizer().synthesize_many([("Hello.", get_voice(2))], 0))


def test_voice_objects_from_outside_the_catalogue_still_work() -> None:
    voice = Voice(
        950,
        "Custom Pico",
        "female",
        None,
        "en-gb",
        "pico",
        "Apache-2.0",
        "test voice",
        True,
        frozenset({"fast"}),
        (("voice", "en-GB"), ("pitch", 1.2), ("speed", 1.0)),
    )
    assert Synthesizer().synthesize("Fine weather.", voice).size > 0


def test_pico_in_a_forked_child_gets_its_own_worker() -> None:
    synth = get_synthesizer()
    before = synth.synthesize("Fine weather.", get_voice(21))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: speak through a fresh worker, report the digest
        os.close(read_end)
        try:
            audio = synth.synthesize("Fine weather.", get_voice(21))
            worker = get_engine("pico")._process  # type: ignore[attr-defined]
            os.write(write_end, f"{_digest(audio)} {worker.pid}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        child_digest, child_worker = pipe.read().split()
    os.waitpid(pid, 0)
    assert child_digest == _digest(before)
    assert int(child_worker) != get_engine("pico")._process.pid  # type: ignore[attr-defined]
    assert np.array_equal(synth.synthesize("Fine weather.", get_voice(21)), before)


def _synth_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("talecast-")]


def test_lines_spoken_at_once_equal_lines_spoken_one_by_one() -> None:
    synth = get_synthesizer()
    lines = [
        ("The tide is turning, keeper.", get_voice(2)),
        ("Then light the lamp.", get_voice(7)),
        ("I lit it an hour ago.", get_voice(2)),
        ("The wind is rising.", get_voice(1)),
        ("Close the shutters.", get_voice(31)),
        ("Who is there?", get_voice(20)),
        ("Only the gulls.", get_voice(8)),
    ]
    alone = [synth.synthesize(text, voice) for text, voice in lines]
    together = list(synth.synthesize_many(lines, 3))
    assert len(together) == len(alone)
    for a, b in zip(alone, together, strict=True):
        assert a.size > 0 and np.array_equal(a, b)
    assert _synth_threads() == []


def test_lines_at_once_raise_an_engine_error_in_its_place_and_stop() -> None:
    broken = dataclasses.replace(
        get_voice(2), id=903, name="Broken", params=(("blend", (("jx_nobody", 1.0),)),)
    )
    jobs = [("Hello there.", get_voice(31)), ("Hello.", broken)]
    jobs += [("More lines.", get_voice(30))] * 10
    spoken = get_synthesizer().synthesize_many(jobs, 2)
    assert next(spoken).size > 0
    with pytest.raises(EngineError, match=r"903 \(Broken\)"):
        next(spoken)
    assert _synth_threads() == []


def test_closing_lines_at_once_early_leaves_no_thread_running() -> None:
    jobs = [(f"Line number {n}.", get_voice(30)) for n in range(12)]
    spoken = get_synthesizer().synthesize_many(jobs, 2)
    assert next(spoken).size > 0
    spoken.close()
    assert _synth_threads() == []
