"""The rest of an ACX package: opening and closing credits, and a retail sample.

ACX asks for opening credits (title, author, narrator), closing credits and a retail
sample of one to five minutes, each its own MP3 mastered like the chapters. The credits
are spoken by the book's narrator voice; the sample is the opening of the first chapter
long enough to give one, cut at a line's end, without the chapter heading. The voice is
named as what it is: a synthetic Talecast voice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from talecast.pipeline import encoding
from talecast.pipeline.mastering import Profile, master_chapter
from talecast.pipeline.rundir import Run

logger = logging.getLogger(__name__)

SAMPLE_MIN_S = 60.0
SAMPLE_TARGET_S = 180.0
SAMPLE_MAX_S = 300.0
OPENING = "00 Opening Credits.mp3"
CLOSING = "99 Closing Credits.mp3"
SAMPLE = "Retail Sample.mp3"

Speak = Callable[[str], np.ndarray]  # text -> float32 at the run's sample rate


def credit_texts(meta: dict[str, object]) -> tuple[str, str]:
    """What the opening and closing credits say, from the run's meta."""
    title = str(meta.get("title") or "This audiobook")
    author = meta.get("author")
    narrator = meta.get("narrator")
    by = f", written by {author}" if author else ""
    voice = (
        f"Narrated by {narrator}, a synthetic Talecast voice."
        if narrator
        else "Narrated by synthetic Talecast voices."
    )
    return f"{title}{by}. {voice}", f"This has been {title}{by}. {voice} The end."


def sample_span(run: Run) -> tuple[int, int]:
    """Sample offsets of the retail sample: from the first line after the heading of
    the first chapter that holds at least a minute, to the line end nearest three
    minutes in (at most five); the whole book when it is shorter than a minute."""
    rate = run.sample_rate_hz
    for chapter in run.chapters:
        items = [
            item
            for item in run.items
            if chapter.start_sample <= item.start_sample < chapter.end_sample
        ]
        if items and items[0].text.strip() == chapter.title.strip():
            items = items[1:]
        if not items:
            continue
        start = items[0].start_sample
        ends = [
            item.end_sample
            for item in items
            if SAMPLE_MIN_S * rate <= item.end_sample - start <= SAMPLE_MAX_S * rate
        ]
        if ends:
            target = start + SAMPLE_TARGET_S * rate
            return start, min(ends, key=lambda end: abs(end - target))
    return 0, run.total_samples


def write_acx_extras(
    run: Run, profile: Profile, speak: Speak | None, folder: Path
) -> dict[str, Path]:
    """Write the retail sample, and the credits when ``speak`` is given, into
    ``folder``; returns output name (``acx/Retail Sample.mp3``) -> path."""
    written: dict[str, Path] = {}
    start, end = sample_span(run)
    with sf.SoundFile(str(run.narration_path)) as source:
        source.seek(start)
        sample = source.read(end - start, dtype="float32")
    tags = encoding.book_tags(run.meta)
    written[SAMPLE] = _encode(sample, run, profile, folder / SAMPLE, tags, "Sample")
    if speak is not None:
        opening, closing = credit_texts(run.meta)
        for name, text, title in (
            (OPENING, opening, "Opening Credits"),
            (CLOSING, closing, "Closing Credits"),
        ):
            written[name] = _encode(
                speak(text), run, profile, folder / name, tags, title
            )
    logger.info(
        "acx: retail sample of %.1f s%s",
        (end - start) / run.sample_rate_hz,
        " and credits" if speak is not None else "",
    )
    return {f"{folder.name}/{name}": path for name, path in written.items()}


def narrator_speaker(run_dir: Path) -> Speak | None:
    """Speech in the run's narrator voice (from ``cast.json``), or None without one."""
    try:
        cast = json.loads((run_dir / "cast.json").read_text(encoding="utf-8"))
        voice_id = int(cast["Narrator"]["voice_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    from talecast.pipeline.synthesis import get_synthesizer
    from talecast.pipeline.voices import get_voice

    voice = get_voice(voice_id)
    synth = get_synthesizer()
    return lambda text: synth.synthesize(text, voice)


def _encode(
    audio: np.ndarray,
    run: Run,
    profile: Profile,
    path: Path,
    tags: dict[str, str],
    title: str,
) -> Path:
    mastered = master_chapter(audio, run.sample_rate_hz, profile).audio_f32
    with encoding.AudioEncoders(
        {"mp3": path}, run.sample_rate_hz, {**tags, "title": title}
    ) as out:
        out.write(mastered)
    return path
