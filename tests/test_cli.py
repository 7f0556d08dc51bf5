"""The talecast command as a user runs it: real subprocesses, real files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from talecast.pipeline.reading import read_story_file

ROOT = Path(__file__).resolve().parents[1]
STORY = ROOT / "examples" / "lighthouse.md"


def run(*args, cwd=None, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "talecast.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def test_convert_writes_narration_dialogue_transcript_and_cast(tmp_path):
    out = tmp_path / "out"
    proc = run(
        "convert",
        STORY,
        "-o",
        out,
        "--profile",
        "fast",
        "--cache-dir",
        tmp_path / "cache",
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("narration.flac", "dialogue.flac", "transcript.json", "cast.json"):
        assert (out / name).stat().st_size > 0, name
    transcript = json.loads((out / "transcript.json").read_text())
    assert transcript[0]["speaker"] == "Narrator"
    assert set(transcript[0]) == {"start", "end", "text", "speaker"}
    cast = json.loads((out / "cast.json").read_text())
    assert {"voice_id", "gender", "lines"} <= set(cast["Martha"])


def test_convert_with_chosen_narrator_uses_that_voice(tmp_path):
    voices = [json.loads(ln) for ln in run("voices", "--json").stdout.splitlines()]
    fast = [v for v in voices if "fast" in v["profiles"]]
    chosen = fast[-1]["id"]
    out = tmp_path / "out"
    proc = run(
        "convert",
        STORY,
        "-o",
        out,
        "--profile",
        "fast",
        "--narrator",
        chosen,
        "--cache-dir",
        tmp_path / "cache",
        "-q",
    )
    assert proc.returncode == 0, proc.stderr
    cast = json.loads((out / "cast.json").read_text())
    assert cast["Narrator"]["voice_id"] == chosen
    assert all(e["voice_id"] != chosen for n, e in cast.items() if n != "Narrator")


def test_voices_lists_at_least_eight_voices_three_male():
    proc = run("voices", "--json")
    assert proc.returncode == 0, proc.stderr
    voices = [json.loads(ln) for ln in proc.stdout.splitlines()]
    assert len({v["id"] for v in voices}) >= 8
    assert sum(v["gender"] == "male" for v in voices) >= 3
    assert all(v["licence"] for v in voices)


def test_voices_preview_writes_one_spoken_flac_per_voice_of_the_profile(tmp_path):
    proc = run(
        "voices",
        "--preview",
        tmp_path / "hear",
        "--profile",
        "fast",
        "--text",
        "Over here!",
        "--quiet",
        "--json",
        env_extra={"TALECAST_DATA_DIR": str(tmp_path / "data")},
    )
    assert proc.returncode == 0, proc.stderr
    fast = [
        v for v in map(json.loads, proc.stdout.splitlines()) if "fast" in v["profiles"]
    ]
    files = sorted((tmp_path / "hear").glob("*.flac"))
    assert [int(f.name.split()[0]) for f in files] == sorted(v["id"] for v in fast)
    for path in files:
        audio, rate = sf.read(path, dtype="int16")
        assert (
            rate == 24000 and 0.3 < audio.size / rate < 3 and np.abs(audio).max() > 500
        )
    bad = run("voices", "--preview", tmp_path / "x", "--text", "?!")
    assert bad.returncode != 0 and "no words to speak" in bad.stderr


def test_attribute_jsonl_gives_offsets_into_the_text_and_speakers():
    proc = run("attribute", STORY, "--jsonl")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(ln) for ln in proc.stdout.splitlines()]
    text = read_story_file(STORY).text  # offsets index the decoded text, not the file
    assert len(rows) >= 10
    for row in rows:
        assert set(row) == {"start_char", "end_char", "text", "speaker", "confidence"}
        assert row["text"] in text[row["start_char"] : row["end_char"]]
        assert 0 <= row["confidence"] <= 1
    assert rows[0]["speaker"] == "Martha"


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "empty"),
        (b"   \n\t\n", "blank"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, ""),
        (b"PK\x03\x04 not really a zip", ""),
    ],
)
def test_convert_bad_input_prints_one_error_line_and_fails(tmp_path, content, expected):
    story = tmp_path / "story.bin"
    story.write_bytes(content)
    proc = run("convert", story, "-o", tmp_path / "out", "--profile", "fast")
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert expected in lines[0].lower()
    assert "Traceback" not in proc.stderr


def test_convert_missing_file_is_one_error_line(tmp_path):
    proc = run("convert", tmp_path / "nope.txt", "-o", tmp_path / "out")
    assert proc.returncode != 0
    assert proc.stderr.startswith("Error: ") and proc.stderr.count("\n") == 1


def test_story_without_dialogue_is_narrated_by_the_narrator_alone(tmp_path):
    story = tmp_path / "plain.txt"
    story.write_text(
        "The river ran on. Nobody said a word that night.\n\nMorning came.\n"
    )
    out = tmp_path / "out"
    proc = run(
        "convert",
        story,
        "-o",
        out,
        "--profile",
        "fast",
        "--cache-dir",
        tmp_path / "cache",
    )
    assert proc.returncode == 0, proc.stderr
    transcript = json.loads((out / "transcript.json").read_text())
    assert {t["speaker"] for t in transcript} == {"Narrator"}
    assert len(transcript) == 3


def test_convert_with_corrections_changes_that_line_and_keeps_the_cast(tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    common = ("--profile", "fast", "--cache-dir", cache, "-q")
    assert run("convert", STORY, "-o", out, *common).returncode == 0
    script = json.loads((out / "script.json").read_text())
    cast = json.loads((out / "cast.json").read_text())
    line = next(
        i for i in script if i["kind"] == "dialogue" and i["speaker"] == "Martha"
    )
    fixes = tmp_path / "fixes.json"
    fixes.write_text(
        json.dumps(
            {"speakers": [{"start_char": line["start_char"], "speaker": "Mr. Hale"}]}
        )
    )
    proc = run("convert", STORY, "-o", out, *common, "--corrections", fixes)
    assert proc.returncode == 0, proc.stderr
    fixed = json.loads((out / "script.json").read_text())

    def untimed(item):  # a changed speaker changes pauses, so later times shift
        return {k: v for k, v in item.items() if k not in ("start", "end")}

    changed = [
        (a, b) for a, b in zip(script, fixed, strict=True) if untimed(a) != untimed(b)
    ]
    assert [(a["text"], b["speaker"], b["method"]) for a, b in changed] == [
        (line["text"], "Mr. Hale", "corrected")
    ]
    new_cast = json.loads((out / "cast.json").read_text())
    assert {n: e["voice_id"] for n, e in new_cast.items()} == {
        n: e["voice_id"] for n, e in cast.items()
    }


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "cannot read corrections file"),
        ('{"voices": {"Martha": 999}}', "unknown voice id 999"),
        ('{"speakers": [{"start_char": 0, "speaker": "X"}]}', "no quote of the story"),
    ],
)
def test_convert_with_bad_corrections_is_one_error_line(tmp_path, content, expected):
    fixes = tmp_path / "fixes.json"
    fixes.write_text(content)
    proc = run(
        "convert",
        STORY,
        "-o",
        tmp_path / "out",
        "--profile",
        "fast",
        "--cache-dir",
        tmp_path / "cache",
        "-q",
        "--corrections",
        fixes,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and expected in lines[0]


def test_convert_with_cast_of_an_earlier_render_keeps_those_voices(tmp_path):
    common = ("--profile", "fast", "--cache-dir", tmp_path / "cache", "-q")
    assert run("convert", STORY, "-o", tmp_path / "a", *common).returncode == 0
    cast = json.loads((tmp_path / "a" / "cast.json").read_text())
    voices = [json.loads(ln) for ln in run("voices", "--json").stdout.splitlines()]
    taken = {e["voice_id"] for e in cast.values()}
    other = next(
        v["id"] for v in voices if "fast" in v["profiles"] and v["id"] not in taken
    )
    cast["Martha"]["voice_id"] = other
    earlier = tmp_path / "earlier-cast.json"
    earlier.write_text(json.dumps(cast))
    proc = run("convert", STORY, "-o", tmp_path / "b", *common, "--cast", earlier)
    assert proc.returncode == 0, proc.stderr
    new_cast = json.loads((tmp_path / "b" / "cast.json").read_text())
    assert new_cast["Martha"]["voice_id"] == other
    assert new_cast["Thomas"]["voice_id"] == cast["Thomas"]["voice_id"]

    earlier.write_text('{"Martha": {"voice_id": 999}}')
    proc = run("convert", STORY, "-o", tmp_path / "c", *common, "--cast", earlier)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown voice id 999" in lines[0]


def test_convert_full_cast_mode_leaves_out_bare_tags_and_lists_them(tmp_path):
    common = ("--profile", "fast", "--cache-dir", tmp_path / "cache", "-q")
    assert run("convert", STORY, "-o", tmp_path / "a", *common).returncode == 0
    proc = run("convert", STORY, "-o", tmp_path / "b", *common, "--drop-tags")
    assert proc.returncode == 0, proc.stderr
    faithful = json.loads((tmp_path / "a" / "transcript.json").read_text())
    full_cast = json.loads((tmp_path / "b" / "transcript.json").read_text())
    dropped = json.loads((tmp_path / "b" / "dropped_tags.json").read_text())
    assert "said Martha." in {d["text"] for d in dropped}
    assert [i["text"] for i in full_cast] == [
        i["text"] for i in faithful if i["text"] not in {d["text"] for d in dropped}
    ]
    assert full_cast[-1]["end"] < faithful[-1]["end"]  # shorter by the tags
    assert not (tmp_path / "a" / "dropped_tags.json").exists()


def test_qa_listens_to_a_rendered_run_and_writes_its_report(tmp_path):
    out = tmp_path / "out"
    common = ("--profile", "fast", "--cache-dir", tmp_path / "cache", "-q")
    assert run("convert", STORY, "-o", out, *common).returncode == 0
    proc = run("qa", out, "--dialogue-only", "-q")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "qa.json").read_text())
    assert f"{report['lines_checked']} lines heard" in proc.stdout
    assert report["lines_checked"] > 5 and report["word_error_rate"] < 0.2
    missing = run("qa", tmp_path / "nothing", "-q")
    assert missing.returncode != 0 and missing.stderr.startswith("Error:")


def test_names_lists_guessed_words_and_writes_previews_and_a_template(tmp_path):
    story = tmp_path / "story.txt"
    story.write_text(
        "Zorbanek met Quenthra at dawn. Zorbanek smiled, and the wound had healed.\n"
    )
    sheet, previews = tmp_path / "pronunciations.json", tmp_path / "previews"
    proc = run("names", story, "-o", sheet, "--preview", previews, "-q")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert ["2", "name", "Zorbanek"] in rows and ["1", "heteronym", "wound"] in rows
    template = json.loads(sheet.read_text())
    assert {t["term"] for t in template["terms"]} == {"Zorbanek", "Quenthra"}
    flacs = sorted(p.name for p in previews.glob("*.flac"))
    assert len(flacs) == len(rows) and flacs[0].endswith("Zorbanek.flac")
    assert all(p.stat().st_size > 1000 for p in previews.glob("*.flac"))
