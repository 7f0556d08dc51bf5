"""A book's pronunciation sheet: the words the speech engines have to guess.

Talecast's G2P (hibari's, Apache-2.0) reads words from a lexicon of about 90,000
English words; anything else (most characters' and places' names, invented words) goes
to a neural guesser, and heteronyms (``wound``, ``bow``) are read by part of speech. The
sheet
lists both kinds with how often and where they first occur, so a person can check them
before a long render: listen to a preview (``talecast names STORY --preview DIR``), then
write what to say instead into the ``pronunciations.json`` template and pass it as a
pronunciation dictionary (``--dictionary``, or ``POST /apis/dictionaries``).
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

MAX_LISTED = 300
# A word: letters with inner apostrophes or single hyphens ("--" is a dash).
_WORD = re.compile(r"[A-Za-z](?:[A-Za-z'\u2019]|-(?=[A-Za-z]))*")


@dataclass
class SheetEntry:
    """One word of the sheet."""

    word: str  # as the story most often prints it
    kind: str  # "name" (always capitalized), "word" or "heteronym"
    count: int
    first_char: int  # offset of its first occurrence in the story text
    example: str  # the text around it


@cache
def _lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """(every word the G2P lexicon knows, lower case; the heteronyms among them)."""
    known: set[str] = set()
    heteronyms: set[str] = set()
    assets = resources.files("hibari") / "assets"
    # The gold lexicon first: its reading of a word overrides the silver one's.
    for name in ("lexicon_us_gold.json.gz", "lexicon_us_silver.json.gz"):
        with (assets / name).open("rb") as raw, gzip.open(raw) as fh:
            entries: dict[str, Any] = json.load(fh)
        # Lower-case entries first: "in" is a word, "In" may be a name's reading.
        for word, value in sorted(
            entries.items(), key=lambda kv: kv[0] != kv[0].lower()
        ):
            key = word.lower()
            if key in known:
                continue
            known.add(key)
            # Readings that differ in more than stress ("wound", "tear", "close").
            if (
                isinstance(value, dict)
                and len({_unstressed(v) for v in value.values()}) > 1
            ):
                heteronyms.add(key)
    return frozenset(known), frozenset(heteronyms)


_SUFFIXES = ("'s", "s", "es", "ed", "d", "ing", "ly", "er", "est", "ness")


def _known(key: str, known: frozenset[str]) -> bool:
    """In the lexicon, or a regular inflection of a word that is ("waited", "makes")."""
    if key in known:
        return True
    for suffix in _SUFFIXES:
        stem = key.removesuffix(suffix)
        if stem != key and len(stem) > 2:
            if stem in known or stem + "e" in known:
                return True
            if len(stem) > 3 and stem[-1] == stem[-2] and stem[:-1] in known:
                return True  # "stopped", "running"
            if stem.endswith("i") and stem[:-1] + "y" in known:
                return True  # "carried", "happily"
    return False


def _unstressed(phonemes: object) -> str:
    return str(phonemes).replace("\u02c8", "").replace("\u02cc", "")


def pronunciation_sheet(text: str) -> list[SheetEntry]:
    """The words of ``text`` the engines guess (unknown to the lexicon) and the
    heteronyms it uses, most frequent first (at most ``MAX_LISTED``)."""
    known, heteronyms = _lexicon()
    counts: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    first: dict[str, int] = {}
    capitalized: Counter[str] = Counter()
    for match in _WORD.finditer(text):
        word = match.group(0).replace("\u2019", "'")
        if word.endswith("'s"):
            word = word[:-2]
        key = word.lower()
        if key in heteronyms:
            pass
        elif _known(key, known) or (
            "-" in key and all(_known(p, known) for p in key.split("-"))
        ):
            continue  # in the lexicon, an inflection of it, or a compound of such
        counts[key] += 1
        forms.setdefault(key, Counter())[word] += 1
        first.setdefault(key, match.start())
        if word[0].isupper():
            capitalized[key] += 1
    entries = []
    for key, count in counts.most_common():
        if key in heteronyms:
            kind = "heteronym"
        elif capitalized[key] >= 0.9 * count:  # names are capitalized wherever they are
            kind = "name"
        else:
            kind = "word"
        at = first[key]
        example = " ".join(text[max(0, at - 40) : at + len(key) + 40].split())
        entries.append(
            SheetEntry(forms[key].most_common(1)[0][0], kind, count, at, example)
        )
    return entries[:MAX_LISTED]


def sheet_json(entries: list[SheetEntry]) -> dict[str, Any]:
    """``pronunciations.json``: the sheet, and a dictionary template of its guessed
    words that ``--dictionary`` and ``POST /apis/dictionaries`` read once edited."""
    return {
        "name": "pronunciations",
        "description": "words the engines guess; write what to say in each replacement",
        "terms": [
            {"term": e.word, "replacement": e.word}
            for e in entries
            if e.kind != "heteronym"
        ],
        "sheet": [asdict(e) for e in entries],
    }
