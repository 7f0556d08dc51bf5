"""Voice previews: a voice saying a sample, to choose voices before a long render.

A preview is spoken like a line of a story and kept in the line cache under the same
key, so asking again (or rendering a story with that line) costs nothing more.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from talecast.pipeline.cache import LineCache, line_key
from talecast.pipeline.synthesis import OUTPUT_RATE_HZ, get_synthesizer
from talecast.pipeline.voices import Voice, get_voice

MAX_PREVIEW_CHARS = 300
SAMPLE = (
    'I am {name}. "Is anyone there?" she called into the dark hall, and her voice came '
    "back to her from the stairs."
)


def preview_text(voice: Voice, text: str | None = None) -> str:
    """What a preview says: ``text`` with its spaces collapsed, or the sample sentence
    naming the voice; ValueError for text over MAX_PREVIEW_CHARS or without words."""
    if text is None or not text.strip():
        return SAMPLE.format(name=voice.name)
    said = " ".join(text.split())
    if len(said) > MAX_PREVIEW_CHARS:
        raise ValueError(
            f"a preview says at most {MAX_PREVIEW_CHARS} characters, not {len(said)}"
        )
    if not any(ch.isalnum() for ch in said):
        raise ValueError(f"{said!r} has no words to speak")
    return said


def voice_preview(
    voice_id: int, cache: LineCache, text: str | None = None
) -> np.ndarray:
    """The int16 samples (24 kHz) of voice ``voice_id`` saying :func:`preview_text`;
    VoiceError for an unknown voice or an engine that cannot run here, ValueError for
    text a preview cannot say."""
    voice = get_voice(voice_id)
    said = preview_text(voice, text)
    samples = spoken(voice, said, cache)
    if samples.size == 0:
        raise ValueError(f"{said!r} has no words to speak")
    return samples


def spoken(voice: Voice, text: str, cache: LineCache) -> np.ndarray:
    """The int16 samples of ``voice`` saying ``text`` as a line of a story would be
    said, from the line cache (synthesized and stored there when missing)."""
    synth = get_synthesizer()
    key = line_key(synth.engine_version(voice), voice.id, voice.params, text)
    samples = cache.get(key)
    if samples is None:
        samples = cache.put(key, synth.synthesize(text, voice))
    return samples


def flac_bytes(samples: np.ndarray) -> bytes:
    """Samples as a FLAC file in memory."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, OUTPUT_RATE_HZ, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()
