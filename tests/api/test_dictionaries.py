"""Pronunciation dictionaries through the API and the official camb-sdk."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from camb import CambAI
from camb.types import DictionaryWithTerms
from liveserver import STORY, LiveServer, upload, wait_for_status

TERMS = [{"term": "Tom", "replacement": "Bartholomew Maximilian"}]
PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Mary</grapheme><alias>Marie Antoinette</alias></lexeme>
</lexicon>
"""


@dataclass
class Lexicons:
    """A server with two accounts; A owns one dictionary."""

    server: LiveServer
    client: httpx.Client
    key_a: str
    key_b: str
    dictionary_id: int


@pytest.fixture(scope="module")
def lexicons(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lexicons]:
    """Start a server (a second or two) and create one dictionary for account A."""
    server = LiveServer(tmp_path_factory.mktemp("lexicons")).start()
    key_a, key_b = server.create_key("alice"), server.create_key("bob")
    client = httpx.Client(base_url=server.url, timeout=30.0)
    try:
        created = _create(client, key_a, json.dumps(TERMS), "names.json", "Names")
        assert created.status_code == 200, created.text
        yield Lexicons(server, client, key_a, key_b, int(created.json()["id"]))
    finally:
        client.close()
        server.stop()


def _create(
    client: httpx.Client, key: str, text: str, filename: str, name: str | None = None
) -> httpx.Response:
    data = {"name": name} if name else {}
    return client.post(
        "/apis/dictionaries",
        headers={"x-api-key": key},
        data=data,
        files={"file": (filename, text.encode("utf-8"))},
    )


def _list(lexicons: Lexicons, key: str) -> list[dict[str, object]]:
    response = lexicons.client.get("/apis/dictionaries", headers={"x-api-key": key})
    assert response.status_code == 200
    items: list[dict[str, object]] = response.json()
    return items


def test_created_dictionary_is_listed_and_parsed_by_the_sdk(lexicons: Lexicons) -> None:
    listed = _list(lexicons, lexicons.key_a)
    assert [d["id"] for d in listed] == [lexicons.dictionary_id]
    assert listed[0]["dictionary_terms"][0]["term"] == "Tom"  # type: ignore[index]

    sdk = CambAI(api_key=lexicons.key_a, base_url=lexicons.server.api, timeout=30)
    (parsed,) = sdk.dictionaries.get_dictionaries()
    assert isinstance(parsed, DictionaryWithTerms)
    assert (parsed.id, parsed.name, parsed.languages) == (
        lexicons.dictionary_id,
        "Names",
        [1],
    )
    assert parsed.created_at is not None and parsed.created_at.year >= 2024
    term = parsed.dictionary_terms[0]  # type: ignore[index]
    assert term.term_translations[0].term_text == "Bartholomew Maximilian"


def test_sdk_creates_a_dictionary_from_a_pls_file(lexicons: Lexicons) -> None:
    sdk = CambAI(api_key=lexicons.key_b, base_url=lexicons.server.api, timeout=30)
    created = sdk.dictionaries.create_dictionary_from_file(
        dictionary_file=("lexicon.pls", PLS.encode(), "application/pls+xml"),
        dictionary_name="Queens",
    )
    fetched = sdk.dictionaries.get_dictionary_info(created["id"])
    assert fetched.name == "Queens"
    terms = fetched.dictionary_terms or []
    assert terms[0].term == "Mary"  # type: ignore[attr-defined]

    sdk.dictionaries.delete_dictionary(created["id"])
    assert _list(lexicons, lexicons.key_b) == []


def test_other_accounts_dictionaries_are_invisible(lexicons: Lexicons) -> None:
    headers = {"x-api-key": lexicons.key_b}
    assert _list(lexicons, lexicons.key_b) == []
    path = f"/apis/dictionaries/{lexicons.dictionary_id}"
    assert lexicons.client.get(path, headers=headers).status_code == 404
    assert lexicons.client.delete(path, headers=headers).status_code == 404
    response = upload(
        lexicons.client, lexicons.key_b, chosen_dictionaries=lexicons.dictionary_id
    )
    assert response.status_code == 422
    assert _list(lexicons, lexicons.key_a)[0]["id"] == lexicons.dictionary_id


@pytest.mark.parametrize(
    ("text", "filename", "words"),
    [
        ("[{term: Tom}]", "names.json", "JSON"),
        ('[{"term": "Tom"}]', "names.json", "replacement"),
        ("<lexicon><lexeme>", "names.pls", "PLS"),
        ("[]", "empty.json", "no terms"),
    ],
)
def test_bad_dictionary_file_is_422_on_file(
    lexicons: Lexicons, text: str, filename: str, words: str
) -> None:
    response = _create(lexicons.client, lexicons.key_b, text, filename, "Bad")
    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert item["loc"] == ["body", "file"]
    assert words.lower() in item["msg"].lower()


def test_story_with_unknown_dictionary_id_is_422_naming_it(lexicons: Lexicons) -> None:
    response = upload(
        lexicons.client,
        lexicons.key_a,
        chosen_dictionaries=f"{lexicons.dictionary_id},987654",
    )
    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert item["loc"] == ["body", "chosen_dictionaries"]
    assert "987654" in item["msg"]


Transcript = list[dict[str, Any]]


def _render(lexicons: Lexicons, **fields: object) -> tuple[np.ndarray, Transcript]:
    client, key = lexicons.client, lexicons.key_a
    task_id = upload(client, key, STORY, **fields).json()["task_id"]
    return _result(lexicons, task_id)


def _result(lexicons: Lexicons, task_id: str) -> tuple[np.ndarray, Transcript]:
    client, key = lexicons.client, lexicons.key_a
    final = wait_for_status(client, task_id, key)
    assert final["status"] == "SUCCESS", final
    result = client.get(
        f"/apis/story-result/{final['run_id']}",
        params={"include_transcript": "true"},
        headers={"x-api-key": key},
    ).json()
    audio, rate = sf.read(io.BytesIO(client.get(result["audio_url"]).content))
    assert rate > 0
    return audio, result["transcript"]


def _line(transcript: Transcript, text: str) -> dict[str, Any]:
    return next(item for item in transcript if item["text"] == text)


def test_dictionary_changes_the_speech_and_keeps_the_word_in_the_transcript(
    lexicons: Lexicons,
) -> None:
    task_id = upload(
        lexicons.client,
        lexicons.key_a,
        STORY,
        chosen_dictionaries=lexicons.dictionary_id,
    ).json()["task_id"]
    # The story keeps the terms it was created with, whatever happens to the
    # dictionary afterwards.
    lexicons.client.delete(
        f"/apis/dictionaries/{lexicons.dictionary_id}",
        headers={"x-api-key": lexicons.key_a},
    )
    with_dict, transcript = _result(lexicons, task_id)
    plain, plain_transcript = _render(lexicons)

    said = _line(transcript, "said Tom.")
    plain_said = _line(plain_transcript, "said Tom.")
    assert all("Bartholomew" not in item["text"] for item in transcript)
    assert said["end"] - said["start"] > plain_said["end"] - plain_said["start"] + 0.3
    rain = "The rain fell on the old house at the end of the lane."
    first, plain_first = _line(transcript, rain), _line(plain_transcript, rain)
    assert first["end"] - first["start"] == pytest.approx(
        plain_first["end"] - plain_first["start"], abs=0.02
    )
    assert len(with_dict) != len(plain)
