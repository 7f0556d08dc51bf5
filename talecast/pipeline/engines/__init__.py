"""Speech engines: one module per engine, each turning a short text piece into audio.

An engine takes already normalised text no longer than a split piece and returns float32
mono audio at its own sample rate; ``talecast.pipeline.synthesis`` does the rest
(splitting, resampling, trimming, loudness). Engines load their models lazily, once.
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

from talecast.errors import EngineError
from talecast.pipeline.voices import Voice

__all__ = ["Engine", "get_engine"]


class Engine(Protocol):
    """What every speech engine offers."""

    name: str

    def synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        """Audio for one piece of normalised text: float32 mono and its rate in Hz."""
        ...

    def version(self, voice: Voice) -> str:
        """A string that changes whenever this engine's output for a voice would."""
        ...


_engines: dict[tuple[str, int], Engine] = {}
_lock = threading.Lock()


def get_engine(name: str, threads: int = 1) -> Engine:
    """The process-wide engine ``name`` for ``threads`` onnxruntime threads."""
    key = (name, threads if name == "kokoro" else 1)  # others ignore threads
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create(name, threads)
            _engines[key] = engine
    return engine


def _create(name: str, threads: int) -> Engine:
    if name == "hibari":
        from talecast.pipeline.engines.hibari import HibariEngine

        return HibariEngine()
    if name == "kokoro":
        from talecast.pipeline.engines.kokoro import KokoroEngine

        return KokoroEngine(threads)
    if name == "pico":
        from talecast.pipeline.engines.pico import PicoEngine

        return PicoEngine()
    if name == "flite":
        from talecast.pipeline.engines.flite import FliteEngine

        return FliteEngine()
    raise EngineError(
        f"unknown speech engine {name!r}; Talecast has hibari, kokoro, pico and flite"
    )
