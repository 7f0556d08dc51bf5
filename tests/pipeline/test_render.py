"""End to end: a short story with three characters rendered with real voices."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from talecast.pipeline.reading import read_story_file
from talecast.pipeline.render import RenderOptions, render_story

STORY = Path(__file__).resolve().parents[2] / "examples" / "lighthouse.md"


def _rms_db(x: np.ndarray) -> float:
    if x.size == 0:
        return -200.0
    return 20 * np.log10(np.sqrt(np.mean((x.astype(np.float64) / 32768) ** 2)) + 1e-12)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    calls = []
    result = render_story(
        read_story_file(STORY),
        out / "run",
        RenderOptions(profile="fast"),
        cache_dir=out / "cache",
        progress=lambda f, stage: calls.append((f, stage)),
    )
    return result, calls, out


def test_render_transcript_is_ordered_without_overlap(rendered):
    result, _, _ = rendered
    items = result.transcript
    assert len(items) > 20
    for a, b in zip(items, items[1:], strict=False):
        assert a["start"] < a["end"] <= b["start"]
    assert items[-1]["end"] <= result.duration_s
    on_disk = json.loads((result.out_dir / "transcript.json").read_text())
    assert on_disk == items


def test_render_every_item_is_audible_and_dialogue_track_follows_speakers(rendered):
    result, _, _ = rendered
    narration, rate = sf.read(result.narration_path, dtype="int16")
    dialogue, rate2 = sf.read(result.dialogue_path, dtype="int16")
    assert rate == rate2 == 24000 and narration.size == dialogue.size
    assert abs(narration.size / rate - result.duration_s) < 1e-6
    for item in result.transcript:
        a, b = int(item["start"] * rate), int(item["end"] * rate)
        assert _rms_db(narration[a:b]) > -45, item
        if item["speaker"] == "Narrator":
            assert not dialogue[a:b].any(), item
        else:
            assert _rms_db(dialogue[a:b]) > -45, item
    # Outside the characters' lines (exact sample offsets) the dialogue track is silent.
    spoken = np.zeros(dialogue.size, bool)
    segments = json.loads((result.out_dir / "segments.json").read_text())
    for seg in segments:
        if seg["kind"] == "dialogue":
            spoken[seg["start_sample"] : seg["end_sample"]] = True
    assert spoken.any() and not dialogue[~spoken].any()


def test_render_names_three_characters_each_with_their_own_voice(rendered):
    result, _, _ = rendered
    speakers = {i["speaker"] for i in result.transcript} - {"Narrator"}
    assert {"Martha", "Thomas"} <= speakers
    assert any("Hale" in s or s == "Edmund" for s in speakers), speakers
    cast = json.loads((result.out_dir / "cast.json").read_text())
    voices = {name: entry["voice_id"] for name, entry in cast.items()}
    assert len(set(voices.values())) == len(voices), voices
    segments = json.loads((result.out_dir / "segments.json").read_text())
    for seg in segments:
        assert seg["voice_id"] == voices[seg["speaker"]]


def test_render_reports_progress_from_zero_to_one(rendered):
    _, calls, _ = rendered
    fractions = [f for f, _ in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert {"attribution", "synthesis", "assembly", "done"} <= {s for _, s in calls}


def test_render_again_reuses_every_cached_line_and_gives_identical_audio(rendered):
    result, _, out = rendered
    again = render_story(
        read_story_file(STORY),
        out / "run2",
        RenderOptions(profile="fast"),
        cache_dir=out / "cache",
    )
    first = sf.read(result.narration_path, dtype="int16")[0]
    second = sf.read(again.narration_path, dtype="int16")[0]
    assert np.array_equal(first, second)
    assert again.transcript == result.transcript


def test_render_with_two_lines_at_once_gives_the_same_audio(rendered, tmp_path):
    result, _, _ = rendered
    calls = []
    again = render_story(
        read_story_file(STORY),
        tmp_path / "run",
        RenderOptions(profile="fast", threads=2),
        cache_dir=tmp_path / "cache",
        progress=lambda f, stage: calls.append(f),
    )
    first = sf.read(result.narration_path, dtype="int16")[0]
    second = sf.read(again.narration_path, dtype="int16")[0]
    assert np.array_equal(first, second)
    assert again.transcript == result.transcript
    assert calls == sorted(calls) and calls[-1] == 1.0
