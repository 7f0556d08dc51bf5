"""Speak a line: normalise, split, run the voice's engine, and even out the result.

Every line comes back as float32 mono at ``OUTPUT_RATE_HZ``, trimmed to ~30 ms of edge
silence and brought to the same speech level whatever the engine.

Loudness is matched per line, not from a one-off calibration per voice: each line's
level is measured over its voiced 20 ms frames and a gain brings it to ``TARGET_DBFS``.
Per-line gain needs no calibration table to keep in step with engine versions and voice
parameters, holds for voices built at run time (blends, pitch variants), costs well
under a millisecond, and puts every line on the target whatever its length or content
makes the engine do. The price is that deliberately quiet or loud delivery is
flattened, which none of these engines produces anyway.

Several lines are spoken at once (``Synthesizer.synthesize_many``), each engine call on
one onnxruntime thread, rather than one line at a time on several threads: Kokoro's
operators are too small to keep two threads busy, so two lines in flight on 2 cores
finish sooner than one line on two threads, and one thread per call keeps each line's
audio bit-identical however many are in flight.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Generator, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from talecast.pipeline.engines import get_engine
from talecast.pipeline.normalize import normalize_for_speech, split_for_synthesis
from talecast.pipeline.voices import Voice

logger = logging.getLogger(__name__)

OUTPUT_RATE_HZ = 24_000
TARGET_DBFS = -20.0  # RMS over voiced frames
PEAK_LIMIT = 0.99
MAX_PIECE_CHARS = 250
EDGE_SILENCE_S = 0.03
FRAME_S = 0.02
SILENCE_BELOW_PEAK_DB = (
    40.0  # edge samples quieter than this under the peak are trimmed
)
GAP_AFTER_SENTENCE_S = 0.25
GAP_AFTER_CLAUSE_S = 0.12
SYNTH_VERSION = "talecast-synth-1"  # bump when normalising, joining or gain changes


# onnxruntime threads per engine call; parallelism comes from lines in flight.
ENGINE_THREADS = 1


class Synthesizer:
    """Turns text into audio with any catalogued voice; engines load on first use.

    ``synthesize`` may be called from several threads at once.
    """

    def __init__(self) -> None:
        self.threads = ENGINE_THREADS
        self._versions: dict[Voice, str] = {}

    def synthesize(
        self,
        text: str,
        voice: Voice,
        replacements: Mapping[str, str] | None = None,
    ) -> np.ndarray:
        """Speech for ``text``: 24 kHz float32 mono, loudness-matched, |x| <= 0.99.

        ``replacements`` (word -> what to say) come from pronunciation dictionaries.
        Text that normalises to nothing gives an empty array.
        """
        engine = get_engine(voice.engine, self.threads)
        parts: list[np.ndarray] = []
        for piece in self._pieces(text, replacements):
            audio, rate_hz = engine.synthesize(piece, voice)
            audio = trim_silence(resample_to_output(audio, rate_hz), OUTPUT_RATE_HZ)
            parts.append(audio)
            parts.append(np.zeros(_gap_samples(piece), np.float32))
        if not parts:
            return np.zeros(0, np.float32)
        audio = trim_silence(np.concatenate(parts), OUTPUT_RATE_HZ)
        logger.debug(
            "synthesis: voice %d (%s) spoke %d pieces, %.2f s",
            voice.id,
            voice.name,
            len(parts) // 2,
            audio.size / OUTPUT_RATE_HZ,
        )
        return match_loudness(audio, OUTPUT_RATE_HZ)

    def synthesize_many(
        self,
        jobs: Iterable[tuple[str, Voice]],
        at_once: int,
        replacements: Mapping[str, str] | None = None,
    ) -> Generator[np.ndarray, None, None]:
        """``synthesize`` for each (text, voice), up to ``at_once`` in flight.

        Results come in the order of ``jobs``, so a caller can store and report each as
        it arrives. Closing the iterator early (or an engine error, raised at its place
        in the order) drops the jobs not started and waits for those running.
        """
        if at_once < 1:
            raise ValueError(f"at_once must be at least 1, got {at_once!r}")
        if at_once == 1:
            for text, voice in jobs:
                yield self.synthesize(text, voice, replacements)
            return
        pending: deque[Future[np.ndarray]] = deque()
        work = iter(jobs)
        pool = ThreadPoolExecutor(at_once, thread_name_prefix="talecast-synth")
        try:
            for text, voice in work:
                pending.append(pool.submit(self.synthesize, text, voice, replacements))
                if len(pending) >= 2 * at_once:  # keep every thread fed, no more
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def raw_synthesize(
        self,
        text: str,
        voice: Voice,
        replacements: Mapping[str, str] | None = None,
    ) -> tuple[np.ndarray, int]:
        """The engine's own output for the same pieces, no resampling, no gain."""
        engine = get_engine(voice.engine, self.threads)
        parts: list[np.ndarray] = []
        rate_hz = OUTPUT_RATE_HZ
        for piece in self._pieces(text, replacements):
            audio, rate_hz = engine.synthesize(piece, voice)
            parts.append(audio)
        if not parts:
            return np.zeros(0, np.float32), rate_hz
        return np.concatenate(parts), rate_hz

    def engine_version(self, voice: Voice) -> str:
        """Identifies everything that shapes this voice's audio; part of cache keys."""
        # Engines read package metadata to build this; it cannot change in a process.
        known = self._versions.get(voice)
        if known is None:
            engine = get_engine(voice.engine, self.threads)
            known = self._versions[voice] = f"{engine.version(voice)}|{SYNTH_VERSION}"
        return known

    @staticmethod
    def _pieces(text: str, replacements: Mapping[str, str] | None = None) -> list[str]:
        spoken = normalize_for_speech(text, replacements)
        return split_for_synthesis(spoken, MAX_PIECE_CHARS)


_synthesizer: Synthesizer | None = None
_lock = threading.Lock()


def get_synthesizer() -> Synthesizer:
    """The process-wide Synthesizer."""
    global _synthesizer
    with _lock:
        if _synthesizer is None:
            _synthesizer = Synthesizer()
        return _synthesizer


def resample_to_output(audio: np.ndarray, rate_hz: int) -> np.ndarray:
    """Resample to OUTPUT_RATE_HZ by an exact integer ratio (16 kHz -> 3/2)."""
    audio = np.asarray(audio, np.float32)
    if rate_hz == OUTPUT_RATE_HZ or audio.size == 0:
        return audio
    ratio = Fraction(OUTPUT_RATE_HZ, rate_hz)
    out = resample_poly(audio, ratio.numerator, ratio.denominator)
    return np.asarray(out, np.float32)


def trim_silence(audio: np.ndarray, rate_hz: int) -> np.ndarray:
    """Cut leading and trailing silence down to EDGE_SILENCE_S on each side."""
    if audio.size == 0:
        return audio
    peak = float(np.max(np.abs(audio)))
    if peak <= 0.0:
        return audio[:0]
    threshold = peak * 10 ** (-SILENCE_BELOW_PEAK_DB / 20)
    loud = np.flatnonzero(np.abs(audio) > threshold)
    pad = round(EDGE_SILENCE_S * rate_hz)
    start = max(0, int(loud[0]) - pad)
    end = min(audio.size, int(loud[-1]) + 1 + pad)
    return audio[start:end]


def speech_level_dbfs(audio: np.ndarray, rate_hz: int) -> float | None:
    """RMS level in dBFS over voiced frames (gated like BS.1770); None for silence."""
    frame = max(1, round(FRAME_S * rate_hz))
    count = audio.size // frame
    if count == 0:
        frames = audio[None, :]
    else:
        frames = audio[: count * frame].reshape(count, frame)
    power = np.mean(frames.astype(np.float64) ** 2, axis=1)
    power = power[power > 10 ** (-60 / 10)]
    if power.size == 0:
        return None
    power = power[power > np.mean(power) * 10 ** (-20 / 10)]
    return float(10 * np.log10(np.mean(power)))


def match_loudness(audio: np.ndarray, rate_hz: int) -> np.ndarray:
    """Gain to TARGET_DBFS over voiced frames, then soft-limit to |x| <= PEAK_LIMIT."""
    level = speech_level_dbfs(audio, rate_hz)
    if level is None:
        return np.asarray(audio, np.float32)
    gain = 10 ** ((TARGET_DBFS - level) / 20)
    return soft_limit(np.asarray(audio, np.float64) * gain).astype(np.float32)


def soft_limit(audio: np.ndarray, knee: float = 0.75) -> np.ndarray:
    """Keep samples under ``knee``; bend larger ones smoothly below PEAK_LIMIT."""
    magnitude = np.abs(audio)
    over = magnitude > knee
    if not np.any(over):
        return audio
    room = PEAK_LIMIT - knee
    bent = knee + room * np.tanh((magnitude[over] - knee) / room)
    out = audio.copy()
    out[over] = np.sign(audio[over]) * bent
    return out


def _gap_samples(piece: str) -> int:
    """Pause after a piece: longer after a sentence end than after a clause cut."""
    if piece.endswith((".", "!", "?")):
        return round(GAP_AFTER_SENTENCE_S * OUTPUT_RATE_HZ)
    if piece.endswith((",", ";", ":")):
        return round(GAP_AFTER_CLAUSE_S * OUTPUT_RATE_HZ)
    return 0
