"""Turn a document and its attribution into the ordered lines a story is read as.

Every stretch of the text becomes one ``Line``: a chapter heading, a sentence of
narration, or one quote with its speaker. Lines carry the pause that goes before them,
so assembly needs no knowledge of the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from talecast.pipeline.attribution.lexicon import SPEECH_VERBS
from talecast.pipeline.attribution.tags import NAME_PATTERN
from talecast.pipeline.types import NARRATOR, Attribution, Chapter, Document, Utterance

# Pauses before a line, in milliseconds.
PAUSE_SENTENCE_MS = 280
PAUSE_CLAUSE_MS = 120  # between a quote and the tag in the same sentence
PAUSE_PARAGRAPH_MS = 650
PAUSE_SPEAKER_CHANGE_MS = 180  # added on top when the voice changes
PAUSE_CHAPTER_MS = 1800
PAUSE_AFTER_HEADING_MS = 900

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
_SPACES = re.compile(r"\s+")
_HAS_WORD = re.compile(r"\w")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr mt ft col gen capt lt sgt rev prof hon messrs mme mlle"
    " no vol ch fig etc vs".split()
)
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]\u201d\u2019]*\s+")

# A narration line that is only a speech tag: "said Martha.", "Tom replied quietly,",
# "asked the old man." (thoughts stay: "thought Ann" says more than who).
_TAG_VERBS = "|".join(
    sorted(SPEECH_VERBS - {"thought", "thinks", "wondered", "wonders", "softly"})
)
_TAG_SUBJECT = (
    rf"(?:{NAME_PATTERN}|he|she|I|we|they|He|She|We|They"
    r"|(?:the|his|her|my|The|His|Her|My)(?:\s+[a-z][a-z'-]+){1,2})"
)
_TAG_VERB = rf"(?:{_TAG_VERBS})(?:\s+(?:on|in|out|up|back))?"
_BARE_TAG = re.compile(
    rf"^(?:{_TAG_VERB}\s+{_TAG_SUBJECT}|{_TAG_SUBJECT}\s+{_TAG_VERB})"
    r"(?:\s+(?:\w+ly|again|then|at\s+last))?\s*[.,;:!?\u2014-]*$"
)


@dataclass
class Line:
    """One unit of speech: what is said, by whom, and the pause before it."""

    kind: str  # "heading", "narration" or "dialogue"
    speaker: str  # NARRATOR or a character's name
    text: str  # as the story prints it, whitespace collapsed
    start_char: int
    end_char: int
    chapter: int
    pause_before_ms: int
    confidence: float = 1.0
    voice_id: int = 0  # set by casting
    method: str = ""  # how the speaker of a dialogue line was decided


def plan_lines(
    document: Document, attribution: Attribution, dropped: list[Line] | None = None
) -> list[Line]:
    """Split the whole document into lines in reading order.

    With ``dropped`` (full-cast mode), narration lines that are nothing but a speech
    tag (``said Martha.``, ``Tom replied,``) are left out, since a distinct voice
    already says who speaks, and collected there.
    """
    utterances = sorted(attribution.utterances, key=lambda u: u.quote.start_char)
    lines: list[Line] = []
    cursor = 0
    for index, chapter in enumerate(document.chapters):
        chapter_utts, cursor = _utterances_within(utterances, cursor, chapter)
        lines.extend(_chapter_lines(document.text, chapter, index, chapter_utts))
    if dropped is not None:
        bare = {i for i in range(len(lines)) if _bare_tag(lines, i)}
        dropped.extend(lines[i] for i in sorted(bare))
        lines = [ln for i, ln in enumerate(lines) if i not in bare]
    _add_speaker_change_pauses(lines)
    return lines


def _bare_tag(lines: list[Line], i: int) -> bool:
    """Line i is narration saying only who speaks the quote beside it."""
    line = lines[i]
    if line.kind != "narration" or not _BARE_TAG.match(line.text):
        return False
    before = lines[i - 1] if i else None
    after = lines[i + 1] if i + 1 < len(lines) else None
    follows_quote = (
        before is not None
        and before.kind == "dialogue"
        and line.pause_before_ms < PAUSE_SENTENCE_MS  # same sentence as the quote
    )
    leads_quote = (
        after is not None
        and after.kind == "dialogue"
        and line.text.rstrip().endswith((",", ":"))
        and after.pause_before_ms < PAUSE_PARAGRAPH_MS
    )
    return follows_quote or leads_quote


def _utterances_within(
    utterances: list[Utterance], cursor: int, chapter: Chapter
) -> tuple[list[Utterance], int]:
    found = []
    while (
        cursor < len(utterances)
        and utterances[cursor].quote.start_char < chapter.end_char
    ):
        if utterances[cursor].quote.start_char >= chapter.start_char:
            found.append(utterances[cursor])
        cursor += 1
    return found, cursor


def _chapter_lines(
    text: str, chapter: Chapter, index: int, utterances: list[Utterance]
) -> Iterator[Line]:
    start = chapter.start_char
    first_pause = PAUSE_CHAPTER_MS if index > 0 else 0
    heading = heading_span(text, chapter)
    if chapter.title:
        # Text printed before the heading (a book's title above its first chapter's)
        # is read first, as narration.
        head_start, head_end = heading or (start, start)
        before = [u for u in utterances if u.quote.start_char < head_start]
        utterances = utterances[len(before) :]
        for line in _body_lines(text, start, head_start, index, before):
            line.pause_before_ms = max(line.pause_before_ms, first_pause)
            first_pause = PAUSE_AFTER_HEADING_MS
            yield line
        title = _collapse(chapter.title)
        yield Line("heading", NARRATOR, title, head_start, head_end, index, first_pause)
        first_pause = PAUSE_AFTER_HEADING_MS
        start = head_end

    pending_pause = first_pause
    for line in _body_lines(text, start, chapter.end_char, index, utterances):
        if pending_pause:
            line.pause_before_ms = max(line.pause_before_ms, pending_pause)
            pending_pause = 0
        yield line


def heading_span(text: str, chapter: Chapter) -> tuple[int, int] | None:
    """Where the chapter's title is printed, when it opens one of the chapter's first
    lines (within a few hundred characters of its start)."""
    if not chapter.title:
        return None
    head_start = chapter.start_char
    head = text[
        head_start : min(chapter.end_char, head_start + len(chapter.title) + 400)
    ]
    words = chapter.title.split()
    pattern = (
        r"^[^\S\n]*" + r"\W*\s*".join(re.escape(w) for w in words) + r"[^\S\n]*[.:]?"
    )
    found = re.search(pattern, head, flags=re.IGNORECASE | re.MULTILINE)
    return (head_start + found.start(), head_start + found.end()) if found else None


def _body_lines(
    text: str, start: int, end: int, chapter: int, utterances: list[Utterance]
) -> Iterator[Line]:
    """Narration sentences and quotes between ``start`` and ``end``, in order."""
    pos = start
    pause = 0
    for utt in utterances:
        q = utt.quote
        if q.start_char < pos:  # overlapping quote: keep the first
            continue
        gap_start = pos
        for line in _narration_lines(text, pos, q.start_char, chapter, pause):
            yield line
            pause = 0
            gap_start = line.start_char  # the quote follows on from this line
        pause = _gap_pause(text, gap_start, q.start_char, pause)
        spoken = _collapse(q.text)
        if _HAS_WORD.search(spoken):
            yield Line(
                "dialogue",
                utt.speaker,
                spoken,
                q.start_char,
                q.end_char,
                chapter,
                pause,
                confidence=utt.confidence,
                method=utt.method,
            )
            pause = 0
        pos = q.end_char
    yield from _narration_lines(text, pos, end, chapter, pause)


def _narration_lines(
    text: str, start: int, end: int, chapter: int, pause: int
) -> Iterator[Line]:
    for para_start, para_end, breaks_before in _paragraphs(text, start, end):
        if breaks_before:
            pause = PAUSE_PARAGRAPH_MS
        for s_start, s_end in _sentences(text, para_start, para_end):
            sentence = _collapse(text[s_start:s_end])
            if not _HAS_WORD.search(sentence):
                continue
            yield Line(
                "narration",
                NARRATOR,
                sentence,
                s_start,
                s_end,
                chapter,
                pause or PAUSE_CLAUSE_MS,
            )
            pause = PAUSE_SENTENCE_MS


def _gap_pause(text: str, start: int, end: int, pause: int) -> int:
    """The pause before a quote, given the text between the last line and it."""
    gap = text[start:end]
    if _PARAGRAPH_BREAK.search(gap):
        return PAUSE_PARAGRAPH_MS
    if pause:
        return pause
    return PAUSE_SENTENCE_MS if re.search(r"[.!?]\s*$", gap) else PAUSE_CLAUSE_MS


def _paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int, bool]]:
    """(start, end, follows a paragraph break) for each paragraph piece of a span."""
    pos = start
    breaks_before = False
    for match in _PARAGRAPH_BREAK.finditer(text, start, end):
        if match.start() > pos:
            yield pos, match.start(), breaks_before
        breaks_before = True
        pos = match.end()
    if pos < end:
        yield pos, end, breaks_before


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for match in _SENTENCE_END.finditer(text, start, end):
        if _ends_with_abbreviation(text, pos, match.start()):
            continue
        yield pos, match.end()
        pos = match.end()
    if pos < end:
        yield pos, end


def _ends_with_abbreviation(text: str, start: int, dot: int) -> bool:
    word = re.search(r"(\w+)$", text[max(start, dot - 12) : dot])
    if not word or text[dot] != ".":
        return False
    token = word.group(1)
    return token.lower() in _ABBREVIATIONS or (len(token) == 1 and token.isupper())


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _add_speaker_change_pauses(lines: list[Line]) -> None:
    for previous, line in zip(lines, lines[1:], strict=False):
        if line.speaker != previous.speaker and line.pause_before_ms < PAUSE_CHAPTER_MS:
            line.pause_before_ms += PAUSE_SPEAKER_CHANGE_MS
