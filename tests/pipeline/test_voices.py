"""The voice catalogue: ids, profiles, availability and lookup errors."""

from __future__ import annotations

import pytest

from talecast.errors import VoiceError
from talecast.pipeline.voices import (
    CATALOGUE,
    Voice,
    default_narrator,
    get_voice,
    list_voices,
)


def test_catalogue_ids_are_unique_and_listed_in_order() -> None:
    ids = [v.id for v in list_voices(available_only=False)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(CATALOGUE)


def test_default_install_offers_enough_distinct_voices() -> None:
    voices = list_voices()
    assert len(voices) >= 8
    assert sum(v.gender == "male" for v in voices) >= 3
    assert all("GPL" not in v.licence for v in voices)


@pytest.mark.parametrize("profile", ["neural", "fast"])
def test_each_profile_has_three_voices_of_each_gender(profile: str) -> None:
    voices = [v for v in list_voices() if profile in v.profiles]
    assert sum(v.gender == "male" for v in voices) >= 3
    assert sum(v.gender == "female" for v in voices) >= 3


def test_profiles_use_the_engines_they_promise() -> None:
    engines = {
        p: {v.engine for v in list_voices() if p in v.profiles}
        for p in ("neural", "fast")
    }
    assert engines["neural"] == {"hibari", "kokoro"}
    assert engines["fast"] == {"hibari", "pico", "flite"}


def test_default_narrator_is_native_english_heart() -> None:
    for profile in ("neural", "fast"):
        narrator = default_narrator(profile)
        assert narrator.native_english
        assert narrator.name == "Heart"


def test_default_narrator_rejects_an_unknown_profile() -> None:
    with pytest.raises(VoiceError, match="'studio'"):
        default_narrator("studio")


def test_get_voice_returns_the_catalogued_voice() -> None:
    voice = get_voice(2)
    assert (voice.name, voice.gender, voice.engine) == ("Kumo", "male", "kokoro")
    assert voice.param("blend") == (("jm_kumo", 1.0),)


def test_get_voice_rejects_an_unknown_id_listing_valid_ids() -> None:
    with pytest.raises(VoiceError) as info:
        get_voice(999)
    message = str(info.value)
    assert "999" in message
    assert ", ".join(str(v.id) for v in list_voices()) in message


def test_get_voice_rejects_a_non_integer_id() -> None:
    with pytest.raises(VoiceError, match="'2'"):
        get_voice("2")  # type: ignore[arg-type]


def test_voices_are_hashable_and_immutable() -> None:
    voice = get_voice(1)
    assert {voice: 1}[get_voice(1)] == 1
    with pytest.raises(AttributeError):
        voice.name = "Other"  # type: ignore[misc]
    assert isinstance(voice, Voice)
