"""Turn what a tag says (a name, ``she``, ``her mother``) into one person."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace

from talecast.pipeline.attribution.cast import Cast, norm
from talecast.pipeline.attribution.lexicon import (
    FAMILY_RELATIONS,
    HONORIFICS,
    NOT_NAMES,
)
from talecast.pipeline.attribution.names import GIVEN_NAME_GENDER
from talecast.pipeline.attribution.tags import OBJECT_PREPOSITIONS

logger = logging.getLogger(__name__)

# How far back a pronoun looks for the person it stands for, in characters.
PRONOUN_REACH_CHARS = 2500
# A mention this close before a tag counts as near, in characters.
NEAR_CHARS = 600
# Weight of being the last person of the pronoun's gender named before it.
NEAREST = 1.0
# Penalty for being the named speaker of the next paragraph.
FOLLOWING = 1.5
# Weight of having been called by name in the line before.
ADDRESSED = 2.5
# Weight of a mention opening a clause; a name after a preposition loses as much.
SUBJECT = 0.5
# Weight of being a main character (share of all mentions) when resolving.
PROMINENCE = 1.5
# A relative the narration names through a pronoun: "her father", "his elder son"
# (not "son-in-law", whose family name differs).
_RELATIVE = re.compile(
    r"\b(?P<owner>[Hh]is|[Hh]er)\s+"
    r"(?:(?:eldest|youngest|elder|younger|own|dear|poor|good|little)\s+)?"
    r"(?P<head>" + "|".join(FAMILY_RELATIONS) + r")\b(?![-'\u2019])"
)


def resolve_name(cast: Cast, words: str, create: bool = True) -> int | None:
    """The person a printed name means.

    With ``create``, a name the cast lacks joins it unless it looks like an ordinary
    word (``Suddenly``).
    """
    pid = cast.lookup(words)
    if pid is not None:
        return pid
    parts = words.split()
    if len(parts) > 1:
        for part in (parts[-1], parts[0]):
            pid = cast.lookup(part)
            if pid is not None and norm(part) not in {"the", "a", "an"}:
                return pid
    if not create or not _looks_like_a_name(parts):
        return None
    return cast.add_unknown(words)


def _looks_like_a_name(parts: list[str]) -> bool:
    first = parts[0].rstrip(".").lower()
    if first in HONORIFICS or first in ("the", "a", "an"):
        return len(parts) > 1
    if len(parts) > 1 or first in GIVEN_NAME_GENDER:
        return True
    return first not in NOT_NAMES and not first.endswith(("ly", "ing"))


@dataclass(frozen=True)
class Context:
    """Who the surrounding turns of a conversation already name as speakers."""

    paragraph_start: int  # offset where the tag's paragraph starts
    previous: int | None = None  # speaker of the turn before
    before_previous: int | None = None  # speaker two turns back
    participants: list[int] = field(default_factory=list)  # nearest speakers first
    continues: bool = False  # the verb says the last speaker goes on ("he added")
    addressees: tuple[int, ...] = ()  # people the line itself calls by name
    addressed: tuple[int, ...] = ()  # people the line before called by name
    replies: bool = False  # the verb says someone answers the last speaker
    inward: bool = False  # thought or said to oneself: no turn of the exchange
    after_narration: bool = False  # a narration paragraph parts it from the last turn
    following: int | None = None  # the named speaker of the turn after
    scene_start: int = 0  # where the scene begins: no antecedent lies before it
    # (position, person) of relatives the narration names through a pronoun
    relatives: tuple[tuple[int, int], ...] = ()


# TODO(#5): with several people of one sex named nearby, he/she is settled by recency
# and salience alone (about 77 % right): pronouns in the narration are not chained to
# their antecedents, so a name in a side clause ("reading Ann's letter, she saw Ann
# had written") can beat the person the paragraph is about.
def resolve_pronoun(
    cast: Cast, gender: str, pos: int, ctx: Context
) -> tuple[int | None, float]:
    """The person ``he``/``she`` in a tag means, with a confidence.

    Candidates of that gender score for being named close before the tag, by name
    or as a relative (``her father``, from ``ctx.relatives``), most in the same
    paragraph, more as a sentence's subject, less after a preposition; for being
    the speaker two turns back in an alternating conversation, for being the last
    speaker when the verb continues (``she added``), for taking part in the
    conversation, and a little for being a main character; the last speaker loses
    points otherwise, and whoever the line addresses by name is left out. The
    habits of an exchange are not counted for a thought or after a paragraph of
    narration.
    """
    scores: dict[int, float] = {}

    def add(pid: int | None, points: float) -> None:
        if pid is not None and cast.people[pid].gender == gender:
            scores[pid] = scores.get(pid, 0.0) + points

    nearest = True
    reach = min(PRONOUN_REACH_CHARS, pos - ctx.scene_start)
    mentions = cast.mentions_before(pos, reach)
    if ctx.relatives:
        named = [(at, pid) for at, pid in ctx.relatives if pos - reach <= at < pos]
        mentions = sorted([*mentions, *named], reverse=True)
    for rank, (start, pid) in enumerate(mentions):
        if pid in scores and rank:
            continue
        if nearest and cast.people[pid].gender == gender:
            add(pid, NEAREST)  # the latest fitting name is the likeliest antecedent
            nearest = False
        if start >= ctx.paragraph_start:
            add(pid, 3.0)
        elif pos - start < NEAR_CHARS:
            add(pid, 2.0)
        else:
            add(pid, 1.0)
        if cast.subject_at(start):
            add(pid, SUBJECT)
        elif cast.object_at(start):
            add(pid, -SUBJECT)  # "a note to Ann": Ann is not who the text is about
    # The habits of an exchange (the last speaker rarely speaks again, the one
    # before does, the one just called by name answers) do not hold for a thought
    # or a line said to oneself, which answers nobody, nor across a paragraph of
    # narration, which breaks the exchange off and tells anew who is acting.
    exchange = not ctx.inward and not ctx.after_narration
    if exchange and ctx.before_previous != ctx.previous:
        add(ctx.before_previous, 2.0)
    for pid in ctx.participants:
        add(pid, 1.0)
    for pid in ctx.addressed:
        if exchange and pid != ctx.previous:
            add(pid, ADDRESSED)
    if ctx.continues:
        # "he added": the latest speaker of that gender goes on, even when someone
        # else spoke in between.
        fits = [p for p in ctx.participants if cast.people[p].gender == gender]
        add(fits[0] if fits else None, 3.0)
    elif exchange and ctx.previous in scores:
        scores[ctx.previous] -= 3.0 if ctx.replies else 1.5
    if ctx.following in scores:
        scores[ctx.following] -= FOLLOWING  # the next paragraph is someone else's
    top = max((p.mentions for p in cast.people), default=1) or 1
    for pid in scores:
        scores[pid] += PROMINENCE * cast.people[pid].mentions / top
    for pid in ctx.addressees:
        scores.pop(pid, None)
    if not scores:
        return None, 0.0
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    margin = ranked[0][1] - (ranked[1][1] if len(ranked) > 1 else 0.0)
    return ranked[0][0], round(min(0.9, 0.5 + 0.1 * margin), 3)


def relatives_named(
    cast: Cast, text: str, start: int, stop: int, ctx: Context
) -> tuple[tuple[int, int], ...]:
    """Relatives the narration ``text[start:stop]`` names through a pronoun (``her
    father came in``), as (position, person): a later ``he`` or ``she`` often means
    them, though no name was printed. A relative after a preposition (``turned to
    her mother``) or in the possessive (``her father's dog``) is left out: the
    sentence is not about them."""
    found: list[tuple[int, int]] = []
    for m in _RELATIVE.finditer(text, start, stop):
        before = text[max(0, m.start() - 12) : m.start()].split()
        if before and before[-1].lower() in OBJECT_PREPOSITIONS:
            continue
        words = f"{m.group('owner').lower()} {m.group('head')}"
        pid = resolve_relation(cast, words, m.start(), ctx)
        if pid is not None:
            found.append((m.start(), pid))
    return tuple(found)


# A style that stands for a titled person ("said her ladyship"), and that title.
STYLED_TITLES = {"ladyship": "lady", "lordship": "lord"}


def resolve_relation(cast: Cast, words: str, pos: int, ctx: Context) -> int | None:
    """``her mother``, ``his wife``: the relative of the person the pronoun means;
    ``her ladyship``, ``his lordship``: the titled person themselves."""
    parts = words.split()
    possessive, head = parts[0], parts[-1]
    if head in STYLED_TITLES and len(parts) == 2:
        return resolve_description(cast, STYLED_TITLES[head], "unknown", pos, ctx)
    if head not in FAMILY_RELATIONS or possessive not in ("his", "her"):
        return None
    owner_gender = "male" if possessive == "his" else "female"
    owners = [
        pid
        for _, pid in cast.mentions_before(pos, PRONOUN_REACH_CHARS)
        if cast.people[pid].gender == owner_gender
    ]
    owners += [p for p in ctx.participants if cast.people[p].gender == owner_gender]
    title, sex = FAMILY_RELATIONS[head]
    for owner in owners:
        family = cast.people[owner].last
        if family is None:
            continue
        if title:
            found = cast.lookup(f"{title} {family}")
            if found is not None and found != owner:
                return found
            continue
        relatives = [
            pid
            for pid in cast.by_last.get(family, [])
            if pid != owner and cast.people[pid].gender == sex
        ]
        if len(relatives) == 1:
            return relatives[0]
    return None


# TODO(#5): a description ("the painter") is tied to a person only by a majority of
# decoded lines (see _learn_descriptions); appositions ("Tom, the miller") are not
# used.
def resolve_description(
    cast: Cast, words: str, gender: str, pos: int, ctx: Context
) -> int | None:
    """``the duchess``: the person with that title named last; ``the old man``: a
    participant of that gender who did not just speak."""
    head = words.split()[-1]
    titled = [p.pid for p in cast.people if p.title == head]
    if titled:
        for _, pid in cast.mentions_before(pos, 50 * PRONOUN_REACH_CHARS):
            if pid in titled:
                return pid
        return max(titled, key=lambda p: cast.people[p].mentions)
    if gender not in ("male", "female"):
        return None
    pid, _ = resolve_pronoun(cast, gender, pos, replace(ctx, continues=False))
    return pid
