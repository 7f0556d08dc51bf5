"""A finished run directory as export reads it.

Rendering leaves ``narration.flac`` (mono, PCM_16), ``segments.json`` (exact sample
offsets per line), ``chapters.json``, ``meta.json`` and optionally a cover image. This
module reads them into a :class:`Run` and turns malformed or missing files into an
ExportError that says to render again.
"""

from __future__ import annotations

import bisect
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import soundfile as sf

from talecast.errors import ExportError
from talecast.pipeline.timedtext import TimedItem

logger = logging.getLogger(__name__)

NARRATION_NAME = "narration.flac"


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
        """The full mix: every line at its sample offset."""
        return self.run_dir / NARRATION_NAME


def load_run(run_dir: Path) -> Run:
    """Read the narration's header, ``segments.json``, ``chapters.json`` and meta."""
    narration = run_dir / NARRATION_NAME
    if not narration.is_file():
        raise ExportError(
            f"run directory {run_dir} has no narration.flac; render the story before "
            "exporting it"
        )
    try:
        info = sf.info(str(narration))
    except RuntimeError as exc:  # soundfile's LibsndfileError
        raise ExportError(
            f"{narration} cannot be read ({exc}); render the story again"
        ) from exc
    if info.channels != 1:
        raise ExportError(
            f"{narration} has {info.channels} channels, expected mono; render the "
            "story again"
        )
    segments = _read_json(run_dir / "segments.json", required=True)
    chapters_raw = _read_json(run_dir / "chapters.json", required=False) or []
    meta = _read_json(run_dir / "meta.json", required=False) or {}
    try:
        chapters = _tile_chapters(chapters_raw, info.frames, meta)
        starts = [c.start_sample for c in chapters]
        items = [
            TimedItem(
                int(s["start_sample"]),
                int(s["end_sample"]),
                str(s["text"]),
                str(s["speaker"]),
                max(0, bisect.bisect_right(starts, int(s["start_sample"])) - 1),
                str(s.get("kind", "narration")),
                bool(s.get("paragraph", False)),
            )
            for s in segments
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(
            f"run directory {run_dir} has a malformed segments.json or chapters.json "
            f"({exc!r}); render the story again"
        ) from exc
    return Run(run_dir, info.samplerate, info.frames, items, chapters, meta)


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
        (
            (min(max(int(c["start_sample"]), 0), total), str(c.get("title") or ""))
            for c in raw
        ),
        key=lambda mark: mark[0],
    )
    if not marks:
        marks = [(0, str(meta.get("title") or "Chapter 1"))]
    marks[0] = (0, marks[0][1])
    chapters = []
    for index, (start, title) in enumerate(marks):
        end = marks[index + 1][0] if index + 1 < len(marks) else total
        if end > start:  # an empty chapter has nothing to navigate to
            chapters.append(RunChapter(title or f"Chapter {index + 1}", start, end))
    return chapters or [RunChapter(marks[0][1] or "Chapter 1", 0, total)]


def cover_path(run: Run) -> Path | None:
    """The cover image meta.json names, if the file is there."""
    name = run.meta.get("cover")
    if not name:
        return None
    path = run.run_dir / Path(str(name)).name
    if not path.is_file():
        logger.warning(
            "run %s: cover %s is missing, M4B has no art",
            run.run_dir.name,
            path.name,
        )
        return None
    return path
