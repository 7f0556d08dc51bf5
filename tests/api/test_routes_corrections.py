"""Correcting a finished run's speakers and voices through the API, on a real server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from camb import CambAI
from liveserver import LiveServer, upload, wait_for_status

STORY = (
    "CHAPTER I. The Visitor\n\n"
    "The rain fell on the old house at the end of the lane.\n\n"
    '"Who is there?" asked Mary, holding the lamp high.\n\n'
    '"Only me," said Tom. "Open the door, it is cold."\n\n'
    '"Let him in, child," said Grandfather from his chair by the fire.\n\n'
    '"I will," said Mary, and she opened it and smiled at her brother.\n'
)

QUOTE = STORY.index('"Who is there?"')


@dataclass
class Corrected:
    """A server with a run, a correction of it, and a correction of the correction."""

    server: LiveServer
    client: httpx.Client
    key: str
    other_key: str
    run_id: int
    script: list[dict[str, Any]]


def _files(client: httpx.Client, key: str, run_id: int) -> dict[str, dict[str, Any]]:
    response = client.get(
        f"/apis/story-result/{run_id}/files", headers={"x-api-key": key}
    )
    assert response.status_code == 200, response.text
    return {item["name"]: item for item in response.json()["files"]}


def _fetch(client: httpx.Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.content


def _json_file(client: httpx.Client, key: str, run_id: int, name: str) -> Any:
    return httpx.Response(
        200, content=_fetch(client, _files(client, key, run_id)[name]["url"])
    ).json()


@pytest.fixture(scope="module")
def corrected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corrected]:
    server = LiveServer(tmp_path_factory.mktemp("corrections")).start()
    key, other_key = server.create_key("editor"), server.create_key("other")
    client = httpx.Client(base_url=server.url, timeout=30.0)
    try:
        created = upload(client, key, STORY, export_formats="mp3")
        assert created.status_code == 200, created.text
        final = wait_for_status(client, created.json()["task_id"], key)
        assert final["status"] == "SUCCESS", final
        run_id = int(str(final["run_id"]))
        script = _json_file(client, key, run_id, "script.json")
        yield Corrected(server, client, key, other_key, run_id, script)
    finally:
        client.close()
        server.stop()


def _post(c: Corrected, body: object, run_id: int | None = None, key: str = "") -> Any:
    return c.client.post(
        f"/apis/story-result/{run_id or c.run_id}/corrections",
        headers={"x-api-key": key or c.key},
        json=body,
    )


def _line(c: Corrected, words: str) -> dict[str, Any]:
    return next(item for item in c.script if words in item["text"])


def test_script_lists_every_line_with_offsets_and_confidence(corrected: Corrected):
    dialogue = [item for item in corrected.script if item["kind"] == "dialogue"]
    assert {item["speaker"] for item in dialogue} == {"Mary", "Tom", "Grandfather"}
    for item in corrected.script:
        assert item["start"] < item["end"]
        assert 0 <= item["start_char"] < item["end_char"]
        assert 0 <= item["confidence"] <= 1
    assert all(item["method"] for item in dialogue)
    headings = [item for item in corrected.script if item["heading"]]
    assert [(h["text"], h["kind"], h["start_char"]) for h in headings] == [
        ("CHAPTER I. The Visitor", "narration", 0)
    ]


def test_corrections_rerender_with_new_speakers_and_voices(corrected: Corrected):
    c = corrected
    who = _line(c, "Who is there?")
    cast_before = _json_file(c.client, c.key, c.run_id, "cast.json")
    taken = {entry["voice_id"] for entry in cast_before.values()}
    voices = c.client.get("/apis/list-voices", headers={"x-api-key": c.key}).json()
    free = next(v["id"] for v in voices if v["id"] not in taken)

    created = _post(
        c,
        {
            "speakers": [{"start_char": who["start_char"], "speaker": "The Stranger"}],
            "voices": {"Tom": free},
        },
    )
    assert created.status_code == 200, created.text
    # The corrected render is an ordinary story task: the SDK polls and fetches it.
    sdk = CambAI(api_key=c.key, base_url=c.server.api, timeout=60)
    task_id = created.json()["task_id"]
    final = wait_for_status(c.client, task_id, c.key)
    assert final["status"] == "SUCCESS", final
    status = sdk.story.get_story_status(task_id)
    new_run = int(status.run_id)
    assert new_run != c.run_id
    info = sdk.story.get_story_run_info(new_run, include_transcript=True)
    speakers = {item["text"]: item["speaker"] for item in info["transcript"]}
    assert speakers["Who is there?"] == "The Stranger"
    assert speakers["Only me,"] == "Tom"

    cast = _json_file(c.client, c.key, new_run, "cast.json")
    assert cast["Tom"]["voice_id"] == free
    assert cast["Mary"]["voice_id"] == cast_before["Mary"]["voice_id"]
    assert cast["Grandfather"]["voice_id"] == cast_before["Grandfather"]["voice_id"]
    assert cast["Narrator"]["voice_id"] == cast_before["Narrator"]["voice_id"]
    assert cast["The Stranger"]["voice_id"] not in {
        entry["voice_id"] for name, entry in cast.items() if name != "The Stranger"
    }
    # The upload's requested exports come along.
    assert "narration.mp3" in _files(c.client, c.key, new_run)

    shown = c.client.get(
        f"/apis/story-result/{new_run}/corrections", headers={"x-api-key": c.key}
    ).json()
    assert shown == {
        "run_id": new_run,
        "corrects_run_id": c.run_id,
        "speakers": [{"start_char": who["start_char"], "speaker": "The Stranger"}],
        "speech": [],
        "voices": {"Tom": free},
        "pronunciations": {},
    }

    # Correcting the correction: earlier corrections stay, a quote goes to the narrator.
    door = _line(c, "Open the door")
    again = _post(
        c,
        {"speakers": [{"start_char": door["start_char"], "speaker": "Narrator"}]},
        run_id=new_run,
    )
    assert again.status_code == 200, again.text
    final = wait_for_status(c.client, again.json()["task_id"], c.key)
    assert final["status"] == "SUCCESS", final
    third = int(str(final["run_id"]))
    result = c.client.get(
        f"/apis/story-result/{third}",
        params={"include_transcript": "true"},
        headers={"x-api-key": c.key},
    ).json()
    items = result["transcript"]
    by_text = {item["text"]: item["speaker"] for item in items}
    assert by_text["Who is there?"] == "The Stranger"
    narrated = next(item for item in items if "Open the door" in item["text"])
    assert narrated["speaker"] == "Narrator"
    assert narrated["text"].startswith(
        '"Open the door'
    )  # read with its quotation marks
    # Off the dialogue track, and the voices of the first correction are kept.
    dialogue, rate = sf.read(io.BytesIO(_fetch(c.client, result["dialogue_url"])))
    a, b = int(narrated["start"] * rate), int(narrated["end"] * rate)
    assert b > a and not np.any(dialogue[a:b])
    third_cast = _json_file(c.client, c.key, third, "cast.json")
    assert (
        "Tom" not in third_cast
    )  # both parts of his one quotation went to the narrator
    for name in ("The Stranger", "Mary", "Grandfather", "Narrator"):
        assert third_cast[name]["voice_id"] == cast[name]["voice_id"], name


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        (
            {"speakers": [{"start_char": 0, "speaker": "Mary"}]},
            ["body", "speakers", 0, "start_char"],
            "no quote of the story is at character offset 0",
        ),
        (
            {"speakers": [{"start_char": -3, "speaker": "Mary"}]},
            ["body", "speakers", 0, "start_char"],
            "greater than or equal to 0",
        ),
        ({"voices": {"Mary": 999}}, ["body", "voices", "Mary"], "unknown voice id 999"),
        ({"voices": {"Nobody": 1}}, ["body", "voices", "Nobody"], "speaks no line"),
        ({"speaker": []}, ["body", "speaker"], "Extra inputs"),
        (
            {
                "speech": [
                    {"start_char": QUOTE + 4, "end_char": QUOTE + 24, "speaker": "Tom"}
                ]
            },
            ["body", "speech", 0],
            "overlap the quote at",
        ),
        (
            {"speech": [{"start_char": 0, "end_char": QUOTE - 2, "speaker": "Tom"}]},
            ["body", "speech", 0],
            "take in the chapter heading 'CHAPTER I. The Visitor'",
        ),
        (
            {"speech": [{"start_char": 9, "end_char": 4, "speaker": "Tom"}]},
            ["body", "speech", 0, "end_char"],
            "must be after start_char",
        ),
        ({"speakers": [{"start_char": 1}]}, ["body", "speakers", 0, "speaker"], ""),
    ],
)
def test_bad_corrections_are_422_naming_the_field(corrected, body, loc, words):
    response = _post(corrected, body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"] == loc
    assert words in detail[0]["msg"]


def test_corrections_of_runs_that_are_not_the_callers_are_404(corrected: Corrected):
    body = {"voices": {"Mary": 1}}
    assert _post(corrected, body, key=corrected.other_key).status_code == 404
    assert _post(corrected, body, run_id=10**6).status_code == 404
    other = corrected.client.get(
        f"/apis/story-result/{corrected.run_id}/corrections",
        headers={"x-api-key": corrected.other_key},
    )
    assert other.status_code == 404


def test_a_speech_correction_gives_narration_to_a_character(corrected: Corrected):
    c = corrected
    rain = _line(c, "The rain fell")
    assert rain["kind"] == "narration"
    body = {
        "speech": [
            {
                "start_char": rain["start_char"],
                "end_char": rain["end_char"],
                "speaker": "Tom",
            }
        ]
    }
    created = _post(c, body)
    assert created.status_code == 200, created.text
    final = wait_for_status(c.client, created.json()["task_id"], c.key)
    assert final["status"] == "SUCCESS", final
    run_id = int(str(final["run_id"]))
    result = c.client.get(
        f"/apis/story-result/{run_id}",
        params={"include_transcript": "true"},
        headers={"x-api-key": c.key},
    ).json()
    spoken = next(i for i in result["transcript"] if i["text"] == rain["text"])
    assert spoken["speaker"] == "Tom"
    dialogue, rate = sf.read(io.BytesIO(_fetch(c.client, result["dialogue_url"])))
    a, b = int(spoken["start"] * rate), int(spoken["end"] * rate)
    assert b > a and np.abs(dialogue[a:b]).max() > 0  # now on the dialogue track
    script = _json_file(c.client, c.key, run_id, "script.json")
    line = next(i for i in script if i["text"] == rain["text"])
    assert (line["kind"], line["method"]) == ("dialogue", "corrected")
    stored = c.client.get(
        f"/apis/story-result/{run_id}/corrections", headers={"x-api-key": c.key}
    ).json()
    assert stored["speech"] == body["speech"]
