"""Plain text: decoding the bytes and finding chapter headings on their own lines.

Plain text is never normalised: ``Document.text`` is the decoded file, character for
character (line endings included), so offsets into it are offsets into the file.
"""

from __future__ import annotations

import codecs
import logging
import re

import charset_normalizer

from talecast.errors import StoryDecodeError
from talecast.pipeline.formats.common import Mark

logger = logging.getLogger(__name__)

# Byte-order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAMPLE_BYTES = 64 * 1024
_ASCII_BYTES = bytes(range(128))
_WESTERN_MAX_HIGH_SHARE = 0.3
_WESTERN_PUNCTUATION = frozenset(
    "\u2018\u2019\u201c\u201d\u2013\u2014\u2026«»‹›·§°£€¡¿\xa0"
)
_MAX_HEADING_CHARS = 90
_MAX_SUBTITLE_CHARS = 70

_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen"
    r"|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty"
    r"|fifty|sixty|seventy|eighty|ninety|hundred)"
)
_ORDINAL_WORDS = (
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh"
    r"|twelfth|last|final)"
)
_NUMERAL = (
    rf"(?:\d{{1,4}}|[ivxlcdm]{{1,9}}\b|{_NUMBER_WORDS}(?:[- ]{_NUMBER_WORDS})?\b"
    rf"|(?:the[ \t]+)?{_ORDINAL_WORDS}\b)"
)
# A numbered heading: CHAPTER IV, Chapter 12. The Ball, PART ONE, VOLUME I.
_NUMBERED_RE = re.compile(
    rf"^[ \t]{{0,12}}(?P<kw>chapter|part|book|volume)[ \t]+(?P<num>{_NUMERAL})"
    r"(?P<rest>[^\r\n]{0,80})\r?$",
    re.IGNORECASE | re.MULTILINE,
)
# A named section: PROLOGUE, THE PREFACE, Epilogue: Ten Years Later.
_NAMED_RE = re.compile(
    r"^[ \t]{0,12}(?P<kw>(?:the[ \t]+)?(?:prologue|epilogue|preface|introduction"
    r"|foreword|afterword|interlude))(?P<rest>[^\r\n]{0,60})\r?$",
    re.IGNORECASE | re.MULTILINE,
)
_GROUP_KEYWORDS = {"part", "book", "volume"}
_NUMBERED_KEYWORDS = "|".join(
    word
    for base in ("chapter", "part", "book", "volume")
    for word in (base.upper(), base.title())
)
_NAMED_KEYWORDS = "|".join(
    word
    for base in (
        "prologue epilogue preface introduction foreword afterword interlude".split()
    )
    for word in (base.upper(), base.title())
)
# Cheap first pass: a heading keyword in capitals or title case, anywhere. A pattern
# that starts with literal words is scanned fast by the regex engine, so the pass
# stays linear and quick on huge inputs; each hit is then checked in Python.
_KEYWORD_RE = re.compile(rf"(?:{_NUMBERED_KEYWORDS}|{_NAMED_KEYWORDS})")
_MAX_INDENT = 16
_MAX_CANDIDATES = 50_000
GUTENBERG_LICENCE_TITLE = "Project Gutenberg licence"
_GUTENBERG_END_MARKERS = (
    "END OF THE PROJECT GUTENBERG EBOOK",
    "END OF THIS PROJECT GUTENBERG EBOOK",
    "End of the Project Gutenberg EBook",
    "End of Project Gutenberg's",
)
_MAX_HEADINGS = 10_000
_SEPARATOR_RE = re.compile(r"^[ \t]*[.:\-–—][ \t]*")


def decode_text(data: bytes) -> str:
    """Decode story bytes: a BOM first, then UTF-8, then a detected legacy encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict_decode(data[len(bom) :], encoding, "its byte-order mark")

    bare_utf16 = _utf16_without_bom(data[:_SAMPLE_BYTES])
    if bare_utf16:
        return _strict_decode(data, bare_utf16, "its byte pattern")

    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        _refuse_broken_utf8(data, exc)
        logger.debug("reading: not UTF-8 (%s), detecting the encoding", exc.reason)

    western = _western_text(data)
    if western is not None:
        logger.debug("reading: text decoded as cp1252")
        return western
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding and best.coherence > 0:
        logger.debug("reading: text detected as %s (%s)", best.encoding, best.language)
        return _strict_decode(data, best.encoding, "charset detection")
    raise StoryDecodeError(
        "the story is neither UTF-8 nor a recognisable legacy encoding (its bytes "
        "read as no known language in any encoding tried); save the file as UTF-8 "
        "and upload it again"
    )


def _refuse_broken_utf8(data: bytes, error: UnicodeDecodeError) -> None:
    """Raise StoryDecodeError for UTF-8 text spoiled by a few invalid bytes."""
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid_multibyte = len(data) - len(text)  # extra bytes of well-formed characters
    if valid_multibyte > invalid:
        raise StoryDecodeError(
            f"the story is UTF-8 except for {invalid} invalid byte sequence(s), the "
            f"first at byte offset {error.start} ({data[error.start]:#04x}); fix "
            "those bytes or save the file as UTF-8 again"
        )


def _western_text(data: bytes) -> str | None:
    """Decode mostly-ASCII bytes as Windows-1252 if that gives plausible prose.

    Latin-script stories have few bytes over 127, and in Windows-1252 those read as
    accented letters or typographic punctuation; Polish or Czech text read this way
    shows symbols like ``³`` or ``¹`` instead, and goes to charset detection.
    """
    high_bytes = len(data.translate(None, _ASCII_BYTES))
    if high_bytes > len(data) * _WESTERN_MAX_HIGH_SHARE:
        return None
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    for char in {c for c in text if c > "\x7f"}:
        if not (char.isalpha() or char in _WESTERN_PUNCTUATION):
            return None
    return text


def looks_binary(sample: str) -> bool:
    """Tell whether decoded text is mostly control characters (binary data)."""
    if not sample:
        return False
    controls = sum(
        1
        for char in sample
        if (char < " " and char not in "\t\n\r\f\v") or char == "\x7f"
    )
    return controls > max(2, len(sample) // 100)


def find_text_chapters(text: str) -> list[Mark]:
    """Find chapter headings that stand on their own line in plain text."""
    marks: list[Mark] = []
    last_start = -1
    for seen, match in enumerate(_KEYWORD_RE.finditer(text)):
        if len(marks) >= _MAX_HEADINGS or seen >= _MAX_CANDIDATES:
            # TODO(#2): a file with this many heading words is a list, not a book;
            # the headings past the cap stay inside the last chapter.
            logger.warning("reading: too many heading-like words, chapter search ended")
            break
        start = _heading_line_start(text, match.start())
        if start is None or start == last_start:
            continue
        mark = _mark_at(text, start)
        if mark is not None:
            marks.append(mark)
            last_start = start
    licence = _gutenberg_licence_mark(text)
    if licence is not None:
        marks = [mark for mark in marks if mark.start < licence.start] + [licence]
    return marks


def _gutenberg_licence_mark(text: str) -> Mark | None:
    """The Project Gutenberg licence after a story's end, as a chapter of its own."""
    found = max(text.rfind(marker) for marker in _GUTENBERG_END_MARKERS)
    if found < 0:
        return None
    line_start = text.rfind("\n", 0, found) + 1
    if text[line_start:found].strip(" \t*"):
        return None
    return Mark(line_start, GUTENBERG_LICENCE_TITLE, line_start)


def _heading_line_start(text: str, keyword_start: int) -> int | None:
    """Where the keyword's line starts, if only blanks (or "The") come before it."""
    window = max(0, keyword_start - _MAX_INDENT)
    newline = text.rfind("\n", window, keyword_start)
    if newline < 0 and window > 0:
        return None
    line_start = newline + 1
    if text[line_start:keyword_start].strip(" \t") in ("", "THE", "The"):
        return line_start
    return None


def _mark_at(text: str, start: int) -> Mark | None:
    numbered = _NUMBERED_RE.match(text, start)
    if numbered:
        return _numbered_mark(text, numbered)
    named = _NAMED_RE.match(text, start)
    if not named or not _stands_alone(text, named.start(), named.end()):
        return None
    if not _title_rest_ok(named["rest"], numbered=False):
        return None
    return Mark(named.start(), _clean_title(named[0]), named.end())


def _numbered_mark(text: str, match: re.Match[str]) -> Mark | None:
    keyword, rest = match["kw"], match["rest"]
    if not (keyword.isupper() or keyword.istitle()):
        return None
    if not _title_rest_ok(rest, numbered=True):
        return None
    if not _stands_alone(text, match.start(), match.end()):
        return None

    title = _clean_title(text[match.start() : match.end()])
    body_start = match.end()
    subtitle = _subtitle_after(text, match.end()) if not rest.strip(" .:\t") else None
    if subtitle:
        sub_text, body_start = subtitle
        title = f"{title.rstrip('.:')}. {sub_text}"
    return Mark(match.start(), title, body_start, keyword.lower() in _GROUP_KEYWORDS)


def _title_rest_ok(rest: str, *, numbered: bool) -> bool:
    """Accept "", ".", ". The Ball", ": Title" or " The Ball"; refuse prose."""
    stripped = rest.strip()
    if not stripped:
        return True
    separator = _SEPARATOR_RE.match(rest)
    words = rest[separator.end() :] if separator else rest
    words = words.strip()
    if not words:
        return True
    if not separator and (not numbered or not rest[:1].isspace()):
        return False
    if len(words) > _MAX_SUBTITLE_CHARS or words[-1] in ",;":
        return False
    first = words.lstrip("\"'“‘(")[:1]
    return first.isupper() or first.isdigit() or (separator is not None and first == "")


def _stands_alone(text: str, start: int, end: int) -> bool:
    """A heading has a blank line (or another heading) above it and is short."""
    if end - start > _MAX_HEADING_CHARS:
        return False
    if start == 0:
        return True
    line_start = text.rfind("\n", 0, start - 1) + 1
    previous = text[line_start : start - 1]
    if not previous.strip():
        return True
    return bool(_NUMBERED_RE.fullmatch(previous.rstrip("\r")))


def _subtitle_after(text: str, end: int) -> tuple[str, int] | None:
    """A short title line right under the heading (or after one blank line)."""
    cursor = end
    for _blank_lines_allowed in range(2):
        if text.startswith("\r\n", cursor):
            cursor += 2
        elif text.startswith("\n", cursor):
            cursor += 1
        else:
            return None
        line_end = text.find("\n", cursor)
        line_end = len(text) if line_end < 0 else line_end
        line = text[cursor:line_end].strip()
        if line:
            return _subtitle_line(text, line, line_end)
        cursor = line_end
    return None


def _subtitle_line(text: str, line: str, line_end: int) -> tuple[str, int] | None:
    next_end = text.find("\n", line_end + 1)
    following = text[line_end + 1 : next_end if next_end >= 0 else len(text)]
    if following.strip():
        return None  # the line runs on into a paragraph: prose, not a title
    if len(line) > _MAX_SUBTITLE_CHARS or not line[:1].isupper():
        return None
    if line[-1] in ".,;:!?\"'”’" or any(q in line for q in '"“”'):
        return None
    return line, line_end


def _clean_title(raw: str) -> str:
    return " ".join(raw.split())


def _strict_decode(data: bytes, encoding: str, source: str) -> str:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise StoryDecodeError(
            f"the story is marked as {encoding} by {source} but is not valid "
            f"{encoding} ({exc}); save the file as UTF-8 and upload it again"
        ) from exc


def _utf16_without_bom(sample: bytes) -> str | None:
    """Spot UTF-16 text without a byte-order mark by its NUL byte pattern."""
    if len(sample) < 8 or b"\x00" not in sample:
        return None
    even_nuls = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd_nuls = sample[1::2].count(0) / max(1, len(sample[1::2]))
    if odd_nuls > 0.4 and even_nuls < 0.02:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.02:
        return "utf-16-be"
    return None
