"""Run the whole pipeline: a document in, narration, dialogue track and transcript out.

Three steps that can run in one process or spread over workers:

1. ``plan_story``: attribute speakers, split the text into lines, cast voices. Cheap.
2. ``synthesize_lines``: speak any subset of the lines into the line cache. The
   expensive step; idempotent, so a killed worker's part can simply run again.
3. ``assemble_story``: stream every line from the cache into the two tracks and write
   the transcript, chapters, cast and review files.

``render_story`` runs all three with progress reported as a fraction and a stage name.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from talecast.pipeline.assembly import (
    Assembly,
    assemble,
    script_fields,
    write_outputs,
)
from talecast.pipeline.attribution import attribute
from talecast.pipeline.cache import LineCache, line_key
from talecast.pipeline.casting import CastEntry, cast_voices
from talecast.pipeline.corrections import (
    apply_speakers,
    apply_speech,
    check_voices,
    parse_corrections,
)
from talecast.pipeline.normalize import replacements_in
from talecast.pipeline.pronunciation import pronunciation_sheet, sheet_json
from talecast.pipeline.script import Line, plan_lines
from talecast.pipeline.synthesis import OUTPUT_RATE_HZ, Synthesizer, get_synthesizer
from talecast.pipeline.types import Document
from talecast.pipeline.voices import get_voice

if TYPE_CHECKING:
    from talecast.storage.base import FileUpload

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
REVIEW_LINES = 25  # how many of the least certain attributions the review lists
# A long chapter is cut into parts of about this many characters of text: small enough
# that the last parts of a story spread over the workers (a worker left idle at the end
# waits for at most one part), large enough that each part's fixed cost (reading the
# plan, storing its audio, one database update) stays a few percent of its synthesis.
PART_TARGET_CHARS = 3000

# Share of the progress bar each step takes.
_PLAN_SHARE = 0.05
_ASSEMBLY_SHARE = 0.04


@dataclass
class RenderOptions:
    """What a caller may choose about a render."""

    narrator_voice_id: int | None = None
    profile: str = "neural"  # "neural" or "fast"
    replacements: dict[str, str] | None = None  # pronunciation: word -> what to say
    threads: int = 1  # lines spoken at once
    # A person's speaker and voice corrections, in the JSON form of
    # talecast.pipeline.corrections; checked strictly (a wrong offset or name fails).
    corrections: dict[str, Any] | None = None
    # Voices to keep from an earlier render (speaker -> voice id), so correcting one
    # line recasts nobody else; names not in the story are ignored.
    keep_voices: dict[str, int] | None = None
    # Full-cast mode: leave out narration that only says who speaks ("said Tom.").
    drop_tags: bool = False

    def __post_init__(self) -> None:
        # Pronunciations among the corrections join the dictionaries' replacements.
        said = (self.corrections or {}).get("pronunciations")
        if said and isinstance(said, dict):
            self.replacements = {**(self.replacements or {}), **said}


@dataclass
class StoryPlan:
    """Everything needed to synthesize and assemble a story, as plain data."""

    lines: list[Line]
    cast: dict[str, CastEntry]
    chapter_titles: list[str | None]
    meta: dict[str, object]
    options: RenderOptions
    review: list[dict[str, object]] = field(default_factory=list)
    dropped: list[dict[str, object]] = field(default_factory=list)  # tags left out
    pronunciations: dict[str, Any] = field(default_factory=dict)  # the sheet

    def chapter_line_ranges(self) -> list[tuple[int, int]]:
        """Half-open line index ranges, one per chapter that has lines."""
        ranges: list[tuple[int, int]] = []
        for index, line in enumerate(self.lines):
            if ranges and self.lines[ranges[-1][0]].chapter == line.chapter:
                ranges[-1] = (ranges[-1][0], index + 1)
            else:
                ranges.append((index, index + 1))
        return ranges

    def part_ranges(
        self, target_chars: int = PART_TARGET_CHARS
    ) -> list[tuple[int, int]]:
        """The story's parts as half-open line ranges: one per chapter, a long chapter
        cut into blocks of about ``target_chars`` characters of text, whole lines each
        (a block ends at the first line that brings it to ``target_chars``).

        Workers synthesize and encode a part each; every render, on one machine or
        many, lays its tracks out by these parts (see
        :func:`talecast.pipeline.assembly.assemble`), so both give the same audio.
        """
        parts: list[tuple[int, int]] = []
        for first, last in self.chapter_line_ranges():
            start, chars = first, 0
            for index in range(first, last):
                chars += len(self.lines[index].text)
                if chars >= target_chars and index + 1 < last:
                    parts.append((start, index + 1))
                    start, chars = index + 1, 0
            parts.append((start, last))
        return parts

    def to_json(self) -> str:
        """Serialize, for handing the plan to other workers."""
        return json.dumps(
            {
                "lines": [asdict(ln) for ln in self.lines],
                "cast": {k: asdict(v) for k, v in self.cast.items()},
                "chapter_titles": self.chapter_titles,
                "meta": self.meta,
                "options": asdict(self.options),
                "review": self.review,
                "dropped": self.dropped,
                "pronunciations": self.pronunciations,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, data: str) -> StoryPlan:
        raw = json.loads(data)
        return cls(
            lines=[Line(**ln) for ln in raw["lines"]],
            cast={k: CastEntry(**v) for k, v in raw["cast"].items()},
            chapter_titles=raw["chapter_titles"],
            meta=raw["meta"],
            options=RenderOptions(**raw["options"]),
            review=raw["review"],
            dropped=raw.get("dropped", []),
            pronunciations=raw.get("pronunciations", {}),
        )


@dataclass
class RenderResult:
    """Where a finished render's files are and what they say."""

    out_dir: Path
    narration_path: Path
    dialogue_path: Path
    transcript: list[dict]
    chapters: list[dict]
    duration_s: float
    cast: dict[str, CastEntry]


def plan_story(document: Document, options: RenderOptions) -> StoryPlan:
    """Attribute, apply any corrections, split into lines and cast voices."""
    corrections = parse_corrections(options.corrections)
    found = apply_speech(attribute(document.text), corrections, document)
    attribution = apply_speakers(found, corrections)
    dropped: list[Line] | None = [] if options.drop_tags else None
    lines = plan_lines(document, attribution, dropped)
    # A voice kept from an earlier render may belong to someone corrected away since.
    check_voices(
        corrections, {ln.speaker for ln in lines} | set(options.keep_voices or {})
    )
    cast = cast_voices(
        lines,
        attribution.characters,
        narrator_voice_id=options.narrator_voice_id,
        profile=options.profile,
        pinned={**(options.keep_voices or {}), **corrections.voices},
    )
    narrator = get_voice(cast["Narrator"].voice_id)
    meta = {
        "title": document.title,
        "author": document.author,
        "narrator": narrator.name,
        "sample_rate_hz": OUTPUT_RATE_HZ,
        "source_format": document.source_format,
        "first_person_narrator": attribution.narrator_name,
    }
    return StoryPlan(
        lines,
        cast,
        [c.title for c in document.chapters],
        meta,
        options,
        _review(lines),
        [
            {"start_char": ln.start_char, "end_char": ln.end_char, "text": ln.text}
            for ln in dropped or []
        ],
        sheet_json(pronunciation_sheet(document.text)),
    )


def setup_files(plan: StoryPlan) -> dict[str, object]:
    """What a story set up for editing offers before any audio exists: ``script.json``
    (every line as a render's script lists it, without times), ``cast.json`` and
    ``review.json``."""
    script = [script_fields(ln) for ln in plan.lines]
    cast = {name: asdict(entry) for name, entry in plan.cast.items()}
    files = {
        "script.json": script,
        "cast.json": cast,
        "review.json": plan.review,
        "pronunciations.json": plan.pronunciations,
    }
    if plan.options.drop_tags:
        files["dropped_tags.json"] = plan.dropped
    return files


def synthesize_lines(
    plan: StoryPlan,
    indices: Iterable[int],
    cache: LineCache,
    synthesizer: Synthesizer | None = None,
    progress: Callable[[float], None] | None = None,
    keep: dict[str, np.ndarray] | None = None,
) -> int:
    """Speak the given lines into the cache; returns how many were synthesized anew.

    ``plan.options.threads`` lines are spoken at once. Progress is reported, and lines
    stored, in order from the calling thread, so ``progress`` may raise to stop.
    ``keep`` receives the int16 samples of each line spoken anew, by cache key, for a
    caller that uses them next (saving a read back from the cache).
    """
    synth = synthesizer or get_synthesizer()
    todo = list(indices)
    total_chars = sum(len(plan.lines[i].text) for i in todo) or 1
    # Lines with the same key ("Yes." in one voice) are spoken once.
    sharing: dict[str, list[int]] = {}
    for i in todo:
        sharing.setdefault(line_cache_key(plan, i, synth), []).append(i)
    missing = [(key, group) for key, group in sharing.items() if not cache.has(key)]
    left = sum(len(plan.lines[i].text) for _, group in missing for i in group)
    done_chars = sum(len(plan.lines[i].text) for i in todo) - left
    if progress and done_chars:
        progress(done_chars / total_chars)
    spoken = synth.synthesize_many(
        (
            (plan.lines[group[0]].text, get_voice(plan.lines[group[0]].voice_id))
            for _, group in missing
        ),
        max(1, plan.options.threads),
        plan.options.replacements,
    )
    try:
        for (key, group), audio in zip(missing, spoken, strict=True):
            samples = cache.put(key, audio)
            if keep is not None:
                keep[key] = samples
            done_chars += sum(len(plan.lines[i].text) for i in group)
            if progress:
                progress(done_chars / total_chars)
    finally:
        spoken.close()
    return len(missing)


def assemble_story(
    plan: StoryPlan,
    cache: LineCache | None,
    out_dir: Path,
    synthesizer: Synthesizer | None = None,
    progress: Callable[[float], None] | None = None,
    samples_for: Callable[[int], np.ndarray] | None = None,
    uploads: Mapping[str, FileUpload] | None = None,
) -> RenderResult:
    """Build both tracks and the JSON files from cached lines.

    ``samples_for(i)`` overrides where line i's int16 samples come from (stored parts
    when a story was synthesized on several workers); by default the line cache.
    ``uploads`` store the tracks while they are written (see :func:`assemble`).
    """
    if samples_for is None:
        if cache is None:
            raise ValueError("assemble_story needs a line cache or samples_for")
        samples_for = _cache_reader(plan, cache, synthesizer)
    asm = assemble(
        plan.lines,
        samples_for,
        out_dir,
        OUTPUT_RATE_HZ,
        plan.chapter_titles,
        progress,
        uploads,
        parts=plan.part_ranges(),
    )
    return finish_story(plan, asm, out_dir)


def finish_story(plan: StoryPlan, asm: Assembly, out_dir: Path) -> RenderResult:
    """Write the JSON files of a story whose tracks are assembled: the transcript,
    script, segments and chapters from ``asm``, the cast and the rest from the plan."""
    cast_json = {name: asdict(entry) for name, entry in plan.cast.items()}
    extra: dict[str, object] = {
        "cast.json": cast_json,
        "meta.json": plan.meta,
        "review.json": plan.review,
        "pronunciations.json": plan.pronunciations,
    }
    if plan.options.drop_tags:
        extra["dropped_tags.json"] = plan.dropped
    transcript = write_outputs(asm, out_dir, extra)
    return RenderResult(
        out_dir,
        asm.narration_path,
        asm.dialogue_path,
        transcript,
        asm.chapters,
        asm.duration_s,
        plan.cast,
    )


def line_cache_key(
    plan: StoryPlan, index: int, synthesizer: Synthesizer | None = None
) -> str:
    """The line cache key of line ``index`` of the plan."""
    synth = synthesizer or get_synthesizer()
    line = plan.lines[index]
    voice = get_voice(line.voice_id)
    return line_key(
        synth.engine_version(voice),
        voice.id,
        voice.params,
        line.text,
        replacements_in(line.text, plan.options.replacements),
    )


def _cache_reader(
    plan: StoryPlan, cache: LineCache, synthesizer: Synthesizer | None
) -> Callable[[int], np.ndarray]:
    synth = synthesizer or get_synthesizer()

    def samples_for(index: int) -> np.ndarray:
        key = line_cache_key(plan, index, synth)
        samples = cache.get(key)
        if samples is None:  # evicted or never made: make it now rather than fail
            line = plan.lines[index]
            audio = synth.synthesize(
                line.text, get_voice(line.voice_id), plan.options.replacements
            )
            samples = cache.put(key, audio)
        return samples

    return samples_for


def render_story(
    document: Document,
    out_dir: Path,
    options: RenderOptions | None = None,
    *,
    cache_dir: Path,
    progress: Progress | None = None,
    synthesizer: Synthesizer | None = None,
    uploads: Mapping[str, FileUpload] | None = None,
) -> RenderResult:
    """Render a story start to finish; re-running after a crash reuses cached lines.

    ``uploads`` store the two tracks while they are written (see :func:`assemble`)."""
    options = options or RenderOptions()
    report = progress or (lambda fraction, stage: None)
    started = time.perf_counter()

    report(0.0, "attribution")
    plan = plan_story(document, options)
    report(_PLAN_SHARE, "synthesis")

    synth_share = 1.0 - _PLAN_SHARE - _ASSEMBLY_SHARE
    cache = LineCache(cache_dir, OUTPUT_RATE_HZ)
    fresh = synthesize_lines(
        plan,
        range(len(plan.lines)),
        cache,
        synthesizer,
        lambda f: report(_PLAN_SHARE + synth_share * f, "synthesis"),
    )

    assembly_start = _PLAN_SHARE + synth_share
    result = assemble_story(
        plan,
        cache,
        Path(out_dir),
        synthesizer,
        lambda f: report(assembly_start + _ASSEMBLY_SHARE * f, "assembly"),
        uploads=uploads,
    )
    report(1.0, "done")
    logger.info(
        "render: %d lines (%d synthesized, %d cached), %.1f s of audio in %.1f s",
        len(plan.lines),
        fresh,
        len(plan.lines) - fresh,
        result.duration_s,
        time.perf_counter() - started,
    )
    return result


def _review(lines: list[Line]) -> list[dict[str, object]]:
    """The least certain attributions, for a person to check."""
    spoken = [ln for ln in lines if ln.kind == "dialogue"]
    spoken.sort(key=lambda ln: (ln.confidence, ln.start_char))
    return [
        {
            "start_char": ln.start_char,
            "end_char": ln.end_char,
            "text": ln.text,
            "speaker": ln.speaker,
            "confidence": round(ln.confidence, 3),
        }
        for ln in spoken[:REVIEW_LINES]
    ]
