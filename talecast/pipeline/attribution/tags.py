"""Speech tags: the narration beside a quote that says who spoke.

Recognised shapes, after a quote (``"…," said Clara``, ``"…," Mr. Ashby replied``,
``"…," said she``, ``"…," cried his wife``, ``"…," said the old man``, ``"…," broke in
Lord Edmund``) and before one (``Mrs. Hollis said to her husband, "…"``). When the
narration of the paragraph has no speech verb, its grammatical subject (``Margaret
smiled. "…"``) is kept as a weaker clue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from talecast.pipeline.attribution.lexicon import (
    HONORIFICS,
    KIN_GENDER,
    NOT_NAMES,
    PRONOUN_GENDER,
    SPEECH_VERBS,
)

CONTINUING_VERBS = frozenset(
    "continued continues added adds resumed resumes went repeated persisted"
    " concluded".split()
)
REPLYING_VERBS = frozenset(
    "replied replies returned returns answered answers rejoined rejoins retorted"
    " retorts responded responds".split()
)
# Tag verbs of inner speech.
THOUGHT_VERBS = frozenset({"thought", "thinks"})
# How far after a quote a tag may start, in characters.
TAG_WINDOW_CHARS = 160

_HON = "|".join(sorted((h.capitalize() for h in HONORIFICS), key=len, reverse=True))
_TOKEN = r"(?:O'|Mc|Mac)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
# A title before a name opens a new name: "As Mrs. Hale" is "As", then "Mrs. Hale".
_NOT_A_TITLE = rf"(?!(?:{_HON})\.?\s+[A-Z])"
NAME_PATTERN = (
    rf"(?:(?:{_HON})\.?\s+)?{_TOKEN}"
    rf"(?:\s+(?:de\s+|De\s+)?{_NOT_A_TITLE}{_TOKEN}){{0,2}}"
)
_DESC = (
    r"(?:the|his|her|my|their|our|your|its|a|an|poor|little|old|young)"
    r"(?:\s+[A-Za-z][a-z'-]+){1,3}"
)
_DESC_STOP = frozenset(
    "to with in at and as who that which but or for from of on into upon by while when"
    " then again now at quite very so too after before behind over".split()
)
_SUBJ = rf"(?P<subj>{NAME_PATTERN}|he|she|I|we|they|{_DESC})"
_ADVERB = r"(?:\s+\w+ly|\s+then|\s+again|\s+now|\s+at\s+last|\s+at\s+length|\s+quickly)"
_AUX = r"(?:\s+(?:had|has|have|was|is|would|could|did|must|might|then|now|at\s+once))?"
_LEAD = r"^[\s,;:\u2014\u2013\-_)]*(?:and\s+|but\s+|then\s+|so\s+)?"
_VERB = r"(?P<verb>[a-z]+)"
_PARTICLE = r"(?:\s+(?:in|out|on|up|forth|back|again|at\s+last|at\s+length|warmly))?"

_AFTER_VERB_FIRST = re.compile(rf"{_LEAD}{_VERB}{_PARTICLE}{_ADVERB}?\s+{_SUBJ}\b")
# Subject first, the verb spelled out: a description may then be as long as it needs
# ("the Ferryman added", "the old man said") without swallowing the verb.
_SPEECH_VERB = "(?P<verb>" + "|".join(sorted(SPEECH_VERBS, key=len, reverse=True)) + ")"
_AFTER_SUBJ_FIRST = re.compile(rf"{_LEAD}{_SUBJ}{_ADVERB}?{_AUX}\s+{_SPEECH_VERB}\b")
# "…," was Mr. Whitlow's observation / was his only answer.
_AFTER_NOUN_TAG = re.compile(
    rf"{_LEAD}(?:was|were)\s+"
    rf"(?P<subj>{NAME_PATTERN}(?=['\u2019]s)|his|her)(?:['\u2019]s)?"
    r"(?:\s+[a-z]+){0,2}?\s+(?P<noun>answer|reply|observation|remark|rejoinder|"
    r"response|exclamation|question|cry|comment|retort|words|greeting|conclusion)\b"
)
_VERB_WORD = re.compile(r"\b(?:" + "|".join(sorted(SPEECH_VERBS)) + r")\b")
_SUBJ_ANY = re.compile(rf"(?P<subj>{NAME_PATTERN}|\b[Hh]e\b|\b[Ss]he\b|\bI\b)")
_SUBJ_NEXT = re.compile(rf"\s+(?:\w+ly\s+)?(?P<subj>{NAME_PATTERN}|he|she|I)\b")
# Words after which a name is an object, not the subject of a speech verb ("by",
# "for" and "of" may bring in the one who speaks: "roused by Tom's saying", "for Tom
# to say", "the voice of Tom saying").
OBJECT_PREPOSITIONS = frozenset(
    "to at with from on upon into towards toward about after than like against behind"
    " beside near".split()
)
# After such a name, what keeps it the one acting: "Tom's saying", "Tom, who said".
_STILL_ACTS = re.compile(r"['\u2019]s\b|,\s*who\b")
# A name in the possessive before a noun ("Tom's letter") only qualifies that noun;
# before a gerund ("Tom's saying", "Tom's giving a sigh") it still names who acts.
_POSSESSOR = re.compile(r"['\u2019]s\s+(?!\w+ing\b)[a-z]")
# "...," she said to herself / he muttered, half to himself.
_TO_ONESELF = re.compile(
    r"[\s,]*(?:\w+ly\s+|half\s+)?to\s+(?:her|him|it|them|my|your)sel(?:f|ves)\b"
)
# A tag before a quote must end this close to the quote, in characters.
BEFORE_REACH_CHARS = 90
_SUBJECT_START = re.compile(
    rf"^\s*(?P<subj>(?:His|Her|The)\s+[a-z]+|{NAME_PATTERN}|He|She|I)\b(?!\.)"
)
_OPENING_PHRASE = re.compile(r"\s*[A-Z][^,.;:!?\"]{0,40},\s*")
_SENTENCE_END = re.compile(r"(?<!Mr)(?<!Mrs)(?<!Ms)(?<!Dr)(?<!St)[.!?]\s+(?=[A-Z\"'])")


# Kinds of subject that make the narration's actor.
_ACTOR_KINDS = frozenset({"name", "pronoun", "narrator", "relation", "description"})

_DESC_HEADS = frozenset(
    "the his her my their our your its a an poor little old young".split()
)


@dataclass(frozen=True)
class Tag:
    """What a tag says about a speaker; resolved to a person later."""

    kind: str  # "name", "pronoun", "narrator", "relation", "description", "actor"
    words: str  # the subject as printed: "Clara", "she", "his wife", "the old man"
    gender: str = "unknown"
    position: int = 0  # offset of the subject in the text
    before: bool = False  # the tag stands before the quote
    verb: str = ""  # the speech verb, lower case
    aside: bool = False  # said to oneself ("she said to herself")

    @property
    def replies(self) -> bool:
        """The verb says someone answers the last speaker (``she replied``)."""
        return self.verb in REPLYING_VERBS

    @property
    def inward(self) -> bool:
        """The line is said to nobody (``she thought``, ``he said to himself``): it
        answers no one and takes no turn in the conversation around it."""
        return self.aside or self.verb in THOUGHT_VERBS

    @property
    def continues(self) -> bool:
        """The verb says the last speaker goes on (``he added``, ``she continued``)."""
        return self.verb in CONTINUING_VERBS


def tag_after(text: str, start: int, stop: int) -> Tag | None:
    """A speech tag in the narration ``text[start:stop]`` that follows a quote."""
    window = text[start : min(stop, start + TAG_WINDOW_CHARS)]
    m = _AFTER_NOUN_TAG.match(window)
    if m:
        subj = m.group("subj")
        subj = {"his": "he", "her": "she"}.get(subj, subj)
        tag = _classify(subj, start + m.start("subj"))
        if tag is not None:
            return replace(tag, verb="said")
    for pattern in (_AFTER_VERB_FIRST, _AFTER_SUBJ_FIRST):
        m = pattern.match(window)
        if m and m.group("verb") in SPEECH_VERBS:
            tag = _classify(m.group("subj"), start + m.start("subj"))
            if tag is not None:
                aside = _TO_ONESELF.match(window, m.end()) is not None
                return replace(tag, verb=m.group("verb"), aside=aside)
    return None


def tag_before(text: str, start: int, stop: int) -> Tag | None:
    """A speech tag in the narration ``text[start:stop]`` that leads into a quote."""
    clause = text[max(start, stop - 400) : stop]
    sentences = _SENTENCE_END.split(clause)
    last = sentences[-1] if sentences else ""
    offset = stop - len(last)
    verbs = list(_VERB_WORD.finditer(last))
    if not verbs or len(last) - verbs[-1].end() > BEFORE_REACH_CHARS:
        return None
    verb = verbs[-1]
    m = _SUBJ_NEXT.match(last, verb.end())
    if m is not None:
        tag = _classify(m.group("subj"), offset + m.start("subj"), before=True)
        return None if tag is None else replace(tag, verb=verb.group(0))
    subjects = list(_SUBJ_ANY.finditer(last, 0, verb.start()))
    for m in reversed(subjects):
        if _spoken_to(last, m):
            continue  # "He turned to Tom and said": Tom is spoken to
        if _POSSESSOR.match(last, m.end("subj")):
            continue  # "He read Tom's letter, saying": Tom only owns the letter
        tag = _classify(m.group("subj"), offset + m.start("subj"), before=True)
        if tag is not None:
            return replace(tag, verb=verb.group(0))
    return None


def _spoken_to(text: str, m: re.Match[str]) -> bool:
    """True when the subject candidate ``m`` is the object of a preposition
    (``turned to Tom``), unless it still acts: ``Tom's saying``, ``Tom, who said``."""
    words = text[max(0, m.start("subj") - 12) : m.start("subj")].split()
    if not words or words[-1].lower() not in OBJECT_PREPOSITIONS:
        return False
    return _STILL_ACTS.match(text, m.end("subj")) is None


def actor(text: str, start: int, stop: int) -> Tag | None:
    """The subject of the narration before a quote: its last sentence, else its first.

    A name, ``he``/``she``, a relation (``her father began his inquiries``) or a
    description (``the duchess rose``).
    """
    window = text[max(start, stop - 400) : stop]
    sentences = [x for x in _SENTENCE_END.split(window) if x.strip()]
    candidates = sentences[-1:] + (
        [text[start : min(stop, start + 300)]] if len(sentences) > 1 else []
    )
    for sentence in candidates:
        m = _SUBJECT_START.match(sentence)
        if m is None or m.group("subj").lower() in NOT_NAMES:
            # "Years later, Ann sat ...": the subject follows an opening phrase.
            opening = _OPENING_PHRASE.match(sentence)
            rest = sentence[opening.end() :] if opening else ""
            m = _SUBJECT_START.match(rest) if rest else None
        if m is None:
            continue
        position = text.find(m.group("subj"), start, stop)
        tag = _classify(m.group("subj"), max(position, start), before=True)
        if tag is not None and tag.kind in _ACTOR_KINDS:
            kind = tag.kind if tag.kind in ("relation", "description") else "actor"
            return Tag(kind, tag.words, tag.gender, tag.position, True)
    return None


# What a subject does when the narration gives their answer instead of quoting it:
# reported ("Tom replied that he had", "Ann assured him of it") or without words
# ("Tom shook his head", "Ann made no answer", "he smiled").
_RESPONSE = re.compile(
    r"\b(?:replied|answered|assured|made\s+no\s+(?:answer|reply)|said\s+nothing|"
    r"was\s+silent|shook\s+(?:his|her)\s+head|nodded|smiled|laughed)\b"
)


def responds(text: str, position: int, stop: int) -> bool:
    """True when the sentence of the narration's subject at ``position`` (up to
    ``stop``) reports that subject's answer: that was their turn in the exchange."""
    sentence = _SENTENCE_END.split(text[position:stop], maxsplit=1)[0]
    return _RESPONSE.search(sentence) is not None


def _classify(subj: str, position: int, before: bool = False) -> Tag | None:
    """Sort a tag's subject into a name, pronoun, relation or description."""
    subj = " ".join(subj.split())
    low = subj.lower()
    if low in ("he", "she"):
        return Tag("pronoun", low, PRONOUN_GENDER[low], position, before)
    if subj == "I":
        return Tag("narrator", subj, "unknown", position, before)
    if low in ("we", "they"):
        return None
    words = low.split()
    if len(words) > 1 and words[0] in _DESC_HEADS:
        for k in range(1, len(words)):
            if words[k] in _DESC_STOP or words[k].endswith("ly"):
                words = words[:k]
                subj = " ".join(subj.split()[:k])
                low = " ".join(words)
                break
    if words[0] in ("his", "her", "my", "their", "our", "your", "its"):
        head = words[-1]
        return Tag("relation", low, KIN_GENDER.get(head, "unknown"), position, before)
    if words[0] in ("the", "a", "an", "poor", "little", "old", "young"):
        rest = subj.split(" ", 1)[1] if " " in subj else ""
        if rest[:1].isupper():
            return Tag("name", subj, "unknown", position, before)
        head = words[-1]
        gender = KIN_GENDER.get(head, "unknown")
        return Tag("description", low, gender, position, before)
    if words[0] in NOT_NAMES and words[0] not in HONORIFICS:
        return None
    return Tag("name", subj, "unknown", position, before)
