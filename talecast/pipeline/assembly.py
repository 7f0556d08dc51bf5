"""Join synthesized lines into the narration, the dialogue track and the transcript.

Both tracks are written to disk line by line, so memory stays flat however long the
story is. They have exactly the same number of samples: the dialogue track carries each
character's line at the same offset as the narration and silence everywhere else. The
transcript is computed from integer sample offsets, never by adding rounded seconds.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

from talecast.pipeline import jsontext
from talecast.pipeline.flacstream import BLOCK_SAMPLES
from talecast.pipeline.script import PAUSE_PARAGRAPH_MS, Line

if TYPE_CHECKING:
    from talecast.storage.base import FileUpload

logger = logging.getLogger(__name__)

LEAD_IN_MS = 250
TAIL_MS = 700
_QUEUE_BLOCKS = 8  # ~1 s blocks waiting per track writer


@dataclass(frozen=True)
class Segment:
    """One line's exact place in both tracks."""

    start_sample: int
    end_sample: int
    text: str
    speaker: str
    kind: str  # "narration" or "dialogue"
    chapter: int
    voice_id: int
    start_char: int = 0  # the line's span of the story text
    end_char: int = 0
    confidence: float = 1.0  # of the attribution; 1.0 for narration
    method: str = ""  # how the speaker was decided ("explicit", "corrected", ...)
    paragraph: bool = False  # the line opens a paragraph (or is a heading)
    heading: bool = False  # a chapter heading (always the narrator's)


@dataclass
class Assembly:
    """What assembly wrote."""

    narration_path: Path
    dialogue_path: Path
    segments: list[Segment]
    chapters: list[dict[str, object]]
    total_samples: int
    sample_rate_hz: int

    @property
    def duration_s(self) -> float:
        return self.total_samples / self.sample_rate_hz


def assemble(
    lines: list[Line],
    samples_for: Callable[[int], np.ndarray],
    out_dir: Path,
    sample_rate_hz: int,
    chapter_titles: list[str | None],
    progress: Callable[[float], None] | None = None,
    uploads: Mapping[str, FileUpload] | None = None,
    parts: Sequence[tuple[int, int]] | None = None,
) -> Assembly:
    """Write ``narration.flac`` and ``dialogue.flac``; ``samples_for(i)`` gives line i.

    ``parts`` (half-open line ranges covering the story in order) lay the tracks out
    as a story rendered in those parts is joined: every part but the last fills a whole
    number of FLAC blocks (see :func:`part_adjust`), so the tracks are the same sample
    for sample whether one process or several workers made them. Each part's lines
    are then held in memory together; without ``parts`` only one line is.

    ``uploads`` (by file name) are told as each track grows and when it is closed, so
    storage can take the tracks while they are written; the caller waits for them.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    narration_path = out_dir / "narration.flac"
    dialogue_path = out_dir / "dialogue.flac"
    uploads = uploads or {}
    layout = Layout(lines, sample_rate_hz)

    with (
        _TrackWriter(
            narration_path, sample_rate_hz, uploads.get(narration_path.name)
        ) as narration,
        _TrackWriter(
            dialogue_path, sample_rate_hz, uploads.get(dialogue_path.name)
        ) as dialogue,
    ):
        for audio, spoken in _story_pieces(layout, parts, samples_for):
            narration.write(audio)
            dialogue.write(audio if spoken else np.zeros_like(audio))
            if progress and layout.placed % 16 == 0 and spoken is not None:
                progress(layout.placed / max(len(lines), 1))
    if progress:
        progress(1.0)

    chapters = layout.chapters(chapter_titles)
    logger.info(
        "assembly: %d segments, %.1f s written to %s",
        len(layout.segments),
        layout.position / sample_rate_hz,
        out_dir,
    )
    return Assembly(
        narration_path,
        dialogue_path,
        layout.segments,
        chapters,
        layout.position,
        sample_rate_hz,
    )


class Layout:
    """Where each line lands in the tracks: the one place that decides the silences
    (a lead-in, each line's pause, a tail) and records the segments and chapters."""

    def __init__(self, lines: Sequence[Line], sample_rate_hz: int) -> None:
        self.lines = lines
        self.sample_rate_hz = sample_rate_hz
        self.position = 0
        self.placed = 0  # lines placed, spoken or empty
        self.segments: list[Segment] = []
        self._chapter_bounds: dict[int, list[int]] = {}

    def silence_before(self, index: int) -> int:
        """Samples of silence before line ``index`` (with the lead-in before line 0)."""
        pause = _ms_to_samples(self.lines[index].pause_before_ms, self.sample_rate_hz)
        return pause + (self.lead_in() if index == 0 else 0)

    def lead_in(self) -> int:
        return _ms_to_samples(LEAD_IN_MS, self.sample_rate_hz)

    def tail(self) -> int:
        """Silence after the last line (before the first, for a story with none)."""
        return _ms_to_samples(TAIL_MS, self.sample_rate_hz) + (
            0 if self.lines else self.lead_in()
        )

    def skip(self, samples: int) -> None:
        self.position += samples

    def place(self, index: int, samples: int) -> None:
        """Line ``index``, ``samples`` long, starts at the current position."""
        self.placed += 1
        if samples == 0:
            return
        line = self.lines[index]
        self.segments.append(
            Segment(
                self.position,
                self.position + samples,
                line.text,
                line.speaker,
                "dialogue" if line.kind == "dialogue" else "narration",
                line.chapter,
                line.voice_id,
                line.start_char,
                line.end_char,
                line.confidence,
                line.method,
                line.kind == "heading"
                or line.pause_before_ms >= PAUSE_PARAGRAPH_MS
                or index == 0,
                line.kind == "heading",
            )
        )
        bounds = self._chapter_bounds.setdefault(line.chapter, [self.position, 0])
        self.position += samples
        bounds[1] = self.position

    def place_part(
        self, first: int, last: int, lengths: Sequence[int], adjust: int
    ) -> int:
        """Lines [first, last) of a part made by :func:`part_tracks`, ``lengths``
        samples each, placed from the current position; the samples the part fills."""
        start = self.position
        for _ in _pieces(self, first, last, _placeholders(lengths, first), adjust):
            pass
        return self.position - start

    def ending(self, last: int) -> int:
        """The silence after line ``last - 1``: the pause before line ``last``, or the
        story's tail."""
        return self.tail() if last >= len(self.lines) else self.silence_before(last)

    def chapters(self, titles: list[str | None]) -> list[dict[str, object]]:
        return _chapter_list(
            self._chapter_bounds, titles, self.sample_rate_hz, self.position
        )


def _pieces(
    layout: Layout,
    first: int,
    last: int,
    samples_for: Callable[[int], np.ndarray],
    adjust: int = 0,
) -> Iterator[tuple[np.ndarray, bool | None]]:
    """The audio of lines [first, last) as (samples, spoken) pieces placed on
    ``layout``: each line (``spoken`` True for dialogue) and the silences (None).

    A part holds the silence after each of its lines (the pause before the next line,
    or the story's tail after the last one), the story's first part the lead-in too;
    ``adjust`` samples are added to (or cut from) the silence that ends the part.
    """

    def silence(samples: int) -> tuple[np.ndarray, None]:
        layout.skip(samples)
        return np.zeros(samples, np.int16), None

    if first == 0 and layout.lines:
        yield silence(layout.silence_before(0))
    for index in range(first, last):
        audio = samples_for(index)
        layout.place(index, audio.size)
        if audio.size:
            yield audio, layout.lines[index].kind == "dialogue"
        if index + 1 < last:
            yield silence(layout.silence_before(index + 1))
    yield silence(layout.ending(last) + adjust)


@dataclass(frozen=True)
class PartTracks:
    """Both tracks of lines [first, last) of a story, to be joined to the other parts'
    as they are (see :mod:`talecast.pipeline.flacstream`)."""

    narration: np.ndarray
    dialogue: np.ndarray
    adjust: int  # samples added to (or, if negative, cut from) the part's last silence


def part_tracks(
    lines: Sequence[Line],
    first: int,
    last: int,
    clips: Sequence[np.ndarray],
    sample_rate_hz: int,
    block: int = BLOCK_SAMPLES,
) -> PartTracks:
    """The narration and dialogue of lines [first, last) (``clips`` their samples),
    as :func:`assemble` lays them out with that part's boundaries."""
    layout = Layout(lines, sample_rate_hz)
    adjust, pieces = _part_pieces(layout, first, last, clips, block)
    placed = list(pieces)
    narration = np.concatenate([audio for audio, _ in placed])
    dialogue = np.concatenate(
        [audio if spoken else np.zeros_like(audio) for audio, spoken in placed]
    )
    return PartTracks(narration, dialogue, adjust)


def part_adjust(
    layout: Layout, first: int, last: int, sizes: Sequence[int], block: int
) -> int:
    """Samples added to (or, if negative, cut from) the silence after line
    ``last - 1`` so that lines [first, last), ``sizes`` samples each, with their
    silences fill a whole number of ``block`` samples; 0 for the part that ends the
    story.

    That silence moves to the nearest whole block (at most half a block, 85 ms at
    24 kHz, away) unless that would cut more than half of it; then it is lengthened to
    the next whole block instead (by less than a block, 170 ms). Every line itself, and
    everything before it, is untouched.
    """
    if last >= len(layout.lines):
        return 0
    natural = Layout(layout.lines, layout.sample_rate_hz).place_part(
        first, last, sizes, 0
    )
    adjust = -natural % block
    if adjust > block // 2 and layout.ending(last) >= 2 * (block - adjust):
        adjust -= block
    return adjust


def _story_pieces(
    layout: Layout,
    parts: Sequence[tuple[int, int]] | None,
    samples_for: Callable[[int], np.ndarray],
    block: int = BLOCK_SAMPLES,
) -> Iterator[tuple[np.ndarray, bool | None]]:
    """:func:`_pieces` of the whole story, part by part when ``parts`` are given."""
    if parts is None or not layout.lines:  # one piece (an empty story: its silence)
        yield from _pieces(layout, 0, len(layout.lines), samples_for)
        return
    covered = 0
    for first, last in parts:
        if first != covered or last <= first:
            raise ValueError(f"parts must cover the lines in order; got {list(parts)}")
        covered = last
        clips = [samples_for(i) for i in range(first, last)]
        yield from _part_pieces(layout, first, last, clips, block)[1]
    if covered != len(layout.lines):
        raise ValueError(f"parts end at line {covered} of {len(layout.lines)}")


def _part_pieces(
    layout: Layout, first: int, last: int, clips: Sequence[np.ndarray], block: int
) -> tuple[int, Iterator[tuple[np.ndarray, bool | None]]]:
    """A part's adjustment (:func:`part_adjust`) and its :func:`_pieces`, for lines
    [first, last) whose samples are ``clips``."""
    adjust = part_adjust(layout, first, last, [c.size for c in clips], block)
    return adjust, _pieces(layout, first, last, lambda i: clips[i - first], adjust)


def _placeholders(lengths: Sequence[int], first: int) -> Callable[[int], np.ndarray]:
    """``samples_for`` of lines of these ``lengths``, where only their size matters
    (a view of one zero: no memory)."""
    return lambda index: np.broadcast_to(np.int16(0), (lengths[index - first],))


def transcript_items(segments: Iterable[Segment], sample_rate_hz: int) -> list[dict]:
    """The Camb transcript: ``{start, end, text, speaker}`` in seconds, to the ms.

    Rounding start up and end down keeps every item inside its audio (for lines of at
    least a millisecond), so items never overlap.
    """
    items = []
    for seg in segments:
        start_ms = -(-seg.start_sample * 1000 // sample_rate_hz)  # ceiling division
        end_ms = max(seg.end_sample * 1000 // sample_rate_hz, start_ms)
        items.append(
            {
                "start": start_ms / 1000,
                "end": end_ms / 1000,
                "text": seg.text,
                "speaker": seg.speaker,
            }
        )
    return items


def script_items(segments: Sequence[Segment], sample_rate_hz: int) -> list[dict]:
    """Every line as a person checking the cast reads it: the transcript item plus
    :func:`script_fields`."""
    return [
        {**item, **script_fields(seg)}
        for seg, item in zip(
            segments, transcript_items(segments, sample_rate_hz), strict=True
        )
    ]


def script_fields(line: Segment | Line) -> dict[str, object]:
    """A line's entry in ``script.json`` apart from its times: text, speaker, ``kind``
    (narration or dialogue), ``heading`` (a chapter heading, which no correction may
    give to a character), ``start_char``/``end_char`` (what a speaker correction
    names), ``voice_id``, and the attribution's ``confidence`` and ``method``."""
    heading = line.heading if isinstance(line, Segment) else line.kind == "heading"
    return {
        "text": line.text,
        "speaker": line.speaker,
        "kind": "dialogue" if line.kind == "dialogue" else "narration",
        "heading": heading,
        "start_char": line.start_char,
        "end_char": line.end_char,
        "voice_id": line.voice_id,
        "confidence": round(line.confidence, 3),
        "method": line.method,
    }


def write_outputs(
    assembly: Assembly, out_dir: Path, extra: dict[str, object]
) -> list[dict]:
    """Write transcript.json, script.json, segments.json, chapters.json and any
    ``extra`` JSON files."""
    transcript = transcript_items(assembly.segments, assembly.sample_rate_hz)
    files: dict[str, object] = {
        "transcript.json": transcript,
        "script.json": script_items(assembly.segments, assembly.sample_rate_hz),
        "segments.json": [asdict(s) for s in assembly.segments],
        "chapters.json": assembly.chapters,
        **extra,
    }
    for name, payload in files.items():
        (out_dir / name).write_text(jsontext.dumps(payload), encoding="utf-8")
    return transcript


def _chapter_list(
    bounds: dict[int, list[int]],
    titles: list[str | None],
    sample_rate_hz: int,
    total_samples: int,
) -> list[dict[str, object]]:
    chapters: list[dict[str, object]] = []
    ordered = sorted(bounds)
    for n, index in enumerate(ordered):
        start = 0 if n == 0 else bounds[index][0]
        end = bounds[ordered[n + 1]][0] if n + 1 < len(ordered) else total_samples
        title = titles[index] if index < len(titles) and titles[index] else None
        chapters.append(
            {
                "title": title or f"Chapter {n + 1}",
                "start": round(start / sample_rate_hz, 3),
                "end": round(end / sample_rate_hz, 3),
                "start_sample": start,
                "end_sample": end,
            }
        )
    return chapters


class _TrackWriter:
    """A FLAC file written by its own thread from a short queue of ~1 s blocks.

    Encoding both tracks on two threads (libsndfile runs without the GIL) keeps assembly
    from being bound to one core; the bounded queue keeps memory flat. An ``upload`` is
    told after each block and once the file is closed.
    """

    def __init__(
        self, path: Path, sample_rate_hz: int, upload: FileUpload | None = None
    ) -> None:
        self._upload = upload
        self._file = sf.SoundFile(
            path,
            "w",
            samplerate=sample_rate_hz,
            channels=1,
            format="FLAC",
            subtype="PCM_16",
        )
        self._block = sample_rate_hz
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=_QUEUE_BLOCKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def write(self, audio: np.ndarray) -> None:
        self._pending.append(audio)
        self._pending_samples += audio.size
        if self._pending_samples >= self._block:
            self._flush()

    def _flush(self) -> None:
        if self._error is not None:
            raise self._error
        if self._pending:
            self._queue.put(np.concatenate(self._pending))
        self._pending, self._pending_samples = [], 0

    def _drain(self) -> None:
        while (block := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._file.write(block)
                    if self._upload is not None:
                        self._upload.advance()
                except BaseException as exc:  # re-raised in the writing thread
                    self._error = exc

    def __enter__(self) -> _TrackWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._flush()
        finally:
            self._queue.put(None)
            self._thread.join()
            self._file.close()
        if self._error is not None:
            raise self._error
        if self._upload is not None and exc_info[0] is None:
            self._upload.finish()


def _ms_to_samples(ms: int, sample_rate_hz: int) -> int:
    return ms * sample_rate_hz // 1000
