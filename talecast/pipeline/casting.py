"""Give the narrator and every character a voice for the whole story.

Rules, in order of strength: each character keeps one voice; no character shares the
narrator's voice; characters who talk to each other never share a voice; a character's
voice matches their gender where it is known; the most talkative characters are cast
first so they get the most distinct voices. The same story always gets the same cast:
every choice is ordered by line counts, then names, never by chance or by set order.

Voices a person pinned (corrections) are given first and never changed; everyone else is
cast around them by the same rules.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from talecast.pipeline.script import Line
from talecast.pipeline.types import NARRATOR, Character
from talecast.pipeline.voices import Voice, default_narrator, get_voice, list_voices

logger = logging.getLogger(__name__)

# Characters whose lines are at most this many lines apart are taken to be talking.
CONVERSATION_WINDOW_LINES = 4


@dataclass(frozen=True)
class CastEntry:
    """One speaker's voice and how much they say."""

    voice_id: int
    gender: str
    lines: int


def cast_voices(
    lines: list[Line],
    characters: list[Character],
    *,
    narrator_voice_id: int | None = None,
    profile: str = "neural",
    pinned: Mapping[str, int] | None = None,
) -> dict[str, CastEntry]:
    """Choose a voice per speaker and write it into every line's ``voice_id``.

    ``pinned`` maps speakers (``Narrator`` too) to the voice ids they must have.
    """
    pinned = dict(pinned or {})
    if NARRATOR in pinned:
        narrator_voice_id = pinned.pop(NARRATOR)
    narrator = (
        get_voice(narrator_voice_id) if narrator_voice_id else default_narrator(profile)
    )
    genders = {c.name: c.gender for c in characters}
    counts = Counter(line.speaker for line in lines if line.speaker != NARRATOR)
    partners = _conversation_partners(lines)
    pool = [v for v in list_voices() if profile in v.profiles and v.id != narrator.id]

    cast = {
        NARRATOR: CastEntry(
            narrator.id,
            narrator.gender,
            sum(1 for ln in lines if ln.speaker == NARRATOR),
        )
    }
    uses: Counter[int] = Counter()
    for name in sorted(counts, key=lambda n: (n not in pinned, -counts[n], n)):
        gender = genders.get(name, "unknown")
        if name in pinned:
            voice = get_voice(pinned[name])
            uses[voice.id] += 1
            cast[name] = CastEntry(voice.id, gender, counts[name])
            continue
        taken = {cast[p].voice_id for p in partners[name] if p in cast}
        voice = _choose(name, gender, pool, taken, uses)
        uses[voice.id] += 1
        cast[name] = CastEntry(voice.id, gender, counts[name])

    for line in lines:
        line.voice_id = cast[line.speaker].voice_id
    logger.debug("casting: %d speakers on %d voices", len(cast), len(set(uses)) + 1)
    return cast


def _conversation_partners(lines: list[Line]) -> dict[str, set[str]]:
    partners: dict[str, set[str]] = defaultdict(set)
    recent: list[tuple[int, str, int]] = []  # (line index, speaker, chapter)
    for index, line in enumerate(lines):
        if line.kind != "dialogue" or line.speaker == NARRATOR:
            continue
        recent = [
            r
            for r in recent
            if index - r[0] <= CONVERSATION_WINDOW_LINES and r[2] == line.chapter
        ]
        for _, other, _ in recent:
            if other != line.speaker:
                partners[line.speaker].add(other)
                partners[other].add(line.speaker)
        recent.append((index, line.speaker, line.chapter))
    return partners


def _choose(
    name: str, gender: str, pool: list[Voice], taken: set[int], uses: Counter[int]
) -> Voice:
    """The least used fitting voice; ties broken by a hash of the name."""
    fitting = [v for v in pool if gender == "unknown" or v.gender == gender] or pool
    free = [v for v in fitting if v.id not in taken]
    if not free:
        free = [v for v in pool if v.id not in taken]
        if free:
            logger.debug("casting: %s gets a voice of another gender", name)
    if not free:
        # TODO(#2): more conversation partners than voices; blends could widen the pool.
        logger.warning("casting: %s shares a voice with a conversation partner", name)
        free = fitting
    salt = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    return min(free, key=lambda v: (uses[v.id], (v.id * 2654435761 + salt) % 1000003))
