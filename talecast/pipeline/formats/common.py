"""Pieces every story format shares: size limits, chapter marks and a text builder.

A format reader finds *marks* (where a chapter heading starts, its title, where the
heading ends) and :func:`tile_chapters` turns them into chapters that tile the text:
a heading with no words under it joins the next chapter, and the text before the first
heading is a chapter of its own only when it holds real prose (not just a title page).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from talecast.errors import StoryTooLargeError
from talecast.pipeline.types import Chapter

logger = logging.getLogger(__name__)

PARAGRAPH_SEPARATOR = "\n\n"

# Front matter counts as a chapter with at least this much prose.
FRONT_MATTER_MIN_WORDS = 60
FRONT_MATTER_MIN_PARAGRAPH_WORDS = 15

_WORD_RE = re.compile(r"\w")
_WORDS_RE = re.compile(r"[^\W\d_][\w'’-]*")
_PARAGRAPH_SPLIT_RE = re.compile(r"\r?\n[ \t]*\r?\n")


@dataclass(frozen=True)
class ReadLimits:
    """Size limits for one story upload."""

    max_input_bytes: int = 50 * 1024 * 1024  # raw upload, bytes
    max_expanded_bytes: int = 200 * 1024 * 1024  # archive members read, bytes in all
    max_text_chars: int = 20_000_000  # decoded story text, characters


@dataclass(frozen=True)
class Mark:
    """A chapter heading found in the text.

    ``start`` is where the heading begins, ``body_start`` where the text after it
    begins; ``group`` marks a PART/VOLUME/BOOK heading that names a group of chapters.
    """

    start: int
    title: str | None
    body_start: int
    group: bool = False


def check_text_size(text: str, limits: ReadLimits) -> None:
    """Raise StoryTooLargeError when the decoded text passes ``max_text_chars``."""
    if len(text) > limits.max_text_chars:
        raise StoryTooLargeError(
            f"the story text has {len(text):,} characters, more than the limit of "
            f"{limits.max_text_chars:,}; split the story into smaller files"
        )


def has_real_prose(text: str) -> bool:
    """Tell whether ``text`` holds prose rather than a title page or a byline."""
    total = 0
    for paragraph in _PARAGRAPH_SPLIT_RE.split(text):
        words = len(_WORDS_RE.findall(paragraph))
        if words >= FRONT_MATTER_MIN_PARAGRAPH_WORDS:
            return True
        total += words
    return total >= FRONT_MATTER_MIN_WORDS


def tile_chapters(text: str, marks: list[Mark]) -> list[Chapter]:
    """Turn heading marks into chapters that cover ``text`` from start to end."""
    end = len(text)
    ordered = _unique_sorted(marks, end)
    if not ordered:
        return [Chapter(None, 0, end)]

    # A heading with nothing under it (a VOLUME line before CHAPTER I, a book title
    # before the first chapter) opens the next chapter instead of standing alone.
    merged: list[tuple[int, str | None]] = []
    pending: Mark | None = None
    for index, mark in enumerate(ordered):
        next_start = ordered[index + 1].start if index + 1 < len(ordered) else end
        title = _joined_title(pending, mark) if pending else mark.title
        start = pending.start if pending else mark.start
        is_last = index + 1 == len(ordered)
        if not is_last and not _WORD_RE.search(text, mark.body_start, next_start):
            pending = Mark(start, title, mark.body_start, mark.group)
            continue
        merged.append((start, title))
        pending = None

    first_start = merged[0][0]
    if first_start > 0 and has_real_prose(text[:first_start]):
        merged.insert(0, (0, None))
    else:
        merged[0] = (0, merged[0][1])

    chapters = []
    for index, (start, title) in enumerate(merged):
        stop = merged[index + 1][0] if index + 1 < len(merged) else end
        chapters.append(Chapter(title, start, stop))
    logger.debug("reading: %d headings gave %d chapters", len(marks), len(chapters))
    return chapters


def _unique_sorted(marks: list[Mark], end: int) -> list[Mark]:
    seen: set[int] = set()
    result = []
    for mark in sorted(marks, key=lambda m: m.start):
        if mark.start in seen or not 0 <= mark.start < end:
            continue
        seen.add(mark.start)
        result.append(mark)
    return result


def _joined_title(earlier: Mark, later: Mark) -> str | None:
    if earlier.group and earlier.title and later.title:
        return f"{earlier.title}, {later.title}"
    return later.title or earlier.title


class TextBuilder:
    """Collects paragraphs and headings into one text with chapter marks."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.marks: list[Mark] = []

    @property
    def length(self) -> int:
        """Number of characters written so far."""
        return self._length

    def next_start(self) -> int:
        """Offset at which the next paragraph will start."""
        return self._length + (len(PARAGRAPH_SEPARATOR) if self._parts else 0)

    def add_paragraph(self, paragraph: str) -> int:
        """Append a paragraph (skipped when blank); return its start offset."""
        paragraph = paragraph.strip()
        start = self.next_start()
        if not paragraph:
            return start
        if self._parts:
            self._parts.append(PARAGRAPH_SEPARATOR)
        self._parts.append(paragraph)
        self._length = start + len(paragraph)
        return start

    def add_heading(self, title: str, *, mark: bool = True) -> None:
        """Append a heading paragraph, marking a chapter start when ``mark``."""
        title = " ".join(title.split())
        if not title:
            return
        start = self.add_paragraph(title)
        if mark:
            self.marks.append(Mark(start, title, self._length))

    def text(self) -> str:
        """The text built so far."""
        return "".join(self._parts)
