"""A cache of synthesized lines, so re-runs and resumed runs skip finished work.

A line is keyed by everything that changes its sound: the engine's version string, the
voice (id and parameters), the pronunciation replacements and the text. Entries are
16-bit FLAC files, written to a temporary name and renamed, so a process killed
mid-write never leaves a torn entry behind. This is also the one place where float audio
becomes int16.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import soundfile as sf

logger = logging.getLogger(__name__)

INT16_FULL_SCALE = 32767


def to_int16(audio_f32: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] to int16, clipped: the only float-to-int16 conversion."""
    scaled = np.clip(audio_f32, -1.0, 1.0) * INT16_FULL_SCALE
    return np.rint(scaled).astype(np.int16)


def line_key(
    engine_version: str,
    voice_id: int,
    voice_params: object,
    text: str,
    replacements: Mapping[str, str] | None = None,
) -> str:
    """A stable hex key for one synthesized line."""
    payload = json.dumps(
        [
            engine_version,
            voice_id,
            repr(voice_params),
            text,
            sorted((replacements or {}).items()),
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class LineCache:
    """Synthesized lines on disk under one directory, as int16 FLAC."""

    def __init__(self, root: str | os.PathLike[str], sample_rate_hz: int) -> None:
        self.root = Path(root)
        self.sample_rate_hz = sample_rate_hz
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.flac"

    def has(self, key: str) -> bool:
        """Whether the line is cached."""
        return self._path(key).exists()

    def get(self, key: str) -> np.ndarray | None:
        """The cached int16 samples, or None."""
        path = self._path(key)
        try:
            audio, _ = sf.read(path, dtype="int16", always_2d=False)
        except (FileNotFoundError, sf.LibsndfileError, RuntimeError):
            self.misses += 1
            return None
        self.hits += 1
        return np.asarray(audio, dtype=np.int16)

    def put(self, key: str, audio_f32: np.ndarray) -> np.ndarray:
        """Store float audio as int16 and return the int16 samples stored."""
        samples = to_int16(audio_f32)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        os.close(fd)
        try:
            if samples.size:
                sf.write(
                    tmp, samples, self.sample_rate_hz, format="FLAC", subtype="PCM_16"
                )
            else:
                # libsndfile writes no empty FLAC; an empty WAV body reads the same.
                sf.write(
                    tmp, samples, self.sample_rate_hz, format="WAV", subtype="PCM_16"
                )
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return samples
