"""Build a finished run directory the way rendering leaves it, from generated audio.

The audio is speech-like (voiced harmonics under a syllable-rate envelope plus breath
noise), one pitch per speaker, with silent pauses between lines, so loudness, room tone
and stems behave as with real narration while the files stay small and fast to make.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE_HZ = 24000
PITCH_HZ = {"Narrator": 120.0, "Alice": 220.0, "Bob": 95.0, 'Dr. "Who"/Eve': 180.0}


@dataclass(frozen=True)
class Line:
    """One line to place in the run: who speaks, what, for how long."""

    speaker: str
    text: str
    duration_s: float


DEFAULT_CHAPTERS: list[tuple[str, list[Line]]] = [
    (
        "The Gate",
        [
            Line("Narrator", "The gate stood open, and the wind came through it.", 3.0),
            Line("Alice", "Is anyone there?", 1.5),
            Line("Narrator", "Nobody answered.", 1.2),
            Line("Bob", "Only us, and the crows, Alice.", 2.0),
        ],
    ),
    (
        "The Road",
        [
            Line(
                "Narrator", "They walked until the lamps were lit in the valley.", 3.2
            ),
            Line("Alice", "We should have left at dawn.", 1.8),
        ],
    ),
]


def speech_like(
    duration_s: float, pitch_hz: float, seed: int, level: float
) -> np.ndarray:
    """Return mono float32 audio that measures like a voice reading aloud."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(duration_s * SAMPLE_RATE_HZ))) / SAMPLE_RATE_HZ
    pitch = pitch_hz * (1 + 0.08 * np.sin(2 * np.pi * 0.6 * t + seed))
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE_HZ
    voiced = sum(np.sin(k * phase) / k for k in range(1, 14))
    envelope = np.clip(np.sin(2 * np.pi * 3.7 * t + rng.uniform(0, 6)), 0, None) ** 1.5
    breath = rng.normal(0, 0.08, t.size)
    ramp = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02)  # no clicks at the edges
    return (level * (0.5 * voiced + breath) * envelope * ramp).astype(np.float32)


def make_run(
    run_dir: Path,
    chapters: list[tuple[str, list[Line]]] | None = None,
    level: float = 0.12,
    lead_in_s: float = 0.25,
    pause_s: float = 0.4,
    tail_s: float = 0.7,
    cover: bool = False,
) -> Path:
    """Write narration.flac, dialogue.flac and the JSON files of a finished run."""
    chapters = DEFAULT_CHAPTERS if chapters is None else chapters
    run_dir.mkdir(parents=True, exist_ok=True)
    narration: list[np.ndarray] = []
    dialogue: list[np.ndarray] = []
    segments: list[dict[str, object]] = []
    chapter_starts: list[int] = []
    position = 0

    def place(audio: np.ndarray, spoken: bool) -> None:
        nonlocal position
        narration.append(audio)
        dialogue.append(audio if spoken else np.zeros_like(audio))
        position += audio.size

    place(_silence(lead_in_s), False)
    for chapter_index, (_title, lines) in enumerate(chapters):
        for line_index, line in enumerate(lines):
            if line_index or chapter_index:
                place(_silence(pause_s * (3 if line_index == 0 else 1)), False)
            if line_index == 0:
                chapter_starts.append(position)
            seed = len(segments)
            audio = speech_like(line.duration_s, PITCH_HZ[line.speaker], seed, level)
            start = position
            is_dialogue = line.speaker != "Narrator"
            place(audio, is_dialogue)
            segments.append(
                {
                    "start_sample": start,
                    "end_sample": position,
                    "text": line.text,
                    "speaker": line.speaker,
                    "kind": "dialogue" if is_dialogue else "narration",
                    "chapter": chapter_index,
                    "voice_id": 1,
                }
            )
    place(_silence(tail_s), False)
    chapter_starts[0] = 0

    _write_audio(run_dir / "narration.flac", narration)
    _write_audio(run_dir / "dialogue.flac", dialogue)
    _write_json(run_dir, segments, chapters, chapter_starts, position, cover)
    return run_dir


def _silence(duration_s: float) -> np.ndarray:
    return np.zeros(int(round(duration_s * SAMPLE_RATE_HZ)), dtype=np.float32)


def _write_audio(path: Path, parts: list[np.ndarray]) -> None:
    audio = np.concatenate(parts)
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)
    sf.write(str(path), pcm, SAMPLE_RATE_HZ, format="FLAC", subtype="PCM_16")


def _write_json(
    run_dir: Path,
    segments: list[dict[str, object]],
    chapters: list[tuple[str, list[Line]]],
    starts: list[int],
    total: int,
    cover: bool,
) -> None:
    rate = SAMPLE_RATE_HZ
    transcript = [
        {
            "start": round(int(s["start_sample"]) / rate, 2),  # type: ignore[call-overload]
            "end": round(int(s["end_sample"]) / rate, 2),  # type: ignore[call-overload]
            "text": s["text"],
            "speaker": s["speaker"],
        }
        for s in segments
    ]
    ends = starts[1:] + [total]
    chapter_list = [
        {
            "title": title,
            "start": round(start / rate, 3),
            "end": round(end / rate, 3),
            "start_sample": start,
            "end_sample": end,
        }
        for (title, _), start, end in zip(chapters, starts, ends, strict=True)
    ]
    speakers = sorted({str(s["speaker"]) for s in segments})
    cast = {
        name: {
            "voice_id": i + 1,
            "gender": "unknown",
            "lines": sum(s["speaker"] == name for s in segments),
        }
        for i, name in enumerate(speakers)
    }
    meta = {
        "title": "The Gate; a #test = story",
        "author": "A. Writer",
        "narrator": "Kal",
        "sample_rate_hz": rate,
        "cover": "cover.jpg" if cover else None,
    }
    files = {
        "transcript.json": transcript,
        "segments.json": segments,
        "chapters.json": chapter_list,
        "cast.json": cast,
        "meta.json": meta,
    }
    for name, payload in files.items():
        (run_dir / name).write_text(json.dumps(payload, indent=1), encoding="utf-8")
    if cover:
        subprocess.run(
            [
                "ffmpeg",
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=96x96:rate=1",
                "-frames:v",
                "1",
                str(run_dir / "cover.jpg"),
            ],
            check=True,
        )


def ffprobe(path: Path, *args: str) -> dict:
    """What ffprobe reports about a media file, as parsed JSON."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
        capture_output=True,
        check=True,
    )
    return json.loads(result.stdout)
