"""Stems: one FLAC per speaker, sample-aligned with ``narration.flac``.

Each stem has exactly as many samples as the narration. It carries that speaker's
segments, copied bit for bit from the narration, and digital silence everywhere else, so
the stems of all speakers add up to the narration (pauses between segments are silent in
both). Stems are never mastered: they are material for further editing.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import soundfile as sf

from talecast.errors import ExportError
from talecast.pipeline.timedtext import TimedItem
from talecast.pipeline.types import NARRATOR

logger = logging.getLogger(__name__)

BLOCK_SAMPLES = 1 << 18  # samples read and written per step
_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]+')


def write_stems(
    narration_path: Path,
    items: Sequence[TimedItem],
    out_dir: Path,
    progress: Callable[[float], None] | None = None,
    block_samples: int = BLOCK_SAMPLES,
) -> dict[str, Path]:
    """Write ``out_dir/<Speaker>.flac`` for every speaker; return speaker -> path.

    ``items`` are the segments on the narration's own timeline. Stale stems from an
    earlier export in ``out_dir`` are removed first.
    """
    info = sf.info(str(narration_path))
    if info.channels != 1:
        raise ExportError(
            f"stems need a mono narration, but {narration_path} has {info.channels} "
            "channels; render the story again"
        )
    spans = _spans_by_speaker(items, info.frames)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.flac"):
        stale.unlink()
    paths = _stem_paths(list(spans), out_dir)

    with ExitStack() as stack:
        source = stack.enter_context(sf.SoundFile(str(narration_path)))
        sinks = {
            speaker: stack.enter_context(
                sf.SoundFile(
                    str(path),
                    "w",
                    samplerate=info.samplerate,
                    channels=1,
                    format="FLAC",
                    subtype="PCM_16",
                )
            )
            for speaker, path in paths.items()
        }
        for block_start in range(0, info.frames, block_samples):
            block = source.read(block_samples, dtype="int16")
            for speaker, sink in sinks.items():
                sink.write(_stem_block(block, block_start, spans[speaker]))
            if progress:
                progress(min(1.0, (block_start + block.size) / max(info.frames, 1)))

    logger.info("stems: %d speakers written to %s", len(paths), out_dir)
    return paths


def _spans_by_speaker(
    items: Sequence[TimedItem], total_samples: int
) -> dict[str, list[tuple[int, int]]]:
    """Sorted, clipped sample spans per speaker; the narrator comes first."""
    spans: dict[str, list[tuple[int, int]]] = {}
    if any(item.speaker == NARRATOR for item in items):
        spans[NARRATOR] = []
    for item in items:
        start = max(0, min(item.start_sample, total_samples))
        end = max(start, min(item.end_sample, total_samples))
        spans.setdefault(item.speaker, []).append((start, end))
    for speaker_spans in spans.values():
        speaker_spans.sort()
    return spans


def _stem_block(
    block: np.ndarray, block_start: int, spans: list[tuple[int, int]]
) -> np.ndarray:
    out = np.zeros_like(block)
    block_end = block_start + block.size
    # The first span that could reach into this block: spans are sorted by start.
    first = max(0, bisect.bisect_right(spans, (block_start, block_start)) - 1)
    for start, end in spans[first:]:
        if start >= block_end:
            break
        lo, hi = (
            max(start, block_start) - block_start,
            min(end, block_end) - block_start,
        )
        if lo < hi:
            out[lo:hi] = block[lo:hi]
    return out


def _stem_paths(speakers: list[str], out_dir: Path) -> dict[str, Path]:
    """A file per speaker, named after the speaker, unique even case-insensitively."""
    paths: dict[str, Path] = {}
    taken: set[str] = set()
    for speaker in speakers:
        base = safe_file_name(speaker) or "Speaker"
        name, number = base, 2
        while name.lower() in taken:
            name, number = f"{base} ({number})", number + 1
        taken.add(name.lower())
        paths[speaker] = out_dir / f"{name}.flac"
    return paths


def safe_file_name(text: str) -> str:
    """``text`` made usable as a file name: no separators or control characters."""
    return _UNSAFE.sub("_", " ".join(text.split())).strip(" .")[:100]
