"""Export of a finished run: containers checked with ffprobe, errors by message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rundir_factory import SAMPLE_RATE_HZ, ffprobe, make_run

from talecast.errors import ExportError, TalecastError
from talecast.pipeline.encoding import ffmetadata, read_nero_chapters
from talecast.pipeline.export import EXPORT_FORMATS, MASTER_PROFILES, export_run


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    run = make_run(tmp_path_factory.mktemp("run") / "run", cover=True)
    progress: list[float] = []
    outputs = export_run(run, EXPORT_FORMATS, progress=lambda f, _m: progress.append(f))
    assert progress == sorted(progress) and progress[-1] == 1.0
    return run, outputs


def test_export_writes_every_format_beside_narration(exported):
    run, outputs = exported
    expected = {
        "narration.mp3",
        "narration.m4b",
        "narration.opus",
        "transcript.vtt",
        "transcript.srt",
        "words.json",
        "report.json",
        "qa.json",
        "narration.epub",
        "stems/Narrator.flac",
        "stems/Alice.flac",
        "stems/Bob.flac",
    }
    assert set(outputs) == expected
    assert all(path.is_file() and path.stat().st_size > 0 for path in outputs.values())
    assert not list(run.glob(".*"))  # no partial files left behind


def test_m4b_chapters_read_by_ffprobe_match_chapters_json(exported):
    run, outputs = exported
    chapters = json.loads((run / "chapters.json").read_text())
    probed = ffprobe(outputs["narration.m4b"], "-show_chapters")["chapters"]

    assert [c["tags"]["title"] for c in probed] == [c["title"] for c in chapters]
    for got, want in zip(probed, chapters, strict=True):
        assert (
            abs(float(got["start_time"]) - want["start_sample"] / SAMPLE_RATE_HZ)
            < 0.002
        )
        assert abs(float(got["end_time"]) - want["end_sample"] / SAMPLE_RATE_HZ) < 0.002


def test_m4b_has_nero_chpl_atom_and_quicktime_chapter_track(exported):
    run, outputs = exported
    chapters = json.loads((run / "chapters.json").read_text())
    nero = read_nero_chapters(outputs["narration.m4b"])
    streams = ffprobe(outputs["narration.m4b"], "-show_streams")["streams"]

    assert [title for _, title in nero] == [c["title"] for c in chapters]
    assert [round(start, 2) for start, _ in nero] == [
        round(c["start"], 2) for c in chapters
    ]
    assert any(
        s["codec_tag_string"] == "text" for s in streams
    )  # QuickTime chapter track


def test_m4b_carries_title_author_narrator_and_cover_art(exported):
    _, outputs = exported
    probed = ffprobe(outputs["narration.m4b"], "-show_format", "-show_streams")
    tags = probed["format"]["tags"]
    audio = [s for s in probed["streams"] if s["codec_type"] == "audio"]
    art = [s for s in probed["streams"] if s["codec_type"] == "video"]

    assert tags["title"] == "The Gate; a #test = story"  # ffmetadata escapes ; # =
    assert tags["artist"] == "A. Writer" and tags["composer"] == "Kal"
    assert tags["genre"] == "Audiobook"
    assert audio[0]["codec_name"] == "aac"
    assert art and art[0]["disposition"]["attached_pic"] == 1


def test_mp3_is_cbr_192_kbps_at_44_1_khz_per_ffprobe(exported):
    _, outputs = exported
    stream = ffprobe(outputs["narration.mp3"], "-show_streams")["streams"][0]
    packets = ffprobe(
        outputs["narration.mp3"], "-show_entries", "packet=size", "-select_streams", "a"
    )["packets"]

    assert stream["codec_name"] == "mp3"
    assert stream["sample_rate"] == "44100"
    assert int(stream["bit_rate"]) == 192000
    # Constant bit rate: every MPEG-1 layer III frame is 626 or 627 bytes at 192k/44.1k.
    assert {int(p["size"]) for p in packets} <= {626, 627}


def test_opus_has_the_narration_duration(exported):
    run, outputs = exported
    probed = ffprobe(outputs["narration.opus"], "-show_streams", "-show_format")
    import soundfile as sf

    narration_s = sf.info(str(run / "narration.flac")).duration
    assert probed["streams"][0]["codec_name"] == "opus"
    assert abs(float(probed["format"]["duration"]) - narration_s) < 0.05


def test_report_lists_every_chapter_with_measurements_and_verdicts(exported):
    run, outputs = exported
    report = json.loads(outputs["report.json"].read_text())

    assert report["master"] is None
    assert [c["title"] for c in report["chapters"]] == ["The Gate", "The Road"]
    for chapter in report["chapters"]:
        for key in (
            "integrated_lufs",
            "loudness_range_lu",
            "true_peak_dbtp",
            "rms_dbfs",
            "noise_floor_dbfs",
        ):
            assert isinstance(chapter["measured"][key], float)
        assert set(chapter["profiles"]) == set(MASTER_PROFILES)
    # Unmastered generated speech sits near -26 LUFS: neither podcast nor ACX level.
    assert report["summary"]["podcast"] == "FAIL"


def test_acx_master_adds_room_tone_and_moves_chapter_marks_with_it(tmp_path):
    run = make_run(tmp_path / "run", lead_in_s=0.1)
    outputs = export_run(run, ["m4b", "vtt"], master="acx")
    report = json.loads(outputs["report.json"].read_text())
    probed = ffprobe(outputs["narration.m4b"], "-show_chapters")["chapters"]
    first_cue = outputs["transcript.vtt"].read_text().split("\n\n")[2].split(" --> ")[0]

    assert report["timed_text_timeline"] == "exported audio"
    assert report["chapters"][0]["measured"]["head_silence_s"] >= 0.5
    assert report["chapters"][0]["profiles"]["acx"]["result"] == "PASS"
    # The second chapter starts later by what the first chapter gained in room tone.
    gained = report["chapters"][0]["room_tone_change_s"]
    chapters = json.loads((run / "chapters.json").read_text())
    assert abs(float(probed[1]["start_time"]) - (chapters[1]["start"] + gained)) < 0.002
    # The first line moved by exactly the room tone added at the head.
    head_added = (
        report["chapters"][0]["measured"]["head_silence_s"]
        - report["chapters"][0]["source"]["head_silence_s"]
    )
    assert head_added > 0.05
    cue_s = float(first_cue.split(":")[-1])
    assert abs(cue_s - (0.1 + head_added)) < 0.011


def test_export_rejects_unknown_format_naming_the_valid_ones(tmp_path):
    run = make_run(tmp_path / "run")
    with pytest.raises(ExportError, match="'flac'.*mp3, m4b, opus, vtt, srt, words"):
        export_run(run, ["mp3", "flac"])
    assert not (run / "narration.mp3").exists()


def test_export_rejects_unknown_profile_as_value_error(tmp_path):
    run = make_run(tmp_path / "run")
    with pytest.raises(ValueError, match="'loud'.*acx, podcast, r128"):
        export_run(run, ["vtt"], master="loud")


def test_export_of_unrendered_run_says_to_render_first(tmp_path):
    with pytest.raises(TalecastError, match="no narration.flac; render the story"):
        export_run(tmp_path, ["vtt"])


def test_export_of_run_with_broken_segments_json_names_the_file(tmp_path):
    run = make_run(tmp_path / "run")
    (run / "segments.json").write_text("[{")
    with pytest.raises(ExportError, match="segments.json is not valid JSON"):
        export_run(run, ["srt"])


def test_ffmetadata_escapes_special_characters_in_titles():
    text = ffmetadata([(0, 1000, "A=B; #1\\x")], {"title": "T\nU"})
    assert "title=A\\=B\\; \\#1\\\\x" in text
    assert "title=T\\\nU" in text
    assert "TIMEBASE=1/1000" in text


def test_long_chapter_is_mastered_in_parts_with_room_tone_only_at_its_ends(
    tmp_path, monkeypatch
):
    from talecast.pipeline import export as export_module

    monkeypatch.setattr(export_module, "PART_MAX_S", 4)  # chapter 1 is ~10 s long
    run = make_run(tmp_path / "run")
    outputs = export_run(run, ["m4b", "srt"], master="acx")
    report = json.loads(outputs["report.json"].read_text())
    first = [c for c in report["chapters"] if c["chapter"] == 0]
    cue_starts = [
        line.split(" --> ")[0]
        for line in outputs["transcript.srt"].read_text().splitlines()
        if " --> " in line
    ]
    probed = ffprobe(outputs["narration.m4b"], "-show_chapters")["chapters"]

    assert len(first) == 3 and [c["part"] for c in first] == [1, 2, 3]
    assert all(c["parts"] == 3 for c in first)
    assert [c["end"] for c in first[:-1]] == [c["start"] for c in first[1:]]
    assert first[1]["room_tone_change_s"] == 0.0  # no room tone inside a chapter
    # Parts are cut where a line starts, never inside a line.
    for part in first[1:]:
        whole, ms = divmod(round(part["start"] * 1000), 1000)
        assert f"00:00:{whole:02d},{ms:03d}" in cue_starts
    assert all(c["profiles"]["acx"]["result"] == "PASS" for c in report["chapters"])
    assert len(probed) == 2  # parts do not become chapters
    assert abs(float(probed[1]["start_time"]) - first[-1]["end"]) < 0.002


def test_ffmpeg_failure_becomes_encoder_error_naming_the_file(tmp_path):
    import numpy as np

    from talecast.errors import EncoderError
    from talecast.pipeline.encoding import AudioEncoders

    target = tmp_path / "no-such-dir" / "narration.mp3"
    with pytest.raises(
        EncoderError, match="ffmpeg failed while encoding narration.mp3"
    ):
        with AudioEncoders({"mp3": target}, SAMPLE_RATE_HZ, {}) as sink:
            for _ in range(50):  # ffmpeg may exit before or after reading the pipe
                sink.write(np.zeros(SAMPLE_RATE_HZ, dtype=np.float32))
    assert not target.exists()


def test_nero_reader_finds_no_chapters_in_a_file_without_chpl(exported):
    _, outputs = exported
    assert read_nero_chapters(outputs["narration.mp3"]) == []


def test_empty_chapter_in_chapters_json_gets_no_mark_and_no_verdict(tmp_path):
    run = make_run(tmp_path / "run")
    chapters = json.loads((run / "chapters.json").read_text())
    end = chapters[-1]["end_sample"]
    chapters.append({"title": "Empty", "start_sample": end, "end_sample": end})
    (run / "chapters.json").write_text(json.dumps(chapters))
    outputs = export_run(run, ["m4b"], master="podcast")
    report = json.loads(outputs["report.json"].read_text())
    probed = ffprobe(outputs["narration.m4b"], "-show_chapters")["chapters"]

    assert [c["title"] for c in report["chapters"]] == ["The Gate", "The Road"]
    assert [c["tags"]["title"] for c in probed] == ["The Gate", "The Road"]
    assert report["summary"]["podcast"] == "PASS"


def test_format_and_profile_names_are_checked_before_any_work():
    from talecast.pipeline.export import check_formats, check_master

    assert check_formats("mp3, VTT,mp3") == ["mp3", "vtt"]
    assert check_master("ACX").name == "acx"
    assert check_master("") is None
    with pytest.raises(ExportError, match="'wav'"):
        check_formats(["wav"])


def test_acx_verdict_fails_a_chapter_longer_than_two_hours(monkeypatch, tmp_path):
    from talecast.pipeline import mastering

    acx = mastering.PROFILES["acx"]
    short_limit = mastering.Profile(**{**acx.__dict__, "max_chapter_s": 8.0})
    monkeypatch.setitem(mastering.PROFILES, "acx", short_limit)
    run = make_run(tmp_path / "run")  # chapter 1 lasts about 10 s, chapter 2 about 6 s
    report = json.loads(export_run(run, [])["report.json"].read_text())
    verdicts = [c["profiles"]["acx"]["failures"] for c in report["chapters"]]

    assert any("min per file" in f for f in verdicts[0])
    assert not any("min per file" in f for f in verdicts[1])
    assert acx.max_chapter_s == 120 * 60
