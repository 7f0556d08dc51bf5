"""Conversations: runs of dialogue paragraphs, and who speaks the untagged ones.

A conversation is a run of paragraphs with dialogue that no long stretch of narration,
chapter heading or scene break interrupts. Inside one, speakers take turns paragraph by
paragraph: a line nobody is named for goes to the person addressed by name in the line
before (``"My dear Mr. Bennet," …`` → his reply), else to the speaker two turns back
when the last two turns were different people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Narration longer than this between two dialogue paragraphs ends a conversation.
MAX_NARRATION_GAP_CHARS = 350
SCENE_BREAK = re.compile(
    r"\n\s*(?:CHAPTER|Chapter|BOOK|Book|PART|Part|VOLUME|Volume)\b|"
    r"\n\s*(?:\*\s*){3,}|\n\s*(?:-\s*){5,}|\n\s*#{1,6}\s"
)

CONFIDENCE = {
    "explicit": 0.95,
    "addressee": 0.65,
    "turn-taking": 0.6,
    "narration": 0.55,
    "reply": 0.45,
    "turn-taking-back": 0.5,
    "recent": 0.3,
    "fallback": 0.1,
}


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
    actor: int | None = None
    gender_hint: str = "unknown"  # the gender a pronoun or description tag gives
    continues: bool = False  # the tag's verb says the last speaker goes on


def split_conversations(text: str, turns: list[Turn]) -> list[list[Turn]]:
    """Cut the turns where narration or a scene break separates them."""
    out: list[list[Turn]] = []
    current: list[Turn] = []
    for turn in turns:
        if current:
            gap = text[current[-1].end : turn.start]
            if len(gap.strip()) > MAX_NARRATION_GAP_CHARS or SCENE_BREAK.search(gap):
                out.append(current)
                current = []
        current.append(turn)
    if current:
        out.append(current)
    return out


# TODO(#5): turn-taking assumes two people; conversations of three or more lose
# accuracy (about 57 % of turn-taking guesses right on the dev set).
def fill(conversation: list[Turn], people_gender: dict[int, str]) -> None:
    """Give untagged turns a speaker from turn-taking and addressees, in place."""
    changed = True
    while changed:
        changed = False
        for k, turn in enumerate(conversation):
            if turn.speaker is None:
                guess = _guess(conversation, k, people_gender)
                if guess is not None:
                    turn.speaker, turn.method = guess
                    turn.confidence = CONFIDENCE[turn.method]
                    changed = True


def _speaker(conv: list[Turn], k: int) -> int | None:
    return conv[k].speaker if 0 <= k < len(conv) else None


def _fits(pid: int, turn: Turn, genders: dict[int, str]) -> bool:
    return turn.gender_hint == "unknown" or genders.get(pid) == turn.gender_hint


def _guess(
    conv: list[Turn], k: int, genders: dict[int, str]
) -> tuple[int, str] | None:
    """The best-supported speaker for turn ``k`` from its neighbours, or None."""
    turn = conv[k]
    prev1, prev2 = _speaker(conv, k - 1), _speaker(conv, k - 2)
    next1, next2 = _speaker(conv, k + 1), _speaker(conv, k + 2)

    if k > 0 and prev1 is not None:
        for pid in conv[k - 1].vocatives:
            if pid != prev1 and _fits(pid, turn, genders):
                return pid, "addressee"
    if prev1 is not None and prev2 is not None and prev1 != prev2:
        if _fits(prev2, turn, genders):
            return prev2, "turn-taking"
    if next1 is not None and next2 is not None and next1 != next2:
        if _fits(next2, turn, genders):
            return next2, "turn-taking-back"
    if k + 1 < len(conv) and next1 is not None:
        for pid in conv[k + 1].vocatives:
            if pid != next1 and _fits(pid, turn, genders):
                return pid, "reply"
    return None


def fill_rest(
    conversation: list[Turn], recent: dict[int, list[int]], genders: dict[int, str]
) -> None:
    """Last resort for turns still without a speaker: someone recently named."""
    for k, turn in enumerate(conversation):
        if turn.speaker is not None:
            continue
        neighbours = {_speaker(conversation, k - 1), _speaker(conversation, k + 1)}
        candidates = recent.get(k, [])
        choice = next(
            (p for p in candidates if p not in neighbours and _fits(p, turn, genders)),
            None,
        )
        if choice is None and candidates:
            choice = candidates[0]
        if choice is not None:
            turn.speaker, turn.method = choice, "recent"
            turn.confidence = CONFIDENCE["recent"]
