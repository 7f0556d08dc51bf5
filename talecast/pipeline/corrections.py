"""A person's corrections: who speaks a line, a speaker's voice, how a word sounds.

Corrections are plain JSON, the same for the command line and the API::

    {
      "speakers": [{"start_char": 1042, "speaker": "Elizabeth"},
                   {"start_char": 2210, "speaker": "Narrator"}],
      "voices": {"Elizabeth": 3, "Narrator": 1},
      "pronunciations": {"Darcy": "Dar see"}
    }

``start_char`` is where a quote starts in the story's text (``script.json`` of a render
lists every line with it). A quote given to ``Narrator`` is read as narration: it leaves
the dialogue track, for a letter, a sign or a thought the attribution took for speech.
A name the story never attributed joins the cast. A correction applies to every part of
one quotation (``"A," said she, "B."``). ``voices`` pins speakers to voice ids; everyone
not pinned is cast as usual, around the pinned voices. ``pronunciations`` say what to
speak for a word (whole word, any case), on top of the story's dictionaries.

Applying corrections changes only which lines a voice speaks, or how a word is said, so
a re-render takes the unchanged lines from the line cache and synthesizes only the lines
a correction touches.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from talecast.errors import CorrectionError, VoiceError
from talecast.pipeline.types import NARRATOR, Attribution, Character, Utterance
from talecast.pipeline.voices import get_voice

MAX_NAME_CHARS = 100
MAX_SPEAKER_CORRECTIONS = 100_000
MAX_PRONUNCIATIONS = 10_000
MAX_SAY_CHARS = 500
CORRECTED = "corrected"  # the ``method`` of a line a person attributed


@dataclass
class Corrections:
    """Speakers by quote start offset, and voice ids by speaker name."""

    speakers: dict[int, str] = field(default_factory=dict)
    voices: dict[str, int] = field(default_factory=dict)
    pronunciations: dict[str, str] = field(default_factory=dict)  # word -> what to say

    def __bool__(self) -> bool:
        return bool(self.speakers or self.voices or self.pronunciations)

    def merged(self, newer: Corrections) -> Corrections:
        """These corrections with ``newer`` on top (newer wins where both say one)."""
        return Corrections(
            {**self.speakers, **newer.speakers},
            {**self.voices, **newer.voices},
            {**self.pronunciations, **newer.pronunciations},
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form :func:`parse_corrections` reads."""
        return {
            "speakers": [
                {"start_char": start, "speaker": name}
                for start, name in sorted(self.speakers.items())
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
    unknown = sorted(set(raw) - {"speakers", "voices", "pronunciations"})
    if unknown:
        raise CorrectionError(
            f"unknown key {unknown[0]!r}; corrections have 'speakers', 'voices' and "
            "'pronunciations'",
            ("body", unknown[0]),
        )
    speakers, voices = raw.get("speakers"), raw.get("voices")
    said = raw.get("pronunciations")
    return Corrections(
        _parse_speakers([] if speakers is None else speakers),
        _parse_voices({} if voices is None else voices),
        _parse_pronunciations({} if said is None else said),
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


def _parse_speakers(items: object) -> dict[int, str]:
    if not isinstance(items, list):
        raise CorrectionError(
            "'speakers' must be a list of {start_char, speaker}", ("body", "speakers")
        )
    if len(items) > MAX_SPEAKER_CORRECTIONS:
        raise CorrectionError(
            f"at most {MAX_SPEAKER_CORRECTIONS} speaker corrections at once",
            ("body", "speakers"),
        )
    speakers: dict[int, str] = {}
    for index, item in enumerate(items):
        loc = ("body", "speakers", index)
        if not isinstance(item, Mapping) or set(item) != {"start_char", "speaker"}:
            raise CorrectionError(
                'each speaker correction is {"start_char": int, "speaker": name}', loc
            )
        start = item["start_char"]
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise CorrectionError(
                f"start_char must be a character offset (an integer >= 0), "
                f"not {start!r}",
                (*loc, "start_char"),
            )
        speakers[start] = _check_name(item["speaker"], (*loc, "speaker"))
    return speakers


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
