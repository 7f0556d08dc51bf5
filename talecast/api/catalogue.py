"""Voices and languages: what ``/list-voices`` and the language lists show.

Languages use Camb.ai's numeric ids. Only languages some installed voice can speak are
listed, since a story in any other language could not really be narrated.
"""

from __future__ import annotations

import functools
import logging

from fastapi import APIRouter, Query, Response

from talecast.api.deps import AccountId, State
from talecast.api.errors import field_error
from talecast.api.schemas import LanguageOut, VoiceOut
from talecast.errors import NotFoundError, VoiceError
from talecast.pipeline.preview import MAX_PREVIEW_CHARS

logger = logging.getLogger(__name__)

router = APIRouter(tags=["Voices and languages"])

# short name -> (Camb language id, display name)
CAMB_LANGUAGES: dict[str, tuple[int, str]] = {
    "en-us": (1, "English (United States)"),
    "en-gb": (35, "English (United Kingdom)"),
}
GENDER_IDS = {"male": 1, "female": 2}


@functools.lru_cache(maxsize=1)
def voices() -> tuple[VoiceOut, ...]:
    """The installed voices in the shape the API shows them."""
    from talecast.pipeline.voices import list_voices

    return tuple(
        VoiceOut(
            id=voice.id,
            voice_name=voice.name,
            gender=GENDER_IDS.get(voice.gender, 0),
            age=voice.age,
            language=CAMB_LANGUAGES.get(voice.language, (0, ""))[0],
            description=voice.description,
            is_published=True,
        )
        for voice in list_voices()
    )


@functools.lru_cache(maxsize=1)
def languages() -> tuple[LanguageOut, ...]:
    """Languages at least one installed voice speaks, by Camb id."""
    from talecast.pipeline.voices import list_voices

    spoken = {voice.language for voice in list_voices()}
    found = [
        LanguageOut(id=lang_id, language=name, short_name=short)
        for short, (lang_id, name) in CAMB_LANGUAGES.items()
        if short in spoken
    ]
    return tuple(sorted(found, key=lambda lang: lang.id))


def language_ids() -> frozenset[int]:
    """Ids accepted as ``source_language``."""
    return frozenset(lang.id for lang in languages())


@router.get("/list-voices", response_model=list[VoiceOut], summary="List Voices")
def list_voices_route(account: AccountId) -> tuple[VoiceOut, ...]:
    """Every voice available to narrate or cast a story; use an ``id`` as
    ``narrator_voice_id``. Gender: 0 unspecified, 1 male, 2 female."""
    return voices()


@router.get(
    "/voice-preview/{voice_id}",
    response_class=Response,
    summary="Hear a Voice",
    responses={200: {"content": {"audio/flac": {}}}},
)
def voice_preview_route(
    voice_id: int,
    account: AccountId,
    state: State,
    text: str | None = Query(
        None,
        max_length=MAX_PREVIEW_CHARS,
        description="what the voice says (default: a sample sentence with a quote)",
    ),
) -> Response:
    """FLAC of the voice saying ``text``, to choose a narrator or a character's voice
    before rendering. Spoken here, on first request (a second or two for a neural
    voice), then kept in the line cache."""
    from talecast.pipeline.cache import LineCache
    from talecast.pipeline.preview import flac_bytes, voice_preview
    from talecast.pipeline.synthesis import OUTPUT_RATE_HZ
    from talecast.pipeline.voices import list_voices

    if voice_id not in {v.id for v in list_voices(available_only=False)}:
        raise NotFoundError(f"no voice {voice_id}; GET /apis/list-voices lists them")
    cache = LineCache(state.settings.cache_dir, OUTPUT_RATE_HZ)
    try:
        samples = voice_preview(voice_id, cache, text)
    except VoiceError as exc:  # an engine that is not installed here
        raise field_error(("path", "voice_id"), str(exc)) from exc
    except ValueError as exc:
        raise field_error(("query", "text"), str(exc)) from exc
    return Response(
        flac_bytes(samples),
        media_type="audio/flac",
        headers={"Cache-Control": "private, max-age=86400"},
    )


@router.get(
    "/source-languages",
    response_model=list[LanguageOut],
    summary="Get Source Languages",
)
def source_languages(account: AccountId) -> tuple[LanguageOut, ...]:
    """Languages a story may be written in (ids for ``source_language``)."""
    return languages()


@router.get(
    "/target-languages",
    response_model=list[LanguageOut],
    summary="Get Target Languages",
)
def target_languages(account: AccountId) -> tuple[LanguageOut, ...]:
    """Languages Talecast can narrate in."""
    return languages()
