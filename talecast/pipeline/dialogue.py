"""Find the dialogue in a story: every pair of quotation marks that holds speech.

Double quotes (straight or curly) are the usual convention; a story that writes
its dialogue in single quotes (British style, ``‘…’`` or ``'...'``) is recognised
by counting opening marks, and apostrophes (``don't``, ``'tis``, ``o'clock``,
``the boys' books``) are told apart from quotation marks by the letters around
them. Quotes inside quotes stay part of the outer quote. A quote left open at the
end of a paragraph (the convention for speech running over several paragraphs)
ends there, and the next paragraph's opening mark starts a new quote, so a long
speech becomes one quote per paragraph.

The scan is one pass over the quotation marks and paragraph breaks: linear in the text's
length, so even a single 50 MB line is handled in bounded time.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from talecast.pipeline.attribution.lexicon import SPEECH_VERBS
from talecast.pipeline.types import Quote

logger = logging.getLogger(__name__)

PARAGRAPH_BREAK = r"\n[ \t\r\f\v]*\n"
# Narration between two quotes of one paragraph up to this length joins them into one
# group (``"A," said she, "B."``).
MAX_GROUP_GAP_CHARS = 250
# Words (after an apostrophe) that make a leading apostrophe an elision, not a quote.
_ELISIONS = frozenset(
    "tis twas twere twill twould em im er ere un til till cause cos bout round "
    "n nt s t d ll re ve m o e neath gainst mid midst scuse ow appen".split()
)
# A bracketed aside inside a quote that narrates: "(smiling,)", "(turning to her)".
_ASIDE_RE = re.compile(
    r"\((?=(?:[a-z]+ing|[a-z]+ed|to|with|in|aside|after|then)\b)"
    r"[^()\"]{2,120}\)"
    r"[,.;:]?"
)
_MARKS = "\"'\u201c\u201d\u2018\u2019"
_DOUBLE_RE = re.compile(PARAGRAPH_BREAK + r'|["\u201c\u201d]')
_SINGLE_RE = re.compile(PARAGRAPH_BREAK + r"|['\u2018\u2019]")
_OPEN_BEFORE = frozenset(" \t\n\r([{\u2014\u2013-:;,\u2026*_")
_PUNCT_AFTER = frozenset('.,;:!?)]}\u2014\u2013-\u2026*_"\u201d')


@dataclass
class _Scan:
    """Mutable state of one pass over the quotation marks."""

    text: str
    start: int
    end: int
    paragraph: int = 0
    paragraph_start: int = 0
    open_at: int | None = None
    depth: int = 0
    quoted_in_paragraph: bool = False


def find_quotes(text: str, start: int = 0, end: int | None = None) -> list[Quote]:
    """Return the quotes of ``text[start:end]`` in text order, offsets into ``text``."""
    end = len(text) if end is None else min(end, len(text))
    start = max(0, start)
    if start >= end:
        return []

    single = _uses_single_quotes(text, start, end)
    spans = _scan(text, start, end, single)
    spans = [s for s in spans if not _is_scare_quote(text, s[0], s[1])]
    spans = [part for s in spans for part in _split_asides(text, s[0], s[1])]
    quotes = _group(text, spans)
    logger.debug(
        "dialogue: %d quotes found (%s quotation marks)",
        len(quotes),
        "single" if single else "double",
    )
    return quotes


def _uses_single_quotes(text: str, start: int, end: int) -> bool:
    """Decide whether the story marks dialogue with single rather than double quotes."""
    sample = text[start:end]
    doubles = sample.count('"') // 2 + sample.count("\u201c")
    singles = 0
    for m in re.finditer(r"['\u2018](?=[A-Za-z])", sample):
        if _is_single_opener(sample, m.start()):
            singles += 1
    return singles > doubles


def _is_single_opener(text: str, i: int) -> bool:
    """True when the single mark at ``i`` opens a quotation rather than an elision."""
    before = text[i - 1] if i > 0 else " "
    if before not in _OPEN_BEFORE and before not in '"\u201c':
        return False
    nxt = text[i + 1] if i + 1 < len(text) else " "
    if not (nxt.isalnum() or nxt in "\u2014-_.'\u2019"):
        return False
    word = re.match(r"[A-Za-z]*", text[i + 1 : i + 12])
    return word is None or word.group(0).lower() not in _ELISIONS


def _is_single_closer(text: str, i: int) -> bool:
    """True when the single mark at ``i`` can close a quotation (not ``don't``)."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if before.isspace() or after.isalnum():
        return False
    if before in ".,!?;:\u2014\u2013-\u2026_":
        return True
    # After a letter: a closing mark only when punctuation or the line's end follows;
    # "the boys' books" keeps its apostrophe.
    return after in _PUNCT_AFTER or after == "\n" or i + 1 >= len(text)


def _scan(text: str, start: int, end: int, single: bool) -> list[tuple[int, int]]:
    """Walk the quotation marks and paragraph breaks once; return quote spans."""
    st = _Scan(text, start, end, paragraph_start=start)
    spans: list[tuple[int, int]] = []
    pattern = _SINGLE_RE if single else _DOUBLE_RE
    for m in pattern.finditer(text, start, end):
        i = m.start()
        if m.end() - i > 1:
            _close_paragraph(st, i, spans)
            st.paragraph += 1
            st.paragraph_start = m.end()
            continue
        if single:
            _single_mark(st, i, spans)
        else:
            _double_mark(st, i, spans)
    _close_paragraph(st, end, spans)
    return spans


def _close_paragraph(st: _Scan, at: int, spans: list[tuple[int, int]]) -> None:
    """End an open quote at a paragraph break (speech continuing in the next one)."""
    if st.open_at is not None:
        stop = at
        while stop > st.open_at + 1 and st.text[stop - 1].isspace():
            stop -= 1
        spans.append((st.open_at, stop))
    st.open_at = None
    st.depth = 0
    st.quoted_in_paragraph = False


def _emit(st: _Scan, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    spans.append((a, b))
    st.open_at = None
    st.depth = 0
    st.quoted_in_paragraph = True


def _double_mark(st: _Scan, i: int, spans: list[tuple[int, int]]) -> None:
    """Handle one double quotation mark at ``i``."""
    ch = st.text[i]
    if ch == "\u201c":
        if st.open_at is None:
            st.open_at = i
        else:
            st.depth += 1
        return
    if ch == "\u201d":
        if st.open_at is None:
            _continuation(st, i, spans)
        elif st.depth:
            st.depth -= 1
        else:
            _emit(st, st.open_at, i + 1, spans)
        return
    if st.open_at is not None:
        _emit(st, st.open_at, i + 1, spans)
    elif _looks_like_closer(st.text, i) and not st.quoted_in_paragraph:
        _continuation(st, i, spans)
    else:
        st.open_at = i


def _single_mark(st: _Scan, i: int, spans: list[tuple[int, int]]) -> None:
    """Handle one single quotation mark (or apostrophe) at ``i``."""
    text = st.text
    if st.open_at is None:
        if text[i] != "\u2019" and _is_single_opener(text, i):
            st.open_at = i
        return
    if _is_single_opener(text, i) and text[i] == "\u2018":
        st.depth += 1
    elif _is_single_closer(text, i):
        if st.depth:
            st.depth -= 1
        else:
            _emit(st, st.open_at, i + 1, spans)


def _looks_like_closer(text: str, i: int) -> bool:
    """A straight double mark after a word and before a space or the line's end."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else "\n"
    return not before.isspace() and (after.isspace() or after in _PUNCT_AFTER)


def _continuation(st: _Scan, i: int, spans: list[tuple[int, int]]) -> None:
    """A closing mark with no opening one: speech carried over from the last paragraph.

    Only the first mark of a paragraph that begins without an opening mark counts.
    """
    a = st.paragraph_start
    while a < i and st.text[a].isspace():
        a += 1
    if st.quoted_in_paragraph or a >= i or i - a > 5000:
        return
    _emit(st, a, i + 1, spans)


# TODO(#2): quoted letters, titles and reported thoughts in quotation marks are still
# taken as dialogue (most of the remaining false positives on the dev set).
def _is_scare_quote(text: str, a: int, b: int) -> bool:
    """A quoted word, title or inscription rather than speech.

    A few words in capitals, not shouted (``"DRINK ME"``), are a label; a short
    quote in a sentence, after a word that is no speech verb, is a word mentioned.
    """
    inner = text[a + 1 : b - 1].strip()
    words = inner.split()
    shouted = inner.endswith(("!", "?"))
    if 2 <= len(words) <= 6 and not shouted and not any(c.islower() for c in inner):
        return sum(ch.isalpha() for ch in inner) >= 4
    before = text[max(0, a - 30) : a].split()
    if not before or not before[-1][-1].isalpha():
        return False
    if before[-1].lower() in SPEECH_VERBS:
        return False
    if len(words) <= 2 and inner[:1].islower():
        return True
    if len(words) > 3 or re.search(r"[.,!?;:\u2014\u2026-]$", inner):
        return False
    after = text[b : b + 1]
    return after.isalpha() or after == " "


def _split_asides(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Cut a quote around narrated stage directions in brackets.

    ``"Well, (smiling,) I hope so."`` is two pieces of speech around a piece of
    narration, which the narrator should read.
    """
    if "(" not in text[a:b]:
        return [(a, b)]
    parts: list[tuple[int, int]] = []
    cursor = a
    for m in _ASIDE_RE.finditer(text, a, b):
        if m.start() - cursor >= 2 and b - m.end() >= 2:
            parts.append((cursor, m.start()))
            cursor = m.end()
    parts.append((cursor, b))
    return [_trim(text, s, e) for s, e in parts]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    """Narrow a span so that it neither starts nor ends with white space."""
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _group(text: str, spans: list[tuple[int, int]]) -> list[Quote]:
    """Number paragraphs and tie quotes interrupted by a short tag into groups."""
    quotes: list[Quote] = []
    breaks = re.compile(PARAGRAPH_BREAK)
    paragraph = 0
    cursor = 0
    group = -1
    prev_end = -1
    for a, b in spans:
        gap_breaks = sum(1 for _ in breaks.finditer(text, cursor, a))
        paragraph += gap_breaks
        cursor = a
        same_paragraph = prev_end >= 0 and gap_breaks == 0
        if not (same_paragraph and a - prev_end <= MAX_GROUP_GAP_CHARS):
            group += 1
        lead = 1 if text[a] in _MARKS else 0
        inner = text[a + lead : b - 1] if _closed(text, a, b) else text[a + lead : b]
        quotes.append(Quote(a, b, inner.strip(), group, paragraph))
        prev_end = b
    return quotes


def _closed(text: str, a: int, b: int) -> bool:
    """True when the span ends with a quotation mark of its own."""
    return b - a >= 2 and text[b - 1] in _MARKS
