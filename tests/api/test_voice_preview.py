"""Hearing a voice before rendering: ``GET /apis/voice-preview/{voice_id}``."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
from world import World


def _fast_voice(world: World) -> int:
    voices = world.client.get(
        "/apis/list-voices", headers={"x-api-key": world.key_c}
    ).json()
    # A flite voice (fast profile): ids of the catalogue in README's voice table.
    names = {v["voice_name"]: v["id"] for v in voices}
    return names["Kal Deep"]


def test_a_voice_preview_is_flac_of_that_voice_speaking(world: World):
    voice = _fast_voice(world)
    headers = {"x-api-key": world.key_c}
    cache = world.server.data_dir / "cache"
    sample = world.client.get(f"/apis/voice-preview/{voice}", headers=headers)
    assert sample.status_code == 200, sample.text
    assert sample.headers["content-type"] == "audio/flac"
    audio, rate = sf.read(io.BytesIO(sample.content), dtype="int16")
    assert rate == 24000 and audio.size / rate > 2.0  # the sample sentence
    assert np.abs(audio).max() > 1000
    short = world.client.get(
        f"/apis/voice-preview/{voice}", params={"text": "Yes."}, headers=headers
    )
    said, _ = sf.read(io.BytesIO(short.content), dtype="int16")
    assert 0 < said.size < audio.size / 3
    # Asked again: served from the line cache, the very same audio.
    entries = sorted(cache.rglob("*.flac"))
    assert entries
    again = world.client.get(f"/apis/voice-preview/{voice}", headers=headers)
    assert again.content == sample.content
    assert sorted(cache.rglob("*.flac")) == entries


def test_voice_preview_refusals_name_what_is_wrong(world: World):
    headers = {"x-api-key": world.key_c}
    voice = _fast_voice(world)
    missing = world.client.get("/apis/voice-preview/999", headers=headers)
    assert missing.status_code == 404 and "list-voices" in missing.json()["detail"]
    for text, words in (("x" * 301, "at most 300"), ("... !!", "no words")):
        refused = world.client.get(
            f"/apis/voice-preview/{voice}", params={"text": text}, headers=headers
        )
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"][0]
        assert detail["loc"] == ["query", "text"] and words in detail["msg"]
    anonymous = world.client.get(f"/apis/voice-preview/{voice}")
    assert anonymous.status_code == 401
