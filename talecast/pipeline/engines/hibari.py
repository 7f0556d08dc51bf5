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


def onnx_options(threads: int) -> Any:
    """onnxruntime session options: intra-op threads as given, inter-op 1."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return options


class HibariEngine:
    """The hibari "heart" voice; its noise is seeded so output is reproducible."""

    name = "hibari"

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._tts: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._tts is None:
                self._tts = self._build()
            return self._tts

    def _build(self) -> Any:
        import onnxruntime as ort
        from hibari import Hibari

        started = time.perf_counter()
        tts = Hibari(threads=1)
        if self.threads != 1:
            tts.sess = ort.InferenceSession(
                tts.model_path,
                onnx_options(self.threads),
                providers=["CPUExecutionProvider"],
            )
        logger.info(
            "hibari loaded in %.2f s (%d threads)",
            time.perf_counter() - started,
            self.threads,
        )
        return tts

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
        """hibari and onnxruntime versions, thread count and the voice's parameters.

        The thread count is part of it: hibari's output differs between 1 and 2 threads.
        """
        versions = ":".join(
            importlib.metadata.version(p) for p in ("hibari-tts", "onnxruntime")
        )
        return f"hibari-{versions}:t{self.threads}:{voice.params}"


def _chunks(phonemes: str, limit: int = 400) -> list[str]:
    """Phoneme string cut at spaces into pieces of at most ``limit`` symbols."""
    pieces: list[str] = []
    for word in phonemes.split(" "):
        if pieces and len(pieces[-1]) + 1 + len(word) <= limit:
            pieces[-1] = f"{pieces[-1]} {word}"
        else:
            pieces.append(word[:limit])
    return [p for p in pieces if p.strip()]
