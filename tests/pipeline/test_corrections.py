"""Speaker and voice corrections: parsed strictly, applied to the plan, re-rendered."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from talecast.errors import CorrectionError
from talecast.pipeline.corrections import Corrections, parse_corrections
from talecast.pipeline.reading import read_story_file
from talecast.pipeline.render import RenderOptions, plan_story, render_story

STORY = Path(__file__).resolve().parents[2] / "examples" / "lighthouse.md"


@pytest.fixture(scope="module")
def document():
    return read_story_file(STORY)


@pytest.fixture(scope="module")
def plain_plan(document):
    return plan_story(document, RenderOptions(profile="fast"))


def _dialogue(plan):
    return [ln for ln in plan.lines if ln.kind == "dialogue"]


def _reassigned(document, start_char, speaker, keep_voices=None):
    """The fast plan with the quote at ``start_char`` given to ``speaker``."""
    return plan_story(
        document,
        RenderOptions(
            profile="fast",
            corrections={"speakers": [{"start_char": start_char, "speaker": speaker}]},
            keep_voices=keep_voices,
        ),
    )


def test_parse_reads_the_json_form_and_round_trips():
    raw = {
        "speakers": [
            {"start_char": 12, "speaker": "  Ann   Lee "},
            {"start_char": 3, "speaker": "narrator"},
        ],
        "voices": {"Ann Lee": 20},
    }
    parsed = parse_corrections(raw)
    assert parsed.speakers == {12: "Ann Lee", 3: "Narrator"}
    assert parsed.voices == {"Ann Lee": 20}
    assert parse_corrections(parsed.to_dict()) == parsed
    assert not parse_corrections(None) and not parse_corrections({})


@pytest.mark.parametrize(
    ("raw", "loc", "words"),
    [
        ([1], ("body",), "JSON object"),
        ({"speaker": []}, ("body", "speaker"), "unknown key"),
        ({"speakers": {}}, ("body", "speakers"), "must be a list"),
        ({"speakers": [{"start_char": 4}]}, ("body", "speakers", 0), "start_char"),
        (
            {"speakers": [{"start_char": "4", "speaker": "A"}]},
            ("body", "speakers", 0, "start_char"),
            "integer",
        ),
        (
            {"speakers": [{"start_char": True, "speaker": "A"}]},
            ("body", "speakers", 0, "start_char"),
            "integer",
        ),
        (
            {"speakers": [{"start_char": 4, "speaker": " "}]},
            ("body", "speakers", 0, "speaker"),
            "non-empty",
        ),
        ({"voices": {"Ann": 999}}, ("body", "voices", "Ann"), "unknown voice id 999"),
        ({"voices": {"Ann": "1"}}, ("body", "voices", "Ann"), "voice id"),
        ({"voices": {"Ann": None}}, ("body", "voices", "Ann"), "voice id"),
        ({"pronunciations": []}, ("body", "pronunciations"), "word -> what to say"),
        (
            {"pronunciations": {"Thorne": " "}},
            ("body", "pronunciations", "Thorne"),
            "what to say",
        ),
    ],
)
def test_parse_refuses_malformed_corrections_saying_where(raw, loc, words):
    with pytest.raises(CorrectionError, match=words) as caught:
        parse_corrections(raw)
    assert caught.value.loc == loc
    assert caught.value.reason == "INVALID_CORRECTIONS"


def test_merged_keeps_older_corrections_and_lets_newer_win():
    old = Corrections({10: "Ann", 20: "Bob"}, {"Ann": 1})
    new = Corrections({20: "Cy"}, {"Bob": 2})
    assert old.merged(new) == Corrections({10: "Ann", 20: "Cy"}, {"Ann": 1, "Bob": 2})


def test_a_corrected_quote_changes_speaker_and_voice_and_nothing_else(
    document, plain_plan
):
    first = _dialogue(plain_plan)[0]
    other = next(
        ln for ln in _dialogue(plain_plan) if ln.speaker not in (first.speaker,)
    )
    options = RenderOptions(
        profile="fast",
        # An offset inside the quote selects it as well as its opening mark does.
        corrections={
            "speakers": [{"start_char": first.start_char + 5, "speaker": other.speaker}]
        },
        keep_voices={n: e.voice_id for n, e in plain_plan.cast.items()},
    )
    plan = plan_story(document, options)
    assert len(plan.lines) == len(plain_plan.lines)
    changed = [
        (a, b)
        for a, b in zip(plain_plan.lines, plan.lines, strict=True)
        if (a.speaker, a.voice_id) != (b.speaker, b.voice_id)
    ]
    assert len(changed) == 1
    before, after = changed[0]
    assert before.start_char == first.start_char
    assert (after.speaker, after.voice_id) == (other.speaker, other.voice_id)
    assert after.method == "corrected" and after.confidence == 1.0
    # Everyone keeps their voice.
    for name, entry in plan.cast.items():
        assert entry.voice_id == plain_plan.cast[name].voice_id


def test_a_quote_given_to_the_narrator_is_read_as_narration(document, plain_plan):
    first = _dialogue(plain_plan)[0]
    plan = _reassigned(document, first.start_char, "Narrator")
    assert first.start_char not in {ln.start_char for ln in _dialogue(plan)}
    narrated = next(ln for ln in plan.lines if ln.start_char == first.start_char)
    assert narrated.kind == "narration" and narrated.speaker == "Narrator"
    assert first.text in narrated.text
    assert len(_dialogue(plan)) == len(_dialogue(plain_plan)) - 1


def test_a_new_name_joins_the_cast_with_a_voice_of_its_own(document, plain_plan):
    first = _dialogue(plain_plan)[0]
    kept = {n: e.voice_id for n, e in plain_plan.cast.items()}
    plan = _reassigned(document, first.start_char, "The Stranger", kept)
    assert plan.cast["The Stranger"].lines == 1
    others = {e.voice_id for n, e in plan.cast.items() if n != "The Stranger"}
    assert plan.cast["The Stranger"].voice_id not in others


def test_a_pinned_voice_is_used_for_every_line_of_its_speaker(document, plain_plan):
    speaker = _dialogue(plain_plan)[0].speaker
    taken = {e.voice_id for e in plain_plan.cast.values()}
    from talecast.pipeline.voices import list_voices

    free = next(
        v.id for v in list_voices() if "fast" in v.profiles and v.id not in taken
    )
    plan = plan_story(
        document,
        RenderOptions(profile="fast", corrections={"voices": {speaker: free}}),
    )
    assert plan.cast[speaker].voice_id == free
    assert {ln.voice_id for ln in plan.lines if ln.speaker == speaker} == {free}


def test_corrections_that_do_not_fit_the_story_fail_naming_the_problem(document):
    with pytest.raises(CorrectionError, match="no quote of the story is at character"):
        plan_story(
            document,
            RenderOptions(
                corrections={"speakers": [{"start_char": 0, "speaker": "A"}]}
            ),
        )
    with pytest.raises(CorrectionError, match="'Nobody' speaks no line"):
        plan_story(document, RenderOptions(corrections={"voices": {"Nobody": 1}}))


def test_rerender_with_a_correction_synthesizes_only_that_line(tmp_path, document):
    cache = tmp_path / "cache"
    first = render_story(
        document, tmp_path / "a", RenderOptions(profile="fast"), cache_dir=cache
    )
    script = json.loads((first.out_dir / "script.json").read_text())
    assert len(script) == len(first.transcript)
    line = next(item for item in script if item["kind"] == "dialogue")
    assert {"start_char", "end_char", "confidence", "method", "voice_id"} <= set(line)
    other = next(
        item["speaker"]
        for item in script
        if item["kind"] == "dialogue" and item["speaker"] != line["speaker"]
    )
    entries_before = len(list(cache.rglob("*.*")))
    second = render_story(
        document,
        tmp_path / "b",
        RenderOptions(
            profile="fast",
            corrections={
                "speakers": [{"start_char": line["start_char"], "speaker": other}]
            },
            keep_voices={n: e.voice_id for n, e in first.cast.items()},
        ),
        cache_dir=cache,
    )
    # One line in a new voice: one new cache entry.
    assert len(list(cache.rglob("*.*"))) == entries_before + 1
    changed = [
        (a, b)
        for a, b in zip(first.transcript, second.transcript, strict=True)
        if a["speaker"] != b["speaker"]
    ]
    assert [(a["text"], b["speaker"]) for a, b in changed] == [(line["text"], other)]
    # Everything up to the line before it is sample-identical; the line itself is not.
    a_audio, rate = sf.read(first.narration_path, dtype="int16")
    b_audio, _ = sf.read(second.narration_path, dtype="int16")
    at = first.transcript.index(changed[0][0])
    cut = int(first.transcript[at - 1]["end"] * rate)
    assert np.array_equal(a_audio[:cut], b_audio[:cut])
    a_line = a_audio[
        int(changed[0][0]["start"] * rate) : int(changed[0][0]["end"] * rate)
    ]
    b_line = b_audio[
        int(changed[0][1]["start"] * rate) : int(changed[0][1]["end"] * rate)
    ]
    assert a_line.size != b_line.size or not np.array_equal(a_line, b_line)


def test_a_pronunciation_resynthesizes_only_the_lines_with_that_word(
    tmp_path, document
):
    cache = tmp_path / "cache"
    first = render_story(
        document, tmp_path / "a", RenderOptions(profile="fast"), cache_dir=cache
    )
    with_word = [i for i in first.transcript if "Albatross" in i["text"]]
    assert with_word
    before = len(list(cache.rglob("*.flac")))
    second = render_story(
        document,
        tmp_path / "b",
        RenderOptions(
            profile="fast", corrections={"pronunciations": {"albatross": "Al ba tross"}}
        ),
        cache_dir=cache,
    )
    assert len(list(cache.rglob("*.flac"))) == before + len(with_word)
    assert [i["text"] for i in second.transcript] == [
        i["text"] for i in first.transcript
    ]
    a_audio, rate = sf.read(first.narration_path, dtype="int16")
    b_audio, _ = sf.read(second.narration_path, dtype="int16")
    changed = with_word[0]
    cut = int(first.transcript[first.transcript.index(changed) - 1]["end"] * rate)
    assert np.array_equal(a_audio[:cut], b_audio[:cut])
    assert not np.array_equal(a_audio, b_audio)


LETTER = (
    "CHAPTER 1\n\n"
    '"Any post?" asked Hester.\n\n'
    "Tom unfolded the letter and read it out. Come home at once, the harvest will not "
    "wait. He put it down.\n\n"
    '"Then we go," said Hester.\n'
)


def _letter_plan(speech):
    from talecast.pipeline.reading import read_story

    document = read_story(LETTER.encode())
    options = RenderOptions(profile="fast", corrections={"speech": speech})
    return document, plan_story(document, options)


def test_speech_correction_makes_a_stretch_of_narration_a_characters_line():
    start = LETTER.index("Come home")
    end = LETTER.index(" He put")
    _, plan = _letter_plan([{"start_char": start, "end_char": end, "speaker": "Tom"}])
    spoken = [ln for ln in plan.lines if ln.speaker == "Tom"]
    assert [(ln.kind, ln.text, ln.start_char, ln.end_char) for ln in spoken] == [
        ("dialogue", "Come home at once, the harvest will not wait.", start, end)
    ]
    assert spoken[0].method == "corrected" and spoken[0].confidence == 1.0
    texts = [ln.text for ln in plan.lines]
    at = texts.index(spoken[0].text)
    assert texts[at - 1] == "Tom unfolded the letter and read it out."
    assert texts[at + 1] == "He put it down."
    assert (
        "Tom" in plan.cast and plan.cast["Tom"].voice_id != plan.cast["Hester"].voice_id
    )
    # The same correction given twice, or through the JSON form, reads the same.
    again = parse_corrections(
        {"speech": [{"start_char": start, "end_char": end, "speaker": "Tom"}]}
    )
    assert parse_corrections(again.to_dict()) == again


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (lambda: (LETTER.index("Any"), LETTER.index("asked") + 5), "overlap the quote"),
        (lambda: (LETTER.index("CHAPTER"), LETTER.index("Any")), "chapter heading"),
        (lambda: (len(LETTER) - 3, len(LETTER) + 40), "past the end of the story"),
        (
            lambda: (LETTER.index("\n\nTom") + 1, LETTER.index("\n\nTom") + 2),
            "no words",
        ),
    ],
)
def test_speech_correction_that_does_not_fit_the_story_is_refused(span, words):
    start, end = span()
    with pytest.raises(CorrectionError, match=words):
        _letter_plan([{"start_char": start, "end_char": end, "speaker": "Tom"}])


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ({"start_char": 5, "end_char": 5, "speaker": "Tom"}, "must be after"),
        ({"start_char": 5, "end_char": 9, "speaker": "Narrator"}, "Narrator's already"),
        ({"start_char": -1, "end_char": 9, "speaker": "Tom"}, "character offset"),
        ({"start_char": 1, "speaker": "Tom"}, "each speech correction"),
    ],
)
def test_speech_corrections_are_parsed_strictly(item, words):
    with pytest.raises(CorrectionError, match=words) as caught:
        parse_corrections({"speech": [item]})
    assert caught.value.loc[:3] == ("body", "speech", 0)
