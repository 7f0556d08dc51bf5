"""Vocatives: whom a line of dialogue addresses (``"My dear Mr. Hollis, …"``).

The person addressed is rarely the speaker and often answers next. Besides names, a
line may address a relative (``papa``, ``mamma``), resolved once its speaker is known,
or someone by a polite form (``sir``, ``madam``) that tells only their gender; and
the narration before a line may turn it towards someone (``she turned to Ann``) or ask
someone a question in reported speech that the line answers (``he asked Ann whether``),
and a line's own tag may name whom it is said to (``said Tom to Ann``, ``cried she to
her husband``).
Someone a line speaks of by name without calling them (``"Kate baked these"``) is
rarely its speaker.
"""

from __future__ import annotations

import re

from talecast.pipeline.attribution.cast import Cast
from talecast.pipeline.attribution.lexicon import FAMILY_RELATIONS, SPEECH_VERBS
from talecast.pipeline.attribution.tags import NAME_PATTERN

# Punctuation, or a word of endearment, then the form of address, then punctuation.
_BEFORE = r"(?:^|(?<!Mr)(?<!Mrs)(?<!Ms)(?<!Dr)(?<!St)[,;!?.\u2014\-]\s*|\b{words}\s+)"
_AFTER = r"\s*(?=[,!?.;:\u2014\-]|$)"
_NAME_RE = re.compile(
    _BEFORE.format(words=r"(?:[Dd]ear|[Dd]earest|[Mm]y|[Oo]h|[Oo]|[Aa]h)")
    + rf"(?P<name>{NAME_PATTERN}){_AFTER}"
)
_KIN_RE = re.compile(
    _BEFORE.format(words=r"(?:[Dd]ear|[Dd]earest|[Mm]y)")
    + r"(?P<kin>[Pp]apa|[Mm]amma|[Mm]ama|[Ff]ather|[Mm]other|[Hh]usband|[Ww]ife)"
    + _AFTER
)
_POLITE_RE = re.compile(
    _BEFORE.format(words=r"(?:[Dd]ear|[Mm]y [Dd]ear|[Mm]y good)")
    + r"(?P<polite>[Ss]ir|[Mm]adam|[Mm]a'am|[Mm]y [Ll]ord|[Mm]y [Ll]ady)"
    + _AFTER
)

# After a name and a comma, an aside (``I think,``) and a finite verb that no subject
# follows: the name is the sentence's subject, not someone addressed. With a subject
# after the verb (``Pat, is that you?``) it is a question to the person named.
_SUBJECT_AFTER = re.compile(
    r",\s+(?:[A-Za-z]+\s+){0,2}[A-Za-z]+,\s+"
    r"(?:is|was|has|had|does|did|will|would|can|could|shall|should|may|might|must)"
    r"\s+(?:not\s+)?(?!(?:you|I|he|she|it|we|they|there|that|this|not)\b)[a-z]"
)

# Narration that turns a line towards someone: "she turned to Ann", "looking at Tom".
_TOWARDS_RE = re.compile(
    r"\b(?:(?:turned|turning|turns)\s+(?:\w+ly\s+)?(?:round\s+)?to|addressing|"
    rf"addressed|looking\s+at|looked\s+at)\s+(?P<name>{NAME_PATTERN})"
)

# A speech verb with the person it is said to: "said Tom to Ann", "she cried to
# Ann". A relative is kept as its kinship word ("to his wife"), resolved once the
# speaker is known; only relatives a family name leads to (not "to her sister").
# "to him" / "to her" tell nothing new and are not matched.
_SAID_TO_RE = re.compile(
    r"\b(?:" + "|".join(sorted(SPEECH_VERBS, key=len, reverse=True)) + r")\b"
    rf"(?:\s+(?:{NAME_PATTERN}|he|she))?(?:,?\s+\w+ly)?,?\s+to\s+"
    r"(?:(?:his|her)\s+(?P<kin>wife|husband|father|mother)\b"
    rf"|(?P<name>{NAME_PATTERN}))"
)

# Narration that asks someone a question in reported speech: they answer next.
_ASKED_RE = re.compile(
    rf"\b(?:asked|inquired\s+of|enquired\s+of)\s+(?P<name>{NAME_PATTERN})"
    r"(?:\s+\w+ly)?\s+(?:whether|if|what|how|why|who|where|when|which)\b"
)
# Words of endearment the name pattern takes in at a line's start ("Dear Tom!").
_ENDEARMENT = re.compile(r"^(?:(?:Dear|Dearest|My|Oh|O|Ah)\s+)+")


def find_vocatives(texts: list[str], cast: Cast) -> tuple[list[int], list[str], str]:
    """People addressed by name in ``texts``, kinship words used as names, and the
    gender a polite form of address gives (``"unknown"`` without one)."""
    people: list[int] = []
    kin: list[str] = []
    gender = "unknown"
    for text in texts:
        for m in _NAME_RE.finditer(text):
            if _only_a_name(text, m) and not text.rstrip().endswith(("!", ",")):
                continue  # "Hale." answers a question; it addresses nobody
            if _SUBJECT_AFTER.match(text, m.end("name")):
                continue  # "Mr. Hale, I think, was right": the name is a subject
            pid = cast.lookup(_ENDEARMENT.sub("", m.group("name")))
            if pid is not None and pid not in people:
                people.append(pid)
        for m in _KIN_RE.finditer(text):
            if m.group("kin").lower() not in kin:
                kin.append(m.group("kin").lower())
        m = _POLITE_RE.search(text)
        if m is not None:
            polite = m.group("polite").lower()
            gender = "male" if polite in ("sir", "my lord") else "female"
    return people, kin, gender


_ANY_NAME_RE = re.compile(NAME_PATTERN)


def named_in_lines(texts: list[str], cast: Cast, addressed: list[int]) -> list[int]:
    """People a line speaks of by name without addressing them (``"Tom was here"``):
    rarely its speaker."""
    found: list[int] = []
    for text in texts:
        for m in _ANY_NAME_RE.finditer(text):
            pid = cast.lookup(m.group(0))
            if pid is not None and pid not in addressed and pid not in found:
                found.append(pid)
    return found


def narration_addressees(narration: str, cast: Cast) -> list[int]:
    """People the narration before a line turns it towards (``she turned to Ann``,
    ``addressing Mr. Hale``, ``looking at Tom``), in order."""
    found: list[int] = []
    for m in _TOWARDS_RE.finditer(narration):
        pid = cast.lookup(m.group("name"))
        if pid is not None and pid not in found:
            found.append(pid)
    return found


def said_to(narration: str, cast: Cast) -> tuple[list[int], list[str]]:
    """Whom a speech tag says its line is said to (``said Tom to Ann``): people of the
    cast, and kinship words for the speaker's own relatives (``to his wife``). The
    person spoken to is not the speaker and usually answers next."""
    people: list[int] = []
    kin: list[str] = []
    for m in _SAID_TO_RE.finditer(narration):
        if m.group("kin"):
            if m.group("kin") not in kin:
                kin.append(m.group("kin"))
            continue
        pid = cast.lookup(m.group("name"))
        if pid is not None and pid not in people:
            people.append(pid)
    return people, kin


# A parent or spouse the line speaks of as the speaker's own, addressed or not.
_MY_KIN_RE = re.compile(
    r"\b[Mm]y\s+(?:(?:dear|poor|good)\s+)?"
    r"(?P<kin>papa|mamma|mama|father|mother|husband|wife)\b"
)


def own_relatives(texts: list[str]) -> list[str]:
    """Kinship words a line uses of the speaker's own family (``my mother``)."""
    found: list[str] = []
    for text in texts:
        for m in _MY_KIN_RE.finditer(text):
            if m.group("kin") not in found:
                found.append(m.group("kin"))
    return found


def asked_person(narration: str, cast: Cast) -> int | None:
    """The person the narration last asks a reported question (``Tom asked Ann
    whether she had seen it``): the one who answers in the next line."""
    found = None
    for m in _ASKED_RE.finditer(narration):
        pid = cast.lookup(m.group("name"))
        if pid is not None:
            found = pid
    return found


def _only_a_name(text: str, m: re.Match[str]) -> bool:
    """True when the whole line is the matched name and punctuation."""
    rest = text[: m.start("name")] + text[m.end("name") :]
    return not any(ch.isalpha() for ch in rest)


def kin_addressees(cast: Cast, speaker: int, kin: list[str]) -> list[int]:
    """The parent or spouse a speaker calls ``papa`` or ``my dear wife``."""
    family = cast.people[speaker].last
    if family is None:
        return []
    found: list[int] = []
    for word in kin:
        title, _ = FAMILY_RELATIONS.get(word, ("", ""))
        pid = cast.lookup(f"{title} {family}") if title else None
        if pid is not None and pid != speaker:
            found.append(pid)
    return found
