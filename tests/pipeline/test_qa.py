"""The listening check: offline Whisper on every rendered line, against its text."""

import json
import shutil
from pathlib import Path

import pytest

from talecast.pipeline.qa import check_run, word_errors, words
from talecast.pipeline.reading import read_story_file
from talecast.pipeline.render import RenderOptions, render_story

STORY = Path(__file__).resolve().parents[2] / "examples" / "lighthouse.md"


def test_words_compare_what_a_listener_hears():
    assert words("You'll not finish, Thomas!") == words("You will not finish Thomas")
    assert words("Chapter One.") == words("chapter 1")
    assert words("the keeper's visitors") == words("the keepers visitor")


def test_word_errors_count_substitutions_insertions_and_deletions():
    assert word_errors(["a", "b", "c"], ["a", "b", "c"]) == 0
    assert word_errors(["a", "b", "c"], ["a", "x", "c"]) == 1
    assert word_errors(["a", "b", "c"], ["a", "c"]) == 1
    assert word_errors(["a", "b"], ["a", "b", "c", "d"]) == 2
    assert word_errors([], ["a"]) == 1


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("qa")
    render_story(
        read_story_file(STORY),
        out / "run",
        RenderOptions(profile="fast"),
        cache_dir=out / "cache",
    )
    return out / "run"


def test_a_clean_render_is_heard_as_written(rendered):
    calls = []
    report = check_run(rendered, progress=lambda f, m: calls.append(f))
    segments = json.loads((rendered / "segments.json").read_text())
    assert report["lines_checked"] == len(segments)
    assert report["word_error_rate"] < 0.15
    # tiny.en mishears a short line in a robotic fast voice now and then, no more.
    assert report["flagged_count"] <= 3
    for item in report["flagged"]:
        assert len(item["text"].split()) <= 6, item
    assert set(report["by_voice"]) == {str(s["voice_id"]) for s in segments}
    assert calls[-1] == 1.0 and calls == sorted(calls)
    assert json.loads((rendered / "qa.json").read_text()) == report


def test_a_line_whose_audio_says_something_else_is_flagged(rendered, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(rendered, broken)
    segments = json.loads((broken / "segments.json").read_text())
    target = max(segments, key=lambda s: len(s["text"]))
    target["text"] = "Seven purple giraffes juggled oranges beneath a frozen waterfall."
    (broken / "segments.json").write_text(json.dumps(segments))
    clean = check_run(rendered)["flagged_count"]
    report = check_run(broken, only_dialogue=False)
    assert report["flagged_count"] == clean + 1
    flagged = report["flagged"][0]  # the worst first
    assert flagged["text"] == target["text"] and flagged["wer"] >= 0.8
    assert flagged["heard"]  # what was really said


def test_only_dialogue_and_every_nth_line(rendered, tmp_path):
    report = check_run(rendered, only_dialogue=True, every=2)
    segments = json.loads((rendered / "segments.json").read_text())
    dialogue = [s for s in segments if s["kind"] == "dialogue"]
    assert report["lines_checked"] == len(dialogue[::2])
    narrator = {str(s["voice_id"]) for s in segments if s["speaker"] == "Narrator"}
    assert not narrator & set(report["by_voice"]) and len(report["by_voice"]) >= 2
