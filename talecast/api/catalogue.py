"""Voices and languages: what ``/list-voices`` and the language lists show.

Languages use Camb.ai's numeric ids. Only languages some installed voice can speak are
listed, since a story in any other language could not really be narrated.
"""

from __future__ import annotations

import functools
import logging

from fastapi import APIRouter

from talecast.api.deps import AccountId
from talecast.api.schemas import LanguageOut, VoiceOut

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
