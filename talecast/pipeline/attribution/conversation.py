"""Conversations: runs of dialogue paragraphs, each paragraph one turn.

A conversation is a run of paragraphs with dialogue that no long stretch of narration,
chapter heading or scene break interrupts; turn-taking (:mod:`.sequence`) works inside
one conversation and starts afresh in the next.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from talecast.pipeline.attribution.tags import Tag

# Narration longer than this between two dialogue paragraphs ends a conversation.
MAX_NARRATION_GAP_CHARS = 350
SCENE_BREAK = re.compile(
    r"\n\s*(?:CHAPTER|Chapter|BOOK|Book|PART|Part|VOLUME|Volume)\b|"
    r"\n\s*(?:\*\s*){3,}|\n\s*(?:-\s*){5,}|\n\s*#{1,6}\s"
)


@dataclass
class Turn:
    """One paragraph holding dialogue."""

    paragraph: int
    start: int  # offset where the paragraph starts
    end: int  # offset where it ends
    quotes: list[int]  # indices into the quote list
    speaker: int | None = None
    confidence: float = 0.0
    method: str = ""
    vocatives: list[int] = field(default_factory=list)
    spoken_of: list[int] = field(default_factory=list)  # named in the line, not called
    actor: int | None = None
    gender_hint: str = "unknown"  # the gender a pronoun or description tag gives
    continues: bool = False  # the tag's verb says the last speaker goes on
    aside: bool = False  # the tag says the line is said to oneself
    thought: bool = False  # the tag says the line is thought, not said
    replies: bool = False  # the tag's verb says someone answers the last speaker
    pick: int | None = None  # the person a pronoun, relation or description tag means
    pick_method: str = ""  # "pronoun", "relation" or "description"
    pick_confidence: float = 0.0
    tags: list[tuple[int, Tag]] = field(default_factory=list)  # (quote index, tag)
    kin: list[str] = field(default_factory=list)  # kinship words used as names
    own_kin: list[str] = field(default_factory=list)  # "my mother": the speaker's own
    addressee_gender: str = "unknown"  # from "sir" or "madam" in the line
    after_narration: bool = False  # a paragraph of narration separates it from the last
    scene_actor: int | None = None  # subject of that narration paragraph
    responder: int | None = None  # that subject, when the narration gives their answer
    asked: int | None = None  # asked a question in the narration before: answers
    scene_start: int = 0  # offset just after the last scene break before it


def split_conversations(text: str, turns: list[Turn]) -> list[list[Turn]]:
    """Cut the turns where narration or a scene break separates them, and note
    where each conversation's scene begins."""
    out: list[list[Turn]] = []
    current: list[Turn] = []
    for turn in turns:
        if current:
            gap = text[current[-1].end : turn.start]
            if len(gap.strip()) > MAX_NARRATION_GAP_CHARS or SCENE_BREAK.search(gap):
                out.append(current)
                current = []
            else:
                turn.after_narration = bool(gap.strip())
        current.append(turn)
    if current:
        out.append(current)
    breaks = [m.end() for m in SCENE_BREAK.finditer(text)]
    for conversation in out:
        k = bisect.bisect_right(breaks, conversation[0].start) - 1
        for turn in conversation:
            turn.scene_start = breaks[k] if k >= 0 else 0
    return out
