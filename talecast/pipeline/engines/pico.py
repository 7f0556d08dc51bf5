"""SVOX Pico through py-nanotts: two female English voices with pitch and speed."""

from __future__ import annotations

import importlib.metadata
import threading

import numpy as np

from talecast.errors import EngineError
from talecast.pipeline.voices import Voice

SAMPLE_RATE_HZ = 16_000


class PicoEngine:
    """Pico voices; the native library is not re-entrant, so calls are serialised."""

    name = "pico"

    def __init__(self) -> None:
        self._tts: object = None
        self._lock = threading.Lock()

    def synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        """Audio at 16 kHz for one piece of text."""
        try:
            from py_nanotts import NanoTTS
        except ImportError as exc:
            raise EngineError(
                "SVOX Pico is not installed; run: pip install py-nanotts==0.1.1"
            ) from exc
        try:
            with self._lock:
                if self._tts is None:
                    self._tts = NanoTTS()
                pcm = self._tts.speak(  # type: ignore[attr-defined]
                    text,
                    voice=str(voice.param("voice", "en-US")),
                    pitch=float(str(voice.param("pitch", 1.0))),
                    speed=float(str(voice.param("speed", 1.0))),
                )
        except Exception as exc:
            raise EngineError(
                f"pico failed to speak voice {voice.id} ({voice.name}): {exc}"
            ) from exc
        audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        return audio, SAMPLE_RATE_HZ

    def version(self, voice: Voice) -> str:
        """py-nanotts version plus the voice's parameters."""
        return f"pico-{importlib.metadata.version('py-nanotts')}:{voice.params}"
