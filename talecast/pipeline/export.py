"""Export a finished run: MP3, M4B, Opus, WebVTT, SRT, word timings, stems, a loudness report.

Everything is written beside ``narration.flac`` in the run directory. The narration is read
chapter by chapter (long chapters in parts of at most :data:`PART_MAX_S`), optionally
mastered to a profile, and streamed through pipes into one ffmpeg process per audio format,
so memory stays bounded by one part whatever the length of the book.

When a mastering profile adds or trims room tone, the exported audio's timeline differs
from ``narration.flac``'s; chapter marks and timed text written in the same call follow the
exported audio, and ``report.json`` says which timeline they use. Stems always follow
``narration.flac``.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from talecast.errors import ExportError
from talecast.pipeline import encoding
from talecast.pipeline.mastering import (
    MASTER_PROFILES,
    PROFILES,
    LoudnessReport,
    Profile,
    check,
    master_chapter,
    measure,
)
from talecast.pipeline.stems import write_stems
from talecast.pipeline.timedtext import (
    TimedItem,
    format_srt,
    format_webvtt,
    word_timings_document,
)

logger = logging.getLogger(__name__)

EXPORT_FORMATS = ("mp3", "m4b", "opus", "vtt", "srt", "words", "stems")
AUDIO_FORMATS = ("mp3", "m4b", "opus")
OUTPUT_NAMES = {
    "mp3": "narration.mp3",
    "m4b": "narration.m4b",
    "opus": "narration.opus",
    "vtt": "transcript.vtt",
    "srt": "transcript.srt",
    "words": "words.json",
}
REPORT_NAME = "report.json"
STEMS_DIR = "stems"
PART_MAX_S = 20 * 60  # longer chapters are mastered and measured in parts
METER = "pyloudnorm (ITU-R BS.1770-4, EBU Tech 3342); true peak 4x oversampled"

__all__ = ["EXPORT_FORMATS", "MASTER_PROFILES", "export_run", "load_run"]


@dataclass(frozen=True)
class RunChapter:
    """A chapter of the run, as sample offsets into ``narration.flac``."""

    title: str
    start_sample: int
    end_sample: int


@dataclass
class Run:
    """What export reads from a run directory."""

    run_dir: Path
    sample_rate_hz: int
    total_samples: int
    items: list[TimedItem]
    chapters: list[RunChapter]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def narration_path(self) -> Path:
        return self.run_dir / "narration.flac"


@dataclass
class _Section:
    """One stretch that is mastered on its own: a chapter or a part of one."""

    chapter: int
    part: int
    parts: int
    src_start: int
    src_end: int
    out_start: int = 0
    out_samples: int = 0
    head_pad: int = 0
    gain_db: float = 0.0
    limited: bool = False
    source: LoudnessReport | None = None
    exported: LoudnessReport | None = None


def export_run(
    run_dir: Path,
    formats: Iterable[str],
    master: str | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Path]:
    """Write the requested formats and ``report.json`` beside ``narration.flac``.

    Returns output name (``narration.mp3``, ``stems/Narrator.flac``, ``report.json``, ...)
    -> path. Raises ExportError for an unknown format or profile or an incomplete run
    directory, EncoderError when ffmpeg fails.
    """
    wanted = _check_formats(formats)
    profile = _check_master(master)
    run = load_run(Path(run_dir))
    notify = progress or (lambda fraction, message: None)
    audio_formats = [f for f in wanted if f in AUDIO_FORMATS]
    logger.info(
        "export %s: formats %s, master %s", run.run_dir.name, ",".join(wanted), master
    )

    sections = _sections(run)
    outputs: dict[str, Path] = {}
    targets = {f: run.run_dir / OUTPUT_NAMES[f] for f in audio_formats}
    tags = encoding.book_tags(run.meta)
    with encoding.AudioEncoders(targets, run.sample_rate_hz, tags) as sink:
        _render(run, sections, profile, sink.write, notify)
    outputs.update({path.name: path for path in targets.values()})

    # Chapter marks and timed text follow the audio written in this call.
    shifted = profile is not None and bool(audio_formats)
    if "m4b" in targets:
        notify(0.86, "writing M4B chapters and cover")
        encoding.finish_m4b(
            targets["m4b"], _chapter_marks(run, sections, shifted), tags,
            _cover_path(run),
        )
    items = [_map_item(item, sections, shifted) for item in run.items]
    titles = [c.title for c in run.chapters]
    outputs.update(_write_timed_text(run, wanted, items, titles))
    if "stems" in wanted:
        notify(0.9, "writing stems")
        stems = write_stems(run.narration_path, run.items, run.run_dir / STEMS_DIR)
        outputs.update({f"{STEMS_DIR}/{p.name}": p for p in stems.values()})

    report_path = run.run_dir / REPORT_NAME
    report = _report(run, sections, profile, shifted, outputs)
    _write_atomic(report_path, json.dumps(report, ensure_ascii=False, indent=1))
    outputs[REPORT_NAME] = report_path
    notify(1.0, "export finished")
    logger.info("export %s: %d files written", run.run_dir.name, len(outputs))
    return outputs


def load_run(run_dir: Path) -> Run:
    """Read ``narration.flac``'s header, ``segments.json``, ``chapters.json`` and meta."""
    narration = run_dir / "narration.flac"
    if not narration.is_file():
        raise ExportError(
            f"run directory {run_dir} has no narration.flac; render the story before "
            "exporting it"
        )
    info = sf.info(str(narration))
    segments = _read_json(run_dir / "segments.json", required=True)
    chapters_raw = _read_json(run_dir / "chapters.json", required=False) or []
    meta = _read_json(run_dir / "meta.json", required=False) or {}
    try:
        items = [
            TimedItem(int(s["start_sample"]), int(s["end_sample"]), str(s["text"]),
                      str(s["speaker"]))
            for s in segments
        ]
        chapters = _tile_chapters(chapters_raw, info.frames, meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(
            f"run directory {run_dir} has a malformed segments.json or chapters.json "
            f"({exc!r}); render the story again"
        ) from exc
    starts = [c.start_sample for c in chapters]
    items = [
        TimedItem(i.start_sample, i.end_sample, i.text, i.speaker,
                  max(0, bisect.bisect_right(starts, i.start_sample) - 1))
        for i in items
    ]
    return Run(run_dir, info.samplerate, info.frames, items, chapters, meta)


# ---- checking the request -----------------------------------------------------------


def _check_formats(formats: Iterable[str]) -> list[str]:
    if isinstance(formats, str):
        formats = formats.split(",")
    wanted = []
    for name in formats:
        name = name.strip().lower()
        if name not in EXPORT_FORMATS:
            raise ExportError(
                f"unknown export format {name!r}; choose from {', '.join(EXPORT_FORMATS)} "
                "(for example 'mp3,vtt')"
            )
        if name not in wanted:
            wanted.append(name)
    return wanted


def _check_master(master: str | None) -> Profile | None:
    if master is None or master == "":
        return None
    name = master.strip().lower()
    if name not in PROFILES:
        raise ExportError(
            f"unknown mastering profile {master!r}; choose one of "
            f"{', '.join(MASTER_PROFILES)}"
        )
    return PROFILES[name]


# ---- reading the run ----------------------------------------------------------------


def _read_json(path: Path, required: bool) -> Any:
    if not path.is_file():
        if required:
            raise ExportError(
                f"run directory {path.parent} has no {path.name}; render the story "
                "before exporting it"
            )
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(
            f"{path} is not valid JSON ({exc}); render the story again"
        ) from exc


def _tile_chapters(
    raw: list[dict[str, Any]], total: int, meta: dict[str, Any]
) -> list[RunChapter]:
    """Chapters that tile [0, total): each runs to the next one's start."""
    marks = sorted(
        (min(max(int(c["start_sample"]), 0), total), str(c.get("title") or ""))
        for c in raw
    )
    if not marks:
        marks = [(0, str(meta.get("title") or "Chapter 1"))]
    marks[0] = (0, marks[0][1])
    chapters = []
    for index, (start, title) in enumerate(marks):
        end = marks[index + 1][0] if index + 1 < len(marks) else total
        if end > start or index == len(marks) - 1:
            chapters.append(RunChapter(title or f"Chapter {index + 1}", start, end))
    return chapters


def _sections(run: Run) -> list[_Section]:
    limit = PART_MAX_S * run.sample_rate_hz
    sections = []
    for index, chapter in enumerate(run.chapters):
        length = chapter.end_sample - chapter.start_sample
        parts = max(1, -(-length // limit))
        bounds = [chapter.start_sample + length * k // parts for k in range(parts + 1)]
        for part in range(parts):
            sections.append(
                _Section(index, part, parts, bounds[part], bounds[part + 1])
            )
    return sections


# ---- audio --------------------------------------------------------------------------


def _render(
    run: Run,
    sections: list[_Section],
    profile: Profile | None,
    sink: Callable[[np.ndarray], None],
    notify: Callable[[float, str], None],
) -> None:
    """Read, master, measure and stream every section in order."""
    position = 0
    with sf.SoundFile(str(run.narration_path)) as source:
        for number, section in enumerate(sections, start=1):
            source.seek(section.src_start)
            audio = source.read(section.src_end - section.src_start, dtype="float32")
            section.source = measure(audio, run.sample_rate_hz)
            if profile is not None:
                done = master_chapter(
                    audio, run.sample_rate_hz, profile,
                    head_tone=section.part == 0,
                    tail_tone=section.part == section.parts - 1,
                )
                audio = done.audio_f32
                section.gain_db, section.limited = done.gain_db, done.limited
                section.head_pad = done.head_pad_samples
                section.exported = measure(audio, run.sample_rate_hz)
            else:
                section.exported = section.source
            section.out_start, section.out_samples = position, audio.size
            position += audio.size
            sink(audio)
            notify(0.85 * number / len(sections), f"section {number}/{len(sections)}")


def _map_sample(sample: int, section: _Section, shifted: bool) -> int:
    if not shifted:
        return sample
    mapped = section.out_start + section.head_pad + (sample - section.src_start)
    return min(max(mapped, section.out_start), section.out_start + section.out_samples)


def _section_of(sample: int, sections: list[_Section]) -> _Section:
    starts = [s.src_start for s in sections]
    return sections[max(0, bisect.bisect_right(starts, sample) - 1)]


def _map_item(item: TimedItem, sections: list[_Section], shifted: bool) -> TimedItem:
    section = _section_of(item.start_sample, sections)
    return TimedItem(
        _map_sample(item.start_sample, section, shifted),
        _map_sample(item.end_sample, section, shifted),
        item.text, item.speaker, item.chapter,
    )


def _chapter_marks(
    run: Run, sections: list[_Section], shifted: bool
) -> list[tuple[int, int, str]]:
    """(start_ms, end_ms, title) per chapter on the exported timeline."""
    marks = []
    rate = run.sample_rate_hz
    for index, chapter in enumerate(run.chapters):
        own = [s for s in sections if s.chapter == index]
        if shifted:
            start, end = own[0].out_start, own[-1].out_start + own[-1].out_samples
        else:
            start, end = chapter.start_sample, chapter.end_sample
        marks.append((start * 1000 // rate, end * 1000 // rate, chapter.title))
    return marks


def _cover_path(run: Run) -> Path | None:
    name = run.meta.get("cover")
    if not name:
        return None
    path = run.run_dir / Path(str(name)).name
    if not path.is_file():
        logger.warning("export %s: cover %s is missing, M4B has no art", run.run_dir.name,
                       path.name)
        return None
    return path


# ---- text outputs -------------------------------------------------------------------


def _write_timed_text(
    run: Run, wanted: list[str], items: list[TimedItem], titles: list[str]
) -> dict[str, Path]:
    rate = run.sample_rate_hz
    writers = {
        "vtt": lambda: format_webvtt(items, rate, titles),
        "srt": lambda: format_srt(items, rate),
        "words": lambda: json.dumps(
            word_timings_document(items, rate), ensure_ascii=False, indent=1
        ),
    }
    written = {}
    for name, render in writers.items():
        if name in wanted:
            path = run.run_dir / OUTPUT_NAMES[name]
            _write_atomic(path, render())
            written[OUTPUT_NAMES[name]] = path
    return written


def _report(
    run: Run,
    sections: list[_Section],
    profile: Profile | None,
    shifted: bool,
    outputs: dict[str, Path],
) -> dict[str, Any]:
    rate = run.sample_rate_hz
    entries = []
    for section in sections:
        assert section.source is not None and section.exported is not None
        head = section.part == 0
        tail = section.part == section.parts - 1
        results = {
            name: check(section.exported, p, head_tone=head, tail_tone=tail)
            for name, p in PROFILES.items()
        }
        start = section.out_start if shifted else section.src_start
        length = section.out_samples if shifted else section.src_end - section.src_start
        entries.append({
            "chapter": section.chapter,
            "title": run.chapters[section.chapter].title,
            "part": section.part + 1,
            "parts": section.parts,
            "start": round(start / rate, 3),
            "end": round((start + length) / rate, 3),
            "gain_db": round(section.gain_db, 2),
            "limited": section.limited,
            "room_tone_change_s": round((section.out_samples - section.src_end
                                         + section.src_start) / rate, 3),
            "source": section.source.to_dict(),
            "measured": section.exported.to_dict(),
            "profiles": {
                name: {"result": "FAIL" if fails else "PASS", "failures": fails}
                for name, fails in results.items()
            },
        })
    summary = {
        name: "PASS" if all(e["profiles"][name]["result"] == "PASS" for e in entries)
        else "FAIL"
        for name in PROFILES
    }
    return {
        "master": profile.name if profile else None,
        "meter": METER,
        "sample_rate_hz": rate,
        "timed_text_timeline": "exported audio" if shifted else "narration.flac",
        "stems_timeline": "narration.flac",
        "files": sorted(name for name in outputs if name != REPORT_NAME),
        "summary": summary,
        "chapters": entries,
    }


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
