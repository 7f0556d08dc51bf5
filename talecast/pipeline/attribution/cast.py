"""The people of a story while their names are being merged, and an index of aliases.

``Cast`` is built by :mod:`talecast.pipeline.characters` and read by attribution: it
answers "which person does this name mean" and "who was mentioned last before here".
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field

from talecast.pipeline.attribution.lexicon import (
    FIRST_NAME_TITLES,
    HONORIFICS,
    KIN_GENDER,
    NICKNAMES,
)
from talecast.pipeline.attribution.names import GIVEN_NAME_GENDER
from talecast.pipeline.types import Character, Gender

_ABBREVIATED = frozenset("mr mrs ms dr st capt col lieut prof rev mme mlle".split())


def _same_sex(a: str, b: str) -> bool:
    ga, gb = HONORIFICS.get(a, "unknown"), HONORIFICS.get(b, "unknown")
    return "unknown" in (ga, gb) or ga == gb and (a == "mrs") == (b == "mrs")


def norm(name: str) -> str:
    """A name reduced for lookup: no dots, one space, lower case."""
    return " ".join(name.replace(".", " ").split()).lower()


def surface(hon: str | None, tokens: tuple[str, ...]) -> str:
    """How a name prints: ``Mr. Ashby``, ``Lady Beatrice``, ``Marian Ashdown``."""
    words = " ".join(tokens)
    if hon is None:
        return words
    title = hon.capitalize() + ("." if hon.lower() in _ABBREVIATED else "")
    return f"{title} {words}"


@dataclass
class Person:
    """One character while aliases are merged."""

    pid: int
    first: str | None = None  # lower case
    last: str | None = None  # lower case
    title: str | None = None  # lower case honorific
    description: bool = False
    place: bool = False  # not one person: a place ("at Millbrook") or a family
    forms: Counter[str] = field(default_factory=Counter)
    mentions: int = 0
    spoke: int = 0  # lines an explicit tag gives this person
    full_count: int = 0  # uses of a full name (first and last)
    name_gender: str = "unknown"
    pronoun_votes: Counter[str] = field(default_factory=Counter)
    gender: Gender = "unknown"

    @property
    def name(self) -> str:
        """The fullest name among the forms the story uses most."""
        if not self.forms:
            return (self.first or self.last or "someone").capitalize()
        if self.description and any(f.lower().startswith("the ") for f in self.forms):
            best = max(
                (f for f in self.forms if f.lower().startswith("the ")),
                key=lambda f: self.forms[f],
            )
            return best[0].upper() + best[1:]
        top = max(self.forms.values())
        common = [f for f, n in self.forms.items() if n * 2 >= top]
        best = max(common, key=lambda f: (len(f.split()), self.forms[f], f))
        return best[0].upper() + best[1:] if self.description else best

    def vote_from_names(
        self, given: dict[str, str], honorifics: dict[str, str]
    ) -> None:
        """Gender implied by the title, a given name or a description's noun."""
        if self.title and honorifics.get(self.title, "unknown") != "unknown":
            self.name_gender = honorifics[self.title]
        elif self.first and self.first in given:
            self.name_gender = given[self.first]
        elif self.description and self.forms:
            head = next(iter(self.forms)).split()[-1].lower()
            self.name_gender = honorifics.get(head) or KIN_GENDER.get(head, "unknown")
            if self.name_gender == "unknown" and head in given:
                self.name_gender = given[head]

    def decide_gender(self) -> None:
        """Settle the gender: names first, then a clear pronoun majority."""
        if self.name_gender in ("male", "female"):
            self.gender = self.name_gender  # type: ignore[assignment]
            return
        male, female = self.pronoun_votes["male"], self.pronoun_votes["female"]
        if male + female >= 2 and max(male, female) >= 2 * min(male, female):
            self.gender = "male" if male > female else "female"


@dataclass
class Cast:
    """Everyone found, an alias index, and every mention's position."""

    people: list[Person] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    by_first: dict[str, list[int]] = field(default_factory=dict)
    by_last: dict[str, list[int]] = field(default_factory=dict)
    mentions: list[tuple[int, int, int | None]] = field(default_factory=list)
    characters: list[Character] = field(default_factory=list)
    narrator_name: str | None = None
    kept: set[int] = field(default_factory=set)
    _mention_starts: list[int] = field(default_factory=list)
    subjects: set[int] = field(default_factory=set)  # mention starts opening a clause
    objects: set[int] = field(default_factory=set)  # mention starts after a preposition

    # -- building -----------------------------------------------------------------

    def _new(self, **kw: object) -> Person:
        person = Person(pid=len(self.people), **kw)  # type: ignore[arg-type]
        self.people.append(person)
        if person.first:
            self.by_first.setdefault(person.first, []).append(person.pid)
        if person.last:
            self.by_last.setdefault(person.last, []).append(person.pid)
        return person

    def _add_form(self, person: Person, form: str, n: int) -> None:
        person.forms[form] += n
        self.index.setdefault(norm(form), person.pid)

    def person_for_full(self, hon: str | None, toks: tuple[str, ...], n: int) -> None:
        """A first-and-last name (``Tobias Wren``, ``Mr. Tobias Wren``)."""
        key = norm(" ".join(toks))
        existing = self.people[self.index[key]] if key in self.index else None
        if (
            existing is not None
            and hon
            and existing.title
            and not _same_sex(hon, existing.title)
        ):
            key = norm(surface(hon, toks))
            existing = self.people[self.index[key]] if key in self.index else None
        if existing is not None:
            person = existing
        else:
            person = self._new(first=toks[0].lower(), last=toks[-1].lower())
            self._add_form(person, " ".join(toks), 0)
            self.index[key] = person.pid
        if hon and person.title is None:
            person.title = hon
        person.full_count += n
        self._add_form(person, surface(hon, toks), n)

    def person_for_titled(self, hon: str, tok: str, n: int, ratio: float) -> None:
        """An honorific with one name: a surname (``Mr. Ashby``) or a first name."""
        low = tok.lower()
        form = surface(hon, (tok,))
        if norm(form) in self.index:
            self._add_form(self.people[self.index[norm(form)]], form, n)
            return
        if hon in FIRST_NAME_TITLES or hon == "miss":
            firsts = self.by_first.get(low, [])
            if len(firsts) == 1 and self._gender_fits(hon, self.people[firsts[0]]):
                self._add_form(self.people[firsts[0]], form, n)
                return
        if hon not in FIRST_NAME_TITLES:
            lasts = [
                p
                for p in self.by_last.get(low, [])
                if self.people[p].first
                and self._gender_fits(hon, self.people[p])
                and (hon != "mrs" or self.people[p].title == "mrs")
            ]
            limit = ratio * max(1, self.people[lasts[0]].full_count) if lasts else 0
            sure = (
                hon == "miss"
                and len(lasts) == 1
                and GIVEN_NAME_GENDER.get(self.people[lasts[0]].first or "") == "female"
            )
            if len(lasts) == 1 and (sure or n <= limit):
                self._add_form(self.people[lasts[0]], form, n)
                return
        if hon in FIRST_NAME_TITLES:
            person = self._new(first=low, title=hon)
        else:
            person = self._new(last=low, title=hon)
        self._add_form(person, form, n)

    def person_for_bare(
        self,
        tok: str,
        n: int,
        nicknames: dict[str, tuple[str, ...]],
        given: dict[str, str],
    ) -> None:
        """A single name with no title: a first name, nickname or surname."""
        low = tok.lower()
        if low in self.index:
            self._add_form(self.people[self.index[low]], tok, n)
            return
        firsts = self.by_first.get(low, [])
        if firsts:
            main = max(firsts, key=lambda p: self.people[p].full_count)
            rest = sum(self.people[p].full_count for p in firsts if p != main)
            if self.people[main].full_count >= 3 * rest:
                self._add_form(self.people[main], tok, n)
                return
        for target in nicknames.get(low, ()):
            firsts = [
                p
                for p in self.by_first.get(target, [])
                if self.people[p].title in (None, "mr", "mrs", "miss", "ms")
            ]
            if len(firsts) == 1:
                self._add_form(self.people[firsts[0]], tok, n)
                return
        lasts = self.by_last.get(low, [])
        plain_mr = [
            p
            for p in lasts
            if self.people[p].title == "mr" and self.people[p].first is None
        ]
        males = [
            p
            for p in lasts
            if self.people[p].name_gender == "male" or self.people[p].title == "mr"
        ]
        for group in (plain_mr, males, lasts):
            if len(group) == 1:
                self._add_form(self.people[group[0]], tok, n)
                return
        person = self._new(
            first=low if low in given else None, last=None if low in given else low
        )
        self._add_form(person, tok, n)

    def person_for_description(self, desc: str, n: int) -> None:
        """A capitalised description that speaks (``the Ferryman``)."""
        key = norm(desc)
        form = "the " + desc
        if key in self.index:
            person = self.people[self.index[key]]
        else:
            person = self._new(description=True)
        person.description = True
        self._add_form(person, form, n)
        self.index[norm(form)] = person.pid
        self.index.setdefault(key, person.pid)

    def _gender_fits(self, hon: str, person: Person) -> bool:
        want = HONORIFICS.get(hon, "unknown")
        have = person.name_gender
        if person.first and have == "unknown":
            have = GIVEN_NAME_GENDER.get(person.first, "unknown")
        return "unknown" in (want, have) or want == have

    def add_mention(self, start: int, end: int, pid: int | None) -> None:
        """Record that ``text[start:end]`` names person ``pid``."""
        if pid is None:
            return
        self.mentions.append((start, end, pid))
        self.people[pid].mentions += 1

    def finish(self, min_mentions: int) -> None:
        """Sort mentions and list the characters worth keeping."""
        self.mentions.sort()
        self._mention_starts = [m[0] for m in self.mentions]
        keep = [
            p
            for p in self.people
            if (p.mentions >= min_mentions or p.description) and not p.place
        ]
        self.kept = {p.pid for p in keep}
        self._rebuild_characters()

    def _rebuild_characters(self) -> None:
        people = sorted((self.people[i] for i in self.kept), key=lambda p: -p.mentions)
        self.characters = [
            Character(
                name=p.name,
                aliases=sorted(p.forms),
                gender=p.gender,
                mentions=p.mentions,
            )
            for p in people
        ]

    def seed(self, characters: list[Character]) -> None:
        """Start from a given character list: its names and aliases come first."""
        for ch in characters:
            toks = ch.name.replace(".", " ").split()
            words = [t for t in toks if t.lower() not in HONORIFICS] or toks
            title = toks[0].lower() if toks[0].lower() in HONORIFICS else None
            first = words[0].lower() if len(words) > 1 or title is None else None
            last = words[-1].lower() if len(words) > 1 or title else None
            person = self._new(first=first, last=last, title=title)
            person.forms[ch.name] = 10**9
            if ch.gender != "unknown":
                person.name_gender = ch.gender
            for alias in [ch.name, *ch.aliases]:
                self.index[norm(alias)] = person.pid

    def add_unknown(self, words: str) -> int:
        """A name no mention produced (a tag's subject): a new person."""
        described = words.split()[0].lower() in ("the", "a", "an")
        person = self._new(description=described)
        self._add_form(person, words, 1)
        person.vote_from_names(GIVEN_NAME_GENDER, HONORIFICS)
        person.decide_gender()
        return person.pid

    def narrator_pid(self, default: str) -> int:
        """The first-person narrator as a person, named as the text names them."""
        name = self.narrator_name or default
        pid = self.lookup(name)
        if pid is None:
            pid = self.add_unknown(name)
        return pid

    # -- reading ------------------------------------------------------------------

    def lookup(self, name: str) -> int | None:
        """The person a printed name means, or None."""
        key = norm(name)
        key = re.sub(r"^(?:the|a|an) ", "", key) if key not in self.index else key
        if key in self.index:
            return self.index[key]
        if "the " + key in self.index:
            return self.index["the " + key]
        for target in NICKNAMES.get(key, ()):
            firsts = self.by_first.get(target, [])
            if len(firsts) == 1:
                return firsts[0]
        return None

    def lookup_parts(self, hon: str | None, toks: tuple[str, ...]) -> int | None:
        """The person named by an honorific and name words, trying shorter forms."""
        pid = self.lookup(surface(hon, toks))
        if pid is None and hon is None and len(toks) > 1:
            pid = self.lookup(" ".join(toks[-1:])) or self.lookup(toks[0])
        return pid

    def subject_at(self, start: int) -> bool:
        """True when the mention at ``start`` opens a sentence or clause."""
        return start in self.subjects

    def object_at(self, start: int) -> bool:
        """True when the mention at ``start`` follows a preposition (``to Ann``)."""
        return start in self.objects

    def name_of(self, pid: int) -> str:
        """The printed name of a person; they join the character list if not in it."""
        if pid not in self.kept:
            self.kept.add(pid)
            self._rebuild_characters()
        return self.people[pid].name

    def mentions_before(self, pos: int, window: int) -> list[tuple[int, int]]:
        """(position, person) of mentions in ``[pos - window, pos)``, latest first."""
        hi = bisect.bisect_left(self._mention_starts, pos)
        lo = bisect.bisect_left(self._mention_starts, pos - window)
        return [
            (self.mentions[i][0], self.mentions[i][2] or 0)
            for i in range(hi - 1, lo - 1, -1)
        ]
