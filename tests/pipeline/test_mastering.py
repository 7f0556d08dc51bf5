"""Mastering: each profile checked by independent meters (ffmpeg ebur128, astats)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from rundir_factory import SAMPLE_RATE_HZ, make_run, speech_like

from talecast.pipeline.export import export_run
from talecast.pipeline.mastering import (
    DB_FLOOR,
    PROFILES,
    check,
    master_chapter,
    measure,
)

TARGETS_LUFS = {"podcast": -16.0, "r128": -23.0}


def ffmpeg_filter_log(
    path: Path, start_s: float, end_s: float, audio_filter: str
) -> str:
    result = subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            f"atrim={start_s}:{end_s},{audio_filter}",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    return result.stderr


def ebur128(path: Path, start_s: float, end_s: float) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBFS) of a stretch, per ffmpeg."""
    log = ffmpeg_filter_log(path, start_s, end_s, "ebur128=peak=true")
    summary = log[log.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    return integrated, peak


@pytest.mark.parametrize("profile", ["podcast", "r128"])
def test_profile_loudness_per_ffmpeg_ebur128_is_on_target_and_report_agrees(
    tmp_path, profile
):
    run = make_run(tmp_path / "run")
    outputs = export_run(run, ["opus", "mp3"], master=profile)
    report = json.loads(outputs["report.json"].read_text())

    assert report["master"] == profile
    assert report["summary"][profile] == "PASS"
    for chapter in report["chapters"]:
        integrated, peak = ebur128(
            outputs["narration.mp3"], chapter["start"], chapter["end"]
        )
        assert abs(integrated - TARGETS_LUFS[profile]) <= 1.0
        assert peak <= -1.0 + 0.3  # ffmpeg's true peak, after MP3 encoding
        assert chapter["profiles"][profile]["result"] == "PASS"
        assert abs(chapter["measured"]["integrated_lufs"] - integrated) <= 0.5


def test_acx_rms_peak_and_noise_floor_per_ffmpeg_astats_and_report_agrees(tmp_path):
    run = make_run(tmp_path / "run", level=0.03)  # too quiet for ACX before mastering
    outputs = export_run(run, ["mp3"], master="acx")
    report = json.loads(outputs["report.json"].read_text())

    assert all(c["source"]["rms_dbfs"] < -23 for c in report["chapters"])
    assert report["summary"]["acx"] == "PASS"
    for chapter in report["chapters"]:
        log = ffmpeg_filter_log(
            outputs["narration.mp3"],
            chapter["start"],
            chapter["end"],
            "astats=measure_overall=all",
        )
        overall = log[log.rindex("Overall") :]
        rms = float(re.search(r"RMS level dB:\s+(-?[\d.]+)", overall).group(1))
        peak = float(re.search(r"Peak level dB:\s+(-?[\d.]+)", overall).group(1))
        assert -23.0 <= rms <= -18.0
        assert peak <= -3.0
        assert chapter["profiles"]["acx"]["result"] == "PASS"
        assert 0.5 <= chapter["measured"]["head_silence_s"] <= 1.0
        assert 1.0 <= chapter["measured"]["tail_silence_s"] <= 5.0


def test_measure_agrees_with_ffmpeg_ebur128_on_the_same_file(tmp_path):
    audio = speech_like(6.0, 150.0, seed=3, level=0.2)
    path = tmp_path / "speech.wav"
    import soundfile as sf

    sf.write(str(path), audio, SAMPLE_RATE_HZ, subtype="FLOAT")
    report = measure(audio, SAMPLE_RATE_HZ)
    integrated, peak = ebur128(path, 0, 6.0)

    assert abs(report.integrated_lufs - integrated) <= 0.3
    assert abs(report.true_peak_dbtp - peak) <= 0.5
    assert report.loudness_range_lu >= 0.0


def test_true_peak_finds_intersample_peak_above_sample_peak():
    # A quarter-rate sine sampled at 45 degrees: every sample is at 0.707 of the crest.
    n = np.arange(SAMPLE_RATE_HZ)
    audio = (0.9 * np.sin(np.pi / 2 * n + np.pi / 4)).astype(np.float32)
    report = measure(audio, SAMPLE_RATE_HZ)

    assert report.sample_peak_dbfs == pytest.approx(
        20 * np.log10(0.9 * 0.7071), abs=0.05
    )
    assert report.true_peak_dbtp == pytest.approx(20 * np.log10(0.9), abs=0.2)


def test_limiter_holds_true_peak_under_ceiling_for_hot_input():
    audio = speech_like(5.0, 110.0, seed=1, level=0.6)
    done = master_chapter(audio, SAMPLE_RATE_HZ, PROFILES["podcast"])
    after = measure(done.audio_f32, SAMPLE_RATE_HZ)

    assert done.limited
    assert after.true_peak_dbtp <= -1.0
    assert abs(after.integrated_lufs - (-16.0)) <= 1.0
    assert check(after, PROFILES["podcast"]) == []


def test_measure_reports_digital_silence_at_the_floor_not_infinity():
    report = measure(np.zeros(SAMPLE_RATE_HZ, dtype=np.float32), SAMPLE_RATE_HZ)
    assert report.integrated_lufs == DB_FLOOR
    assert report.rms_dbfs == DB_FLOOR
    assert report.noise_floor_dbfs == DB_FLOOR
    assert json.dumps(report.to_dict())  # finite numbers only


def test_acx_check_names_missing_room_tone_and_loud_noise_floor():
    speech = speech_like(3.0, 120.0, seed=2, level=0.15)
    hiss = np.random.default_rng(0).normal(0, 0.01, SAMPLE_RATE_HZ).astype(np.float32)
    report = measure(np.concatenate([speech, hiss]), SAMPLE_RATE_HZ)
    failures = " ".join(check(report, PROFILES["acx"]))

    assert "room tone at the head" in failures
    assert "noise floor" in failures


def test_master_leaves_silence_untouched():
    silence = np.zeros(2 * SAMPLE_RATE_HZ, dtype=np.float32)
    done = master_chapter(silence, SAMPLE_RATE_HZ, PROFILES["r128"])
    assert done.gain_db == 0.0
    assert not done.audio_f32.any()


def test_acx_master_also_writes_one_mp3_per_chapter_to_the_spec(tmp_path, monkeypatch):
    from talecast.pipeline import export as export_module

    monkeypatch.setattr(export_module, "PART_MAX_S", 4)  # a chapter in several parts
    run = make_run(tmp_path / "run", level=0.05)
    outputs = export_run(run, ["mp3"], master="acx")
    report = json.loads(outputs["report.json"].read_text())
    files = sorted(
        name
        for name in outputs
        if name.startswith("acx/") and name[4].isdigit() and "Credits" not in name
    )

    assert files == ["acx/1 The Gate.mp3", "acx/2 The Road.mp3"]
    for index, name in enumerate(files):
        parts = [c for c in report["chapters"] if c["chapter"] == index]
        length_s = parts[-1]["end"] - parts[0]["start"]
        probe = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "stream=sample_rate,bit_rate:format=duration:format_tags=track,title",
                "-of",
                "json",
                str(outputs[name]),
            ],
            capture_output=True,
            check=True,
            text=True,
        )
        info = json.loads(probe.stdout)
        assert info["streams"][0]["sample_rate"] == "44100"
        assert info["streams"][0]["bit_rate"] == "192000"
        assert abs(float(info["format"]["duration"]) - length_s) < 0.08
        assert info["format"]["tags"]["track"] == f"{index + 1}/2"
        log = ffmpeg_filter_log(
            outputs[name], 0, length_s, "astats=measure_overall=all"
        )
        overall = log[log.rindex("Overall") :]
        rms = float(re.search(r"RMS level dB:\s+(-?[\d.]+)", overall).group(1))
        assert -23.0 <= rms <= -18.0
