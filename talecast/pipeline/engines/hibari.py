"""hibari: a fast distilled US-English voice, and the G2P every neural voice shares.

hibari's grapheme-to-phoneme front end (Apache-2.0, misaki conventions) also feeds
Kokoro, so the default install needs no GPL phonemiser.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
import time
from typing import Any

import numpy as np

from talecast.errors import EngineError
from talecast.pipeline.voices import Voice

logger = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 24_000
_g2p: Any = None
_g2p_lock = threading.Lock()


def phonemize(text: str) -> str:
    """Misaki-style US-English phonemes for ``text`` (one string, punctuation kept)."""
    global _g2p
    with _g2p_lock:
        if _g2p is None:
            try:
                from hibari.g2p import G2P
            except ImportError as exc:
                raise EngineError(
                    "the hibari G2P is not installed; run: "
                    "pip install hibari-tts==0.2.1"
                ) from exc
            started = time.perf_counter()
            _g2p = G2P()
            logger.info("hibari G2P loaded in %.2f s", time.perf_counter() - started)
        return str(_g2p(text))


class HibariEngine:
    """The hibari "heart" voice; its noise is seeded so output is reproducible.

    It always runs on one onnxruntime thread: a second thread made it slower here
    (RTF 0.067 against 0.039 on a busy two-core machine), because its vocoder is
    single-threaded numpy, and one fixed thread count keeps its output, and so cached
    lines, identical whatever thread count a Synthesizer is given.
    """

    name = "hibari"
    threads = 1

    def __init__(self) -> None:
        self._tts: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._tts is None:
                from hibari import Hibari

                started = time.perf_counter()
                self._tts = Hibari(threads=self.threads)  # intra = inter = 1
                logger.info("hibari loaded in %.2f s", time.perf_counter() - started)
            return self._tts

    def synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        """Audio at 24 kHz for one piece of text."""
        try:
            tts = self._load()
            phonemes = phonemize(text)
            seed = int(str(voice.param("seed", 0)))
            speed = float(str(voice.param("speed", 1.0)))
            parts = [
                tts.from_phonemes(chunk, speed=speed, seed=seed)
                for chunk in _chunks(phonemes)
            ]
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(
                f"hibari failed to speak voice {voice.id} ({voice.name}): {exc}"
            ) from exc
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return audio.astype(np.float32, copy=False), SAMPLE_RATE_HZ

    def version(self, voice: Voice) -> str:
        """hibari and onnxruntime versions plus the voice's parameters."""
        versions = ":".join(
            importlib.metadata.version(p) for p in ("hibari-tts", "onnxruntime")
        )
        return f"hibari-{versions}:{voice.params}"


def _chunks(phonemes: str, limit: int = 400) -> list[str]:
    """Phoneme string cut at spaces into pieces of at most ``limit`` symbols."""
    pieces: list[str] = []
    for word in phonemes.split(" "):
        if pieces and len(pieces[-1]) + 1 + len(word) <= limit:
            pieces[-1] = f"{pieces[-1]} {word}"
        else:
            pieces.append(word[:limit])
    return [p for p in pieces if p.strip()]
