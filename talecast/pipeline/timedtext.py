"""Timed text: WebVTT with speaker voice spans, SRT with speaker prefixes, word timings.

Times come in as sample offsets and are turned into milliseconds with integer
arithmetic. Long narration segments are split into cues of at most :data:`MAX_CUE_CHARS`
characters at sentence or clause ends, timed with the word estimates below.

Word timings: the speech engines give no alignments yet, so each segment's duration is
shared among its words in proportion to their estimated syllables, with a short pause
after clause and sentence punctuation. ``words.json`` says so in its ``method`` field.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

WORD_TIMING_METHOD = "estimated-from-segment-length"
MAX_CUE_CHARS = 120  # split longer segments into several cues

_VOWEL_GROUP = re.compile(r"[aeiouy]+", re.IGNORECASE)
_PAUSE_AFTER = {",": 1.0, ";": 1.0, ":": 1.0, ".": 1.5, "!": 1.5, "?": 1.5}
_DASHES = ("—", "–", "--")


@dataclass(frozen=True)
class TimedItem:
    """One spoken segment on the exported timeline."""

    start_sample: int
    end_sample: int
    text: str
    speaker: str
    chapter: int = 0
    kind: str = "narration"  # or "dialogue"
    paragraph: bool = False  # opens a paragraph of the text


@dataclass(frozen=True)
class WordTiming:
    """One word with its estimated span, in samples."""

    word: str
    start_sample: int
    end_sample: int


def format_webvtt(
    items: Sequence[TimedItem],
    sample_rate_hz: int,
    chapter_titles: Sequence[str | None] = (),
) -> str:
    """Return a WebVTT document: one ``<v Speaker>`` cue per segment or part of one.

    ``chapter_titles`` (indexed by ``TimedItem.chapter``) become ``NOTE`` lines before
    the first cue of each chapter.
    """
    lines = ["WEBVTT", ""]
    chapter_seen: set[int] = set()
    for item in items:
        if item.chapter not in chapter_seen and item.chapter < len(chapter_titles):
            chapter_seen.add(item.chapter)
            title = _one_line(chapter_titles[item.chapter] or "").replace("-->", "->")
            lines += [f"NOTE Chapter {item.chapter + 1}: {title}".rstrip(), ""]
        for start, end, text in _cues(item, sample_rate_hz):
            lines.append(_cue_timing(start, end, sample_rate_hz, _vtt_time))
            lines.append(f"<v {_vtt_annotation(item.speaker)}>{_vtt_escape(text)}")
            lines.append("")
    return "\n".join(lines)


def format_srt(items: Sequence[TimedItem], sample_rate_hz: int) -> str:
    """Return a SubRip document whose cue texts start with ``Speaker:``."""
    blocks = []
    number = 0
    for item in items:
        for start, end, text in _cues(item, sample_rate_hz):
            number += 1
            timing = _cue_timing(start, end, sample_rate_hz, _srt_time)
            blocks.append(f"{number}\n{timing}\n{_one_line(item.speaker)}: {text}\n")
    return "\n".join(blocks)


def word_timings_document(
    items: Sequence[TimedItem], sample_rate_hz: int
) -> dict[str, Any]:
    """Return the ``words.json`` payload: segments with per-word start and end (s)."""
    segments = []
    for item in items:
        words = estimate_word_timings(item)
        segments.append(
            {
                "start": _seconds(item.start_sample, sample_rate_hz),
                "end": _seconds(item.end_sample, sample_rate_hz),
                "speaker": item.speaker,
                "chapter": item.chapter,
                "text": item.text,
                "words": [
                    {
                        "word": w.word,
                        "start": _seconds(w.start_sample, sample_rate_hz),
                        "end": _seconds(w.end_sample, sample_rate_hz),
                    }
                    for w in words
                ],
            }
        )
    return {
        "method": WORD_TIMING_METHOD,
        "description": (
            "Word times are estimates: each segment's duration is shared among its "
            "words in proportion to their syllables, with short pauses after "
            "punctuation."
        ),
        "sample_rate_hz": sample_rate_hz,
        "segments": segments,
    }


def estimate_word_timings(item: TimedItem) -> list[WordTiming]:
    """Share the segment's samples among its words by syllable weight."""
    # TODO(#6): use the engine's own alignments once the synthesizer returns them.
    words = item.text.split()
    if not words:
        return []
    weights = [_syllables(w) for w in words]
    pauses = [_pause_after(w) for w in words[:-1]] + [0.0]
    total = sum(weights) + sum(pauses)
    span = item.end_sample - item.start_sample

    timings = []
    position = 0.0
    for word, weight, pause in zip(words, weights, pauses, strict=True):
        start = item.start_sample + round(span * position / total)
        position += weight
        end = item.start_sample + round(span * position / total)
        position += pause
        timings.append(WordTiming(word, start, end))
    return timings


# ---- helpers ------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)  # a novel's words repeat; each is weighed once
def _syllables(word: str) -> float:
    letters = re.sub(r"[^A-Za-z]", "", word)
    digits = sum(ch.isdigit() for ch in word)
    if letters:
        count = len(_VOWEL_GROUP.findall(letters))
        if letters.lower().endswith("e") and count > 1 and not letters.endswith("le"):
            count -= 1  # a silent final e
        return max(1.0, float(count)) + digits
    if digits:
        return float(digits)
    # Other scripts: about one syllable per two characters.
    alnum = sum(ch.isalnum() for ch in word)
    return max(1.0, alnum / 2) if alnum else 0.5


@functools.lru_cache(maxsize=65536)
def _pause_after(word: str) -> float:
    stripped = word.rstrip("\"'”’)]»")
    if stripped.endswith(_DASHES):
        return 1.0
    return _PAUSE_AFTER.get(stripped[-1:], 0.0)


def _cues(item: TimedItem, sample_rate_hz: int) -> list[tuple[int, int, str]]:
    """Split a long segment into cues at sentence or clause ends."""
    text = _one_line(item.text)
    if len(text) <= MAX_CUE_CHARS:
        return [(item.start_sample, item.end_sample, text)]

    words = estimate_word_timings(item)
    groups: list[list[WordTiming]] = [[]]
    for word in words:
        current = groups[-1]
        length = sum(len(w.word) + 1 for w in current)
        if current and length + len(word.word) > MAX_CUE_CHARS:
            # Move back to the last clause end inside the cue when there is one.
            cut = _last_break(current)
            groups[-1], carried = current[:cut], current[cut:]
            groups.append(carried)
        groups[-1].append(word)

    cues = []
    for index, group in enumerate(groups):
        start = item.start_sample if index == 0 else group[0].start_sample
        last = index == len(groups) - 1
        end = item.end_sample if last else groups[index + 1][0].start_sample
        cues.append((start, end, " ".join(w.word for w in group)))
    return cues


def _last_break(words: list[WordTiming]) -> int:
    for index in range(len(words) - 1, 0, -1):
        if _pause_after(words[index - 1].word) > 0:
            return index
    return len(words)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_annotation(speaker: str) -> str:
    return _vtt_escape(_one_line(speaker)) or "Unknown"


def _milliseconds(sample: int, sample_rate_hz: int) -> int:
    return (sample * 1000 + sample_rate_hz // 2) // sample_rate_hz


def _clock(sample: int, sample_rate_hz: int) -> tuple[int, int, int, int]:
    ms = _milliseconds(sample, sample_rate_hz)
    return ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000


def _vtt_time(sample: int, sample_rate_hz: int) -> str:
    h, m, s, ms = _clock(sample, sample_rate_hz)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _srt_time(sample: int, sample_rate_hz: int) -> str:
    h, m, s, ms = _clock(sample, sample_rate_hz)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def _cue_timing(
    start: int, end: int, sample_rate_hz: int, clock: Callable[[int, int], str]
) -> str:
    return f"{clock(start, sample_rate_hz)} --> {clock(end, sample_rate_hz)}"


def _seconds(sample: int, sample_rate_hz: int) -> float:
    return _milliseconds(sample, sample_rate_hz) / 1000
