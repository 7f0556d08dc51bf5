"""A person's corrections: who speaks a line, a speaker's voice, how a word sounds.

Corrections are plain JSON, the same for the command line and the API::

    {
      "speakers": [{"start_char": 1042, "speaker": "Margaret"},
                   {"start_char": 2210, "speaker": "Narrator"}],
      "speech": [{"start_char": 3100, "end_char": 3164, "speaker": "Mr. Pruett"}],
      "voices": {"Margaret": 3, "Narrator": 1},
      "pronunciations": {"Thorne": "Thorn"}
    }

``start_char`` is where a quote starts in the story's text (``script.json`` of a render
lists every line with it). A quote given to ``Narrator`` is read as narration: it leaves
the dialogue track, for a letter, a sign or a thought the attribution took for speech.
``speech`` is the other way round: the story text from ``start_char`` to ``end_char``
(narration lines of ``script.json`` give both) is spoken by a character, for speech the
quote finder missed (no quotation marks, a letter read aloud); it becomes a dialogue
line of its own and may not overlap a quote or a chapter heading. A name the story never
attributed joins the cast. A correction applies to every part of one quotation (``"A,"
said she, "B."``). ``voices`` pins speakers to voice ids; everyone not pinned is cast as
usual, around the pinned voices. ``pronunciations`` say what to speak for a word (whole
word, any case), on top of the story's dictionaries.

Applying corrections changes only which lines a voice speaks, or how a word is said, so
a re-render takes the unchanged lines from the line cache and synthesizes only the lines
a correction touches.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from talecast.errors import CorrectionError, VoiceError
from talecast.pipeline.dialogue import PARAGRAPH_BREAK
from talecast.pipeline.script import heading_span
from talecast.pipeline.types import (
    NARRATOR,
    Attribution,
    Character,
    Document,
    Quote,
    Utterance,
)
from talecast.pipeline.voices import get_voice

MAX_NAME_CHARS = 100
MAX_SPEAKER_CORRECTIONS = 100_000
MAX_PRONUNCIATIONS = 10_000
MAX_SAY_CHARS = 500
CORRECTED = "corrected"  # the ``method`` of a line a person attributed


@dataclass
class Corrections:
    """Speakers by quote start offset, voice ids by speaker name, spoken stretches of
    narration by start offset (``(end_char, speaker)``) and what to say for words."""

    speakers: dict[int, str] = field(default_factory=dict)
    voices: dict[str, int] = field(default_factory=dict)
    pronunciations: dict[str, str] = field(default_factory=dict)  # word -> what to say
    speech: dict[int, tuple[int, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.speakers or self.voices or self.pronunciations or self.speech)

    def merged(self, newer: Corrections) -> Corrections:
        """These corrections with ``newer`` on top (newer wins where both say one)."""
        return Corrections(
            {**self.speakers, **newer.speakers},
            {**self.voices, **newer.voices},
            {**self.pronunciations, **newer.pronunciations},
            {**self.speech, **newer.speech},
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form :func:`parse_corrections` reads."""
        return {
            "speakers": [
                {"start_char": start, "speaker": name}
                for start, name in sorted(self.speakers.items())
            ],
            "speech": [
                {"start_char": start, "end_char": end, "speaker": name}
                for start, (end, name) in sorted(self.speech.items())
            ],
            "voices": dict(sorted(self.voices.items())),
            "pronunciations": dict(sorted(self.pronunciations.items())),
        }


def parse_corrections(raw: object) -> Corrections:
    """Read and check the JSON form; CorrectionError says what is wrong and where."""
    if raw is None:
        return Corrections()
    if not isinstance(raw, Mapping):
        raise CorrectionError("corrections must be a JSON object")
    unknown = sorted(set(raw) - {"speakers", "speech", "voices", "pronunciations"})
    if unknown:
        raise CorrectionError(
            f"unknown key {unknown[0]!r}; corrections have 'speakers', 'speech', "
            "'voices' and 'pronunciations'",
            ("body", unknown[0]),
        )
    speakers, voices = raw.get("speakers"), raw.get("voices")
    said, speech = raw.get("pronunciations"), raw.get("speech")
    return Corrections(
        _parse_speakers([] if speakers is None else speakers),
        _parse_voices({} if voices is None else voices),
        _parse_pronunciations({} if said is None else said),
        _parse_speech([] if speech is None else speech),
    )


def _parse_pronunciations(items: object) -> dict[str, str]:
    loc: tuple[str | int, ...] = ("body", "pronunciations")
    if not isinstance(items, Mapping):
        raise CorrectionError(
            "'pronunciations' must be an object of word -> what to say", loc
        )
    if len(items) > MAX_PRONUNCIATIONS:
        raise CorrectionError(
            f"at most {MAX_PRONUNCIATIONS} pronunciations at once", loc
        )
    said: dict[str, str] = {}
    for word, say in items.items():
        where = (*loc, str(word))
        if not isinstance(word, str) or not word.strip() or len(word) > MAX_NAME_CHARS:
            raise CorrectionError(
                f"a word is 1-{MAX_NAME_CHARS} characters, not {word!r}", where
            )
        if not isinstance(say, str) or not say.strip() or len(say) > MAX_SAY_CHARS:
            raise CorrectionError(
                f"what to say for {word!r} must be 1-{MAX_SAY_CHARS} characters", where
            )
        said[word.strip()] = " ".join(say.split())
    return said


def _items(items: object, key: str, what: str, shape: str) -> list[Mapping[str, Any]]:
    """The entries of the list under ``key`` (``what`` corrections), each a mapping with
    exactly the keys of ``shape`` (``{"start_char": int, ...}``); CorrectionError
    otherwise."""
    loc: tuple[str | int, ...] = ("body", key)
    if not isinstance(items, list):
        raise CorrectionError(f"{key!r} must be a list of {shape}", loc)
    if len(items) > MAX_SPEAKER_CORRECTIONS:
        raise CorrectionError(
            f"at most {MAX_SPEAKER_CORRECTIONS} {what} corrections at once", loc
        )
    wanted = set(re.findall(r'"(\w+)"', shape))
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or set(item) != wanted:
            raise CorrectionError(f"each {what} correction is {shape}", (*loc, index))
    return items


def _offset(value: object, loc: tuple[str | int, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CorrectionError(
            f"{loc[-1]} must be a character offset (an integer >= 0), not {value!r}",
            loc,
        )
    return value


def _parse_speakers(items: object) -> dict[int, str]:
    speakers: dict[int, str] = {}
    shape = '{"start_char": int, "speaker": name}'
    for index, item in enumerate(_items(items, "speakers", "speaker", shape)):
        loc = ("body", "speakers", index)
        start = _offset(item["start_char"], (*loc, "start_char"))
        speakers[start] = _check_name(item["speaker"], (*loc, "speaker"))
    return speakers


def _parse_speech(items: object) -> dict[int, tuple[int, str]]:
    speech: dict[int, tuple[int, str]] = {}
    shape = '{"start_char": int, "end_char": int, "speaker": name}'
    for index, item in enumerate(_items(items, "speech", "speech", shape)):
        loc = ("body", "speech", index)
        start = _offset(item["start_char"], (*loc, "start_char"))
        end = _offset(item["end_char"], (*loc, "end_char"))
        if end <= start:
            raise CorrectionError(
                f"end_char ({end}) must be after start_char ({start})",
                (*loc, "end_char"),
            )
        speaker = _check_name(item["speaker"], (*loc, "speaker"))
        if speaker == NARRATOR:
            raise CorrectionError(
                "narration is the Narrator's already; name the character who says it",
                (*loc, "speaker"),
            )
        speech[start] = (end, speaker)
    return speech


def _parse_voices(items: object) -> dict[str, int]:
    if not isinstance(items, Mapping):
        raise CorrectionError(
            "'voices' must be an object of speaker name -> voice id", ("body", "voices")
        )
    voices: dict[str, int] = {}
    for name, voice_id in items.items():
        loc = ("body", "voices", str(name))
        name = _check_name(name, loc)
        if isinstance(voice_id, bool) or not isinstance(voice_id, int):
            raise CorrectionError(f"the voice of {name!r} must be a voice id", loc)
        try:
            get_voice(voice_id)
        except VoiceError as exc:
            raise CorrectionError(f"{name!r}: {exc}", loc) from exc
        voices[name] = voice_id
    return voices


def _check_name(name: object, loc: tuple[str | int, ...]) -> str:
    if not isinstance(name, str) or not name.strip():
        raise CorrectionError("a speaker is a non-empty name", loc)
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS:
        raise CorrectionError(
            f"a speaker name has at most {MAX_NAME_CHARS} characters", loc
        )
    return NARRATOR if name.lower() == NARRATOR.lower() else name


def apply_speakers(attribution: Attribution, corrections: Corrections) -> Attribution:
    """The attribution with corrected speakers; CorrectionError for an offset that is
    not inside a quote of the story.

    An offset anywhere inside a quote selects it (the opening quotation mark is the
    ``start_char`` that ``script.json`` gives); the correction applies to the quote's
    whole group.
    """
    if not corrections.speakers:
        return attribution
    utterances = sorted(attribution.utterances, key=lambda u: u.quote.start_char)
    starts = [u.quote.start_char for u in utterances]
    by_group: dict[int, str] = {}
    missing: list[int] = []
    for offset, name in corrections.speakers.items():
        at = bisect.bisect_right(starts, offset) - 1
        if at < 0 or offset >= utterances[at].quote.end_char:
            missing.append(offset)
            continue
        by_group[utterances[at].quote.group] = name
    if missing:
        shown = ", ".join(str(m) for m in sorted(missing)[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise CorrectionError(
            f"no quote of the story is at character offset {shown}{more}; use the "
            "start_char of a dialogue line from script.json",
            ("body", "speakers"),
        )

    kept: list[Utterance] = []
    for utt in utterances:
        name = by_group.get(utt.quote.group)
        if name is None:
            kept.append(utt)
        elif name != NARRATOR:  # to the narrator: the quote is read as narration
            kept.append(replace(utt, speaker=name, confidence=1.0, method=CORRECTED))
    characters = list(attribution.characters)
    known = {c.name for c in characters}
    for name in sorted(set(by_group.values()) - known - {NARRATOR}):
        characters.append(Character(name))
    return replace(attribution, characters=characters, utterances=kept)


def apply_speech(
    attribution: Attribution, corrections: Corrections, document: Document
) -> Attribution:
    """The attribution with each ``speech`` correction added as a quote of its own,
    spoken by its speaker; CorrectionError for a span outside the text, across two
    chapters, over a chapter heading or overlapping a quote (or another span)."""
    if not corrections.speech:
        return attribution
    text = document.text
    taken = sorted(
        (u.quote.start_char, u.quote.end_char) for u in attribution.utterances
    )
    group = max((u.quote.group for u in attribution.utterances), default=-1) + 1
    breaks = [m.end() for m in re.finditer(PARAGRAPH_BREAK, text)]
    added: list[Utterance] = []
    for index, (start, (end, speaker)) in enumerate(sorted(corrections.speech.items())):
        loc: tuple[str | int, ...] = ("body", "speech", index)
        if end > len(text):
            raise CorrectionError(
                f"end_char {end} is past the end of the story ({len(text)} characters)",
                (*loc, "end_char"),
            )
        _check_span_fits(document, start, end, loc)
        other = overlapped(taken, start, end)
        if other is not None:
            raise CorrectionError(
                f"characters {start}-{end} overlap the quote at {other}; correct "
                "that quote's speaker under 'speakers' instead",
                loc,
            )
        words = " ".join(text[start:end].split())
        if not any(ch.isalnum() for ch in words):
            raise CorrectionError(
                f"characters {start}-{end} hold no words to speak", loc
            )
        bisect.insort(taken, (start, end))
        paragraph = bisect.bisect_right(breaks, start)  # as the quote finder counts
        quote = Quote(start, end, words, group + index, paragraph)
        added.append(Utterance(quote, speaker, 1.0, CORRECTED))
    utterances = sorted(
        [*attribution.utterances, *added], key=lambda u: u.quote.start_char
    )
    characters = list(attribution.characters)
    known = {c.name for c in characters}
    for name in sorted({u.speaker for u in added} - known):
        characters.append(Character(name))
    return replace(attribution, characters=characters, utterances=utterances)


def overlapped(spans: list[tuple[int, int]], start: int, end: int) -> int | None:
    """The start of the span in ``spans`` (sorted, none overlapping another) that
    ``[start, end)`` overlaps, or None."""
    at = bisect.bisect_left(spans, (end, end))
    return spans[at - 1][0] if at > 0 and spans[at - 1][1] > start else None


def _check_span_fits(
    document: Document, start: int, end: int, loc: tuple[str | int, ...]
) -> None:
    for chapter in document.chapters:
        if chapter.start_char <= start < chapter.end_char:
            if end > chapter.end_char:
                raise CorrectionError(
                    f"characters {start}-{end} run past the end of their chapter "
                    f"(at {chapter.end_char}); correct each chapter's part apart",
                    loc,
                )
            heading = heading_span(document.text, chapter)
            if heading and start < heading[1] and heading[0] < end:
                raise CorrectionError(
                    f"characters {start}-{end} take in the chapter heading "
                    f"{chapter.title!r}",
                    loc,
                )
            return


def check_voices(corrections: Corrections, speakers: set[str]) -> None:
    """CorrectionError when a voice correction names nobody who speaks in the story."""
    unknown = sorted(set(corrections.voices) - speakers - {NARRATOR})
    if unknown:
        cast = ", ".join(sorted(speakers - {NARRATOR})[:20]) or "only the Narrator"
        raise CorrectionError(
            f"{unknown[0]!r} speaks no line of this story, so cannot be given a voice; "
            f"its speakers are: {cast}",
            ("body", "voices", unknown[0]),
        )
