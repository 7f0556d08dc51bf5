"""Joining FLAC tracks encoded apart into one stream, checked by the reference
decoder (``flac --test``) and by decoding it back."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from talecast.pipeline.flacstream import (
    BLOCK_SAMPLES,
    FlacStreamError,
    StreamJoiner,
    encode,
    frame_offsets,
)

RATE = 24000


def _speechlike(blocks: float, seed: int) -> np.ndarray:
    """Noise shaped by a slow envelope, ``blocks`` blocks long."""
    rng = np.random.default_rng(seed)
    n = int(blocks * BLOCK_SAMPLES)
    envelope = 0.5 + 0.5 * np.sin(np.arange(n) / 900.0)
    return (rng.normal(0, 4000, n) * envelope).astype(np.int16)


def test_tracks_encoded_apart_join_to_their_concatenation(tmp_path, flac_test):
    tracks = [
        _speechlike(3, 1),
        # Long silence: the joined frame numbers pass 127 and 2047, where their
        # UTF-8 coding grows from one byte to two and from two to three.
        np.zeros(2100 * BLOCK_SAMPLES, np.int16),
        _speechlike(40, 2),
        np.zeros(0, np.int16),  # an empty part adds nothing
        _speechlike(5.3, 3),  # the last may end inside a block
    ]
    path = tmp_path / "joined.flac"
    with StreamJoiner(path, RATE) as joiner:
        for track in tracks:
            joiner.add(encode(track, RATE))
    flac_test(path)
    joined, rate = sf.read(path, dtype="int16")
    assert rate == RATE
    assert np.array_equal(joined, np.concatenate(tracks))
    info = sf.info(path)
    assert info.frames == sum(t.size for t in tracks)


def test_a_single_short_track_is_a_valid_stream(tmp_path, flac_test):
    track = _speechlike(0.25, 4)
    path = tmp_path / "short.flac"
    with StreamJoiner(path, RATE) as joiner:
        joiner.add(encode(track, RATE))
    flac_test(path)
    assert np.array_equal(sf.read(path, dtype="int16")[0], track)


def test_frames_are_found_where_the_encoder_put_them():
    track = _speechlike(7.5, 5)
    encoded = encode(track, RATE)
    assert len(encoded.offsets) == 8
    assert all(encoded.data[at : at + 2] == b"\xff\xf8" for at in encoded.offsets)
    assert encoded.offsets == frame_offsets(encoded.data, track.size)


def test_only_the_last_track_may_end_inside_a_block(tmp_path):
    with StreamJoiner(tmp_path / "x.flac", RATE) as joiner:
        joiner.add(encode(_speechlike(1.5, 6), RATE))
        with pytest.raises(FlacStreamError, match="last track"):
            joiner.add(encode(_speechlike(1, 7), RATE))


def test_a_track_of_another_sample_rate_is_refused(tmp_path):
    with StreamJoiner(tmp_path / "x.flac", RATE) as joiner:
        with pytest.raises(FlacStreamError, match="22050 Hz"):
            joiner.add(encode(_speechlike(2, 8), 22050))


def test_damaged_frames_are_refused_not_joined(tmp_path):
    encoded = encode(_speechlike(4, 9), RATE)
    damaged = bytearray(encoded.data)
    damaged[encoded.offsets[2] + 4] ^= 0x01  # frame 2's number, under its CRC-8
    bad = type(encoded)(bytes(damaged), encoded.offsets, encoded.samples)
    with StreamJoiner(tmp_path / "x.flac", RATE) as joiner:
        with pytest.raises(FlacStreamError, match="CRC-8"):
            joiner.add(bad)
    cut = type(encoded)(encoded.data[: encoded.offsets[-1]], encoded.offsets, 0)
    with StreamJoiner(tmp_path / "y.flac", RATE) as joiner:
        with pytest.raises(FlacStreamError, match="cut short"):
            joiner.add(cut)
