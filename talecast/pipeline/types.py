"""Data passed between pipeline stages.

Character offsets (``start_char``, ``end_char``) always index ``Document.text``,
half-open ``[start, end)``, as Python ``str`` indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Gender = Literal["male", "female", "unknown"]
NARRATOR = "Narrator"


@dataclass(frozen=True)
class Chapter:
    """One chapter: a title (or None) and its span of the document text."""

    title: str | None
    start_char: int
    end_char: int


@dataclass
class Document:
    """A decoded story: its whole text and the chapters that tile it."""

    text: str
    chapters: list[Chapter]
    title: str | None = None
    author: str | None = None
    source_format: str = "text"  # text, markdown, html, docx, epub, pdf
    cover_image: bytes | None = None
    cover_mime: str | None = None


@dataclass(frozen=True)
class Quote:
    """One pair of quotation marks: a span of dialogue.

    ``start_char``/``end_char`` include the quotation marks; ``text`` is the spoken
    words without them. ``group`` ties together the parts of one quotation interrupted
    by a tag (``"A," said she, "B."``): both parts share the group number.
    """

    start_char: int
    end_char: int
    text: str
    group: int
    paragraph: int  # index of the paragraph the quote opens in


@dataclass
class Character:
    """A character found in the story, with the names the text calls them by."""

    name: str  # the name the transcript uses, as the story prints it
    aliases: list[str] = field(default_factory=list)
    gender: Gender = "unknown"
    mentions: int = 0


@dataclass
class Utterance:
    """A quote with its speaker: the attribution stage's output."""

    quote: Quote
    speaker: str  # a Character.name, never an id like SPEAKER_0
    confidence: float  # 0..1
    method: str = ""  # how it was decided: "explicit", "pronoun", "turn-taking", ...


@dataclass
class Attribution:
    """Everything the attribution stage knows about a document."""

    characters: list[Character]
    utterances: list[Utterance]
    narrator_name: str | None = (
        None  # a first-person narrator's name, when the text gives it
    )
