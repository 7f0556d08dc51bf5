"""Find a story's cast: the people the narration names, aliases merged, gender inferred.

Names are capitalised words that the story does not also use as ordinary lower-case
words, with or without an honorific (``Mr. Ashby``, ``Lady Beatrice``). Mentions
are merged into characters: a full name (``Marian Ashdown``) absorbs its first name
(``Marian``), common nicknames (``Peggy``) and an honorific with its surname when that
surname belongs to one person only (``Miss Ashdown``); ``Mr.``, ``Mrs.`` and ``Miss``
with the same surname stay different people unless one full name ties them. Capitalised
descriptions used as speakers (``said the Lamplighter``) become characters too, and a
title of rank alone in the narration (``the duchess``) counts for the one named last.
Gender comes from honorifics, a list of given names, and the pronouns that follow a
mention.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections import Counter
from collections.abc import Callable

from talecast.pipeline.attribution.cast import Cast
from talecast.pipeline.attribution.lexicon import (
    HONORIFICS,
    NICKNAMES,
    NOT_NAMES,
    SPEECH_VERBS,
)
from talecast.pipeline.attribution.names import GIVEN_NAME_GENDER
from talecast.pipeline.types import Character, Quote

logger = logging.getLogger(__name__)

# (start, end, honorific or None, name words) of one mention in the narration.
_RawMention = tuple[int, int, str | None, tuple[str, ...]]

# A person needs this many mentions to join the cast, unless a speech tag names them.
MIN_MENTIONS = 2
# "Mr. X" merges into the one full name "F X" only when used at most this many times as
# often as the full name; a far more frequent "Mr. X" is another family member.
MAX_TITLE_TO_FULL_RATIO = 3.0

_TOKEN = r"(?:O'|Mc|Mac)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_PARTICLES = "(?:de|De|van|von|du|le|La|Le)"
_HON = "|".join(sorted((h.capitalize() for h in HONORIFICS), key=len, reverse=True))
# A title inside a run of capitalised words opens a new name ("As Mrs. Hale").
_LATER_TOKEN = rf"(?!(?:{_HON})\.?[ \t\n]+[A-Z]){_TOKEN}"
_MENTION_RE = re.compile(
    rf"\b(?:(?P<hon>{_HON})\.?\s+)?"
    rf"(?P<names>{_TOKEN}(?:[ \t]+(?:{_PARTICLES}[ \t]+)?{_LATER_TOKEN}){{0,2}})"
    r"(?!['\w])"
)
_TITLE_OF_RE = re.compile(
    r"\b(?P<hon>Duke|Duchess|Earl|Countess|Count|Marquis|Marchioness|Lord|Lady|"
    rf"Prince|Princess|King|Queen|Baron|Baroness)\s+of\s+(?P<place>{_TOKEN})\b"
)
_DESCRIPTION_RE = re.compile(
    rf"\b(?:the|The)[ \t\n]+(?P<desc>{_TOKEN}(?:[ \t]{_TOKEN})?)\b"
)
_WORD_RE = re.compile(r"[A-Za-z]+")
_MID_CAPITAL_RE = re.compile(r"(?<=[a-z,;:])[ \t\n]+([A-Z][a-z]+)")
# Endings of capitalised words that are adverbs or nationalities, not names.
_NOT_NAME_SUFFIXES = ("ly", "ese", "ish")
# Prepositions that put a name in a place rather than a person.
_LOCATIVE = frozenset(
    "at in into from near towards toward through within round to of".split()
)
# Prepositions whose object a name is, rather than a clause's subject.
_PREPOSITIONS = _LOCATIVE | frozenset(
    "with for by on upon towards toward about after than like against behind beside"
    " near".split()
)
# Titles of rank that "the" alone can stand for ("the duchess", "the colonel"); not the
# courtesy titles, kinship words or adjectives ("the lady", "the major part").
RANK_TITLES = frozenset(
    "doctor professor captain colonel lieutenant sergeant admiral reverend king queen"
    " prince princess duke duchess count countess baron baroness squire inspector"
    " earl marquis marchioness".split()
)
# How far back "the duchess" looks for the duchess last named, in characters.
TITLE_REACH_CHARS = 20_000
# Share of a name's mentions after a locative preposition that marks it as a place.
PLACE_RATIO = 0.45
_PRONOUN_RE = re.compile(r"\b(he|him|his|himself|she|her|hers|herself)\b|[.!?]")
_NARRATOR_NAME_RE = re.compile(
    rf"\b(?:[Mm]y name (?:is|was)|[Cc]all me|I am called|I was called)\s+"
    rf"(?P<name>(?:(?:{_HON})\.?\s+)?{_TOKEN}(?:\s{_TOKEN})?)"
)


def find_characters(text: str, quotes: list[Quote]) -> list[Character]:
    """Return the story's characters, most mentioned first, aliases merged."""
    return build_cast(text, quotes).characters


def build_cast(
    text: str, quotes: list[Quote], characters: list[Character] | None = None
) -> Cast:
    """Find the cast and keep what attribution needs: mentions and an alias index.

    ``characters``, when given, are taken as the cast: mentions merge into them first.
    """
    starts = [q.start_char for q in quotes]
    ends = [q.end_char for q in quotes]

    def in_quote(pos: int) -> bool:
        k = bisect.bisect_right(starts, pos) - 1
        return k >= 0 and pos < ends[k]

    lower, capital, mid = _word_counts(text)
    raw: list[_RawMention] = []
    for m in _MENTION_RE.finditer(text):
        if in_quote(m.start()):
            continue
        hon = m.group("hon")
        tokens = tuple(m.group("names").replace("\t", " ").split(" "))
        tokens = tuple(t for t in tokens if t)
        tokens = _cut_at_title(tokens)
        if hon is None:
            tokens = _strip_common(tokens, lower, capital, mid)
        if hon is not None and hon.lower() in NOT_NAMES and not _followed_by_dot(m):
            hon_is_word = hon.lower() in {"sir", "lady", "lord", "madam"}
            if hon_is_word and tokens and tokens[0].lower() in NOT_NAMES:
                continue
        if tokens:
            raw.append((m.start(), m.end(), hon, tokens))

    for m in _TITLE_OF_RE.finditer(text):
        if not in_quote(m.start()):
            name = ("of " + m.group("place"),)
            raw.append((m.start(), m.end(), m.group("hon"), name))
    raw.sort()
    descriptions = _speaking_descriptions(text, quotes)
    cast = Cast()
    if characters:
        cast.seed(characters)
    _merge(cast, raw, descriptions, text, in_quote)
    _mark_titles(cast, text, in_quote)
    _mark_places(cast, text)
    _mark_families(cast)
    _mark_subjects(cast, text)
    _infer_gender(cast, text)
    cast.narrator_name = _narrator_name(text, quotes, cast)
    cast.finish(MIN_MENTIONS)
    logger.debug("characters: %d found", len(cast.characters))
    return cast


def _followed_by_dot(m: re.Match[str]) -> bool:
    return "." in m.group(0)[: m.start("names") - m.start()]


def _word_counts(text: str) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Count each word's lower-case uses, capitalised uses, and capitalised uses in
    mid-sentence (where only a name is capitalised)."""
    lower: Counter[str] = Counter()
    capital: Counter[str] = Counter()
    for w in _WORD_RE.findall(text):
        if w[0].isupper():
            capital[w.lower()] += 1
        else:
            lower[w] += 1
    mid = Counter(w.lower() for w in _MID_CAPITAL_RE.findall(text))
    return lower, capital, mid


def _is_name_word(
    tok: str, lower: Counter[str], capital: Counter[str], mid: Counter[str]
) -> bool:
    low = tok.lower()
    if low in NOT_NAMES or low in HONORIFICS and low not in GIVEN_NAME_GENDER:
        return False
    if low in GIVEN_NAME_GENDER:
        return lower[low] < 5 or lower[low] * 2 < capital[low]
    if low.endswith(_NOT_NAME_SUFFIXES) or mid[low] == 0:
        return False
    return lower[low] * 2 < capital[low]


def _strip_common(
    tokens: tuple[str, ...],
    lower: Counter[str],
    capital: Counter[str],
    mid: Counter[str],
) -> tuple[str, ...]:
    """Drop leading and trailing words that are ordinary words, not names."""
    toks = list(tokens)
    while toks and not _is_name_word(toks[0], lower, capital, mid):
        toks.pop(0)
    while toks and not _is_name_word(toks[-1], lower, capital, mid):
        toks.pop()
    return tuple(toks)


def _cut_at_title(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """End a name where another title starts (``Whitlow Miss`` is two names)."""
    for k, tok in enumerate(tokens):
        low = tok.lower()
        if k and low in HONORIFICS and low not in GIVEN_NAME_GENDER:
            return tokens[:k]
    return tokens


def _speaking_descriptions(text: str, quotes: list[Quote]) -> Counter[str]:
    """Capitalised descriptions named in a speech tag ("said the Ferryman")."""
    found: Counter[str] = Counter()
    for q in quotes:
        window = text[q.end_char : q.end_char + 60]
        m = re.match(r"[\s,]*(\w+)\s+the\s+((?:[A-Z][a-z]+\s?){1,2})", window)
        if m and m.group(1).lower() in SPEECH_VERBS:
            found[m.group(2).strip()] += 1
        m = re.match(r"[\s,]*the\s+((?:[A-Z][a-z]+\s?){1,2})\s*(\w+)", window)
        if m and m.group(2).lower() in SPEECH_VERBS:
            found[m.group(1).strip()] += 1
    return found


def _merge(
    cast: Cast,
    raw: list[_RawMention],
    descriptions: Counter[str],
    text: str,
    in_quote: Callable[[int], bool],
) -> None:
    """Turn raw mentions into people, merging aliases (see module docstring)."""
    counts: Counter[tuple[str | None, tuple[str, ...]]] = Counter(
        (None if h is None else h.lower(), t) for _, _, h, t in raw
    )

    # Full names first: they anchor first names, surnames and titles.
    for (hon, toks), n in counts.most_common():
        if len(toks) >= 2:
            cast.person_for_full(hon, toks, n)
    for (hon, toks), n in counts.most_common():
        if len(toks) == 1 and hon is not None:
            cast.person_for_titled(hon, toks[0], n, MAX_TITLE_TO_FULL_RATIO)
    for (hon, toks), n in counts.most_common():
        if len(toks) == 1 and hon is None:
            cast.person_for_bare(toks[0], n, NICKNAMES, GIVEN_NAME_GENDER)
    for desc, n in descriptions.items():
        cast.person_for_description(desc, n)
    for m in _DESCRIPTION_RE.finditer(text):
        if not in_quote(m.start()) and m.group("desc") in descriptions:
            cast.add_mention(m.start(), m.end(), cast.lookup("the " + m.group("desc")))

    for start, end, hon, toks in raw:
        cast.add_mention(start, end, cast.lookup_parts(hon, toks))


def _mark_titles(cast: Cast, text: str, in_quote: Callable[[int], bool]) -> None:
    """Count ``the duchess`` in the narration as a mention of the duchess named last
    before it (or of the only one)."""
    holders: dict[str, list[int]] = {}
    for person in cast.people:
        if person.title in RANK_TITLES and not person.place:
            holders.setdefault(person.title, []).append(person.pid)
    if not holders:
        return
    ordered = sorted(cast.mentions)
    starts = [m[0] for m in ordered]
    pattern = re.compile(r"\b[Tt]he\s+(" + "|".join(sorted(holders)) + r")\b")
    found: list[tuple[int, int, int]] = []
    for m in pattern.finditer(text):
        if in_quote(m.start()):
            continue
        pids = holders[m.group(1)]
        pid = pids[0] if len(pids) == 1 else None
        lo = bisect.bisect_left(starts, m.start() - TITLE_REACH_CHARS)
        for i in range(bisect.bisect_left(starts, m.start()) - 1, lo - 1, -1):
            if ordered[i][2] in pids:
                pid = ordered[i][2]
                break
        if pid is not None:
            found.append((m.start(), m.end(), pid))
    for start, end, pid in found:
        cast.add_mention(start, end, pid)


def _mark_subjects(cast: Cast, text: str) -> None:
    """Remember which mentions open a sentence or clause (likely its subject) and
    which follow a preposition (``a note to Ann``: not the subject)."""
    for start, _, _ in cast.mentions:
        before = text[max(0, start - 6) : start].rstrip()
        if not before or before[-1] in '.!?;"\n' or before.endswith((" and", " but")):
            cast.subjects.add(start)
        words = text[max(0, start - 12) : start].split()
        if words and words[-1].lower() in _PREPOSITIONS:
            cast.objects.add(start)


def _mark_places(cast: Cast, text: str) -> None:
    """Flag names used mostly after ``at``, ``in``, ``from``: places, not people."""
    located: Counter[int] = Counter()
    for start, _, pid in cast.mentions:
        before = text[max(0, start - 12) : start].split()
        if before and before[-1].lower() in _LOCATIVE:
            located[pid] += 1
    for person in cast.people:
        if person.title or person.description or person.mentions < 3:
            continue
        if person.first in GIVEN_NAME_GENDER:
            continue
        if located[person.pid] >= PLACE_RATIO * person.mentions:
            person.place = True


def _mark_families(cast: Cast) -> None:
    """Flag a surname in the plural (``the Hales``, ``the Mr. Reeds``): a family or a
    pair of brothers, never one speaker. Kept out of the cast like a place."""
    for person in cast.people:
        word = person.last or person.first
        if person.description or word is None or not word.endswith("s"):
            continue
        stems = (word[:-1], word[:-2] if word.endswith("es") else "")
        if any(p != person.pid for stem in stems for p in cast.by_last.get(stem, [])):
            person.place = True


def _infer_gender(cast: Cast, text: str) -> None:
    """Vote on each person's gender from titles, given names and following pronouns."""
    for person in cast.people:
        person.vote_from_names(GIVEN_NAME_GENDER, HONORIFICS)
    for _start, end, pid in cast.mentions:
        if pid is None:
            continue
        for m in _PRONOUN_RE.finditer(text, end, min(len(text), end + 80)):
            word = m.group(1)
            if word is None:
                break
            female = word in {"she", "her", "hers", "herself"}
            cast.people[pid].pronoun_votes["female" if female else "male"] += 1
            break
    for person in cast.people:
        person.decide_gender()
        if person.place:
            person.gender = "unknown"


def _narrator_name(text: str, quotes: list[Quote], cast: Cast) -> str | None:
    """The name a first-person narrator gives themself ("my name is X", "call me X")."""
    sample = _narration_sample(text, quotes)
    words = sample.split()
    if not words:
        return None
    first_person = sum(1 for w in words if w in {"I", "me", "my", "My", "Me"})
    if first_person / len(words) < 0.01:
        return None
    m = _NARRATOR_NAME_RE.search(text)
    return m.group("name") if m else None


def _narration_sample(text: str, quotes: list[Quote], limit: int = 400_000) -> str:
    """Up to ``limit`` characters of narration (the text outside quotes)."""
    parts: list[str] = []
    cursor = 0
    size = 0
    for q in quotes:
        parts.append(text[cursor : q.start_char])
        size += q.start_char - cursor
        cursor = q.end_char
        if size > limit:
            break
    else:
        parts.append(text[cursor : cursor + limit])
    return " ".join(parts)[:limit]
