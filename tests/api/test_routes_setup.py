"""`POST /story-setup`: a story attributed and cast for editing, rendered on request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from camb import CambAI
from camb.types import GetSetupStoryResultResponse
from liveserver import LiveServer, wait_for_status

STORY = (
    "Night had fallen over the harbour town.\n\n"
    '"Is the ferry gone?" asked Nell, pulling her shawl tight.\n\n'
    '"An hour since," said the old boatman. "You will wait till morning."\n\n'
    '"Then I will wait," said Nell.\n'
)


@dataclass
class SetUp:
    """A server and an SDK client for one account."""

    server: LiveServer
    client: httpx.Client
    sdk: CambAI
    key: str
    other_key: str


@pytest.fixture(scope="module")
def setup_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SetUp]:
    server = LiveServer(tmp_path_factory.mktemp("setup")).start()
    key, other_key = server.create_key("editor"), server.create_key("other")
    client = httpx.Client(base_url=server.url, timeout=30.0)
    try:
        yield SetUp(
            server, client, CambAI(api_key=key, base_url=server.api), key, other_key
        )
    finally:
        client.close()
        server.stop()


def _files(env: SetUp, run_id: int, key: str = "") -> httpx.Response:
    return env.client.get(
        f"/apis/story-result/{run_id}/files", headers={"x-api-key": key or env.key}
    )


def _script(env: SetUp, run_id: int) -> list[dict[str, Any]]:
    files = {f["name"]: f for f in _files(env, run_id).json()["files"]}
    response = env.client.get(files["script.json"]["url"])
    assert response.status_code == 200, response.text
    script: list[dict[str, Any]] = response.json()
    return script


def _render(env: SetUp, run_id: int, body: dict[str, Any]) -> dict[str, object]:
    response = env.client.post(
        f"/apis/story-result/{run_id}/corrections",
        headers={"x-api-key": env.key},
        json=body,
    )
    assert response.status_code == 200, response.text
    return wait_for_status(env.client, response.json()["task_id"], env.key)


def test_setup_through_the_sdk_attributes_and_casts_without_rendering(setup_env):
    env = setup_env
    result = env.sdk.story.setup_story(
        file=STORY.encode(), source_language=1, title="The ferry"
    )
    assert isinstance(result, GetSetupStoryResultResponse)
    assert result.story_details.story_title == "The ferry"
    assert result.story_details.source_language == 1
    assert result.story_details.created_at.year >= 2026
    run_id = result.run_id

    files = {f["name"] for f in _files(env, run_id).json()["files"]}
    assert files == {"script.json", "cast.json", "review.json", "pronunciations.json"}
    script = _script(env, run_id)
    dialogue = [item for item in script if item["kind"] == "dialogue"]
    assert {item["speaker"] for item in dialogue} >= {"Nell"}
    assert all("start" not in item for item in script)  # nothing is timed yet
    # No audio yet: the result endpoints say how to render it.
    info = env.client.get(
        f"/apis/story-result/{run_id}", headers={"x-api-key": env.key}
    )
    assert info.status_code == 400 and "set up for editing" in info.json()["detail"]
    bulk = env.client.post(
        "/apis/stories-results",
        headers={"x-api-key": env.key},
        json={"run_ids": [run_id, run_id + 1000]},
    )
    assert bulk.status_code == 422
    assert "set up for editing" in bulk.json()["detail"][0]["msg"]
    # Another account sees nothing.
    assert _files(env, run_id, key=env.other_key).status_code == 404


def test_a_set_up_run_renders_itself_with_corrections(setup_env):
    env = setup_env
    run_id = env.sdk.story.setup_story(file=STORY.encode(), source_language=1).run_id
    script = _script(env, run_id)
    ferry = next(item for item in script if "ferry gone" in item["text"])
    final = _render(
        env,
        run_id,
        {"speakers": [{"start_char": ferry["start_char"], "speaker": "Marta"}]},
    )
    assert final["status"] == "SUCCESS", final
    assert final["run_id"] == run_id  # the set-up run itself was rendered
    info = env.sdk.story.get_story_run_info(run_id, include_transcript=True)
    speakers = {item["text"]: item["speaker"] for item in info["transcript"]}
    assert speakers["Is the ferry gone?"] == "Marta"
    assert speakers["Then I will wait,"] == "Nell"
    audio = env.client.get(info["audio_url"])
    assert audio.status_code == 200 and audio.content[:4] == b"fLaC"
    # Rendered once: asking again corrects the finished run into a new one.
    again = env.client.post(
        f"/apis/story-result/{run_id}/corrections",
        headers={"x-api-key": env.key},
        json={},
    )
    assert again.status_code == 200
    final = wait_for_status(env.client, again.json()["task_id"], env.key)
    assert final["status"] == "SUCCESS" and final["run_id"] != run_id


def test_an_empty_object_renders_a_set_up_run_as_it_was_set_up(setup_env):
    env = setup_env
    run_id = env.sdk.story.setup_story(file=STORY.encode(), source_language=1).run_id
    script = _script(env, run_id)
    final = _render(env, run_id, {})
    assert final["status"] == "SUCCESS", final
    info = env.sdk.story.get_story_run_info(run_id, include_transcript=True)
    assert [(i["text"], i["speaker"]) for i in info["transcript"]] == [
        (i["text"], i["speaker"]) for i in script
    ]


def test_setup_refuses_bad_uploads_like_create_story(setup_env):
    env = setup_env
    response = env.client.post(
        "/apis/story-setup",
        headers={"x-api-key": env.key},
        data={"source_language": "1"},
        files={"file": ("story.txt", b"   \n", "text/plain")},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    missing = env.client.post(
        "/apis/story-setup",
        headers={"x-api-key": env.key},
        files={"file": ("story.txt", STORY.encode(), "text/plain")},
    )
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "source_language"]


SEQUEL = (
    "Morning came grey and cold.\n\n"
    '"The ferry is here," said Nell.\n\n'
    '"At last," said Ruth, who had waited all night.\n'
)


def test_a_sequel_keeps_the_voices_of_an_earlier_run(setup_env):
    env = setup_env
    fresh = env.sdk.story.setup_story(file=SEQUEL.encode(), source_language=1)
    fresh_cast = fresh.cast  # type: ignore[attr-defined]
    # The first book, with Nell given a voice the sequel alone would not give her.
    first = env.sdk.story.setup_story(file=STORY.encode(), source_language=1)
    voices = env.client.get("/apis/list-voices", headers={"x-api-key": env.key}).json()
    chosen = next(v["id"] for v in voices if v["id"] not in fresh_cast.values())
    final = _render(env, first.run_id, {"voices": {"Nell": chosen}})
    assert final["status"] == "SUCCESS", final

    response = env.client.post(
        "/apis/story-setup",
        headers={"x-api-key": env.key},
        data={"source_language": "1", "cast_from_run_id": str(first.run_id)},
        files={"file": ("sequel.txt", SEQUEL.encode(), "text/plain")},
    )
    assert response.status_code == 200, response.text
    cast = response.json()["cast"]
    assert cast["Nell"] == chosen != fresh_cast["Nell"]
    assert cast["Ruth"] != chosen and set(cast) == set(fresh_cast)
    # Rendering the sequel keeps it.
    final = _render(env, response.json()["run_id"], {})
    assert final["status"] == "SUCCESS", final
    files = {
        f["name"]: f for f in _files(env, int(str(final["run_id"]))).json()["files"]
    }
    rendered = env.client.get(files["cast.json"]["url"]).json()
    assert rendered["Nell"]["voice_id"] == chosen
    # An id that is not the caller's is refused naming the field.
    for run_id, key in ((10**6, env.key), (first.run_id, env.other_key)):
        refused = env.client.post(
            "/apis/story",
            headers={"x-api-key": key},
            data={"source_language": "1", "cast_from_run_id": str(run_id)},
            files={"file": ("sequel.txt", SEQUEL.encode(), "text/plain")},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", "cast_from_run_id"]


def test_full_cast_mode_through_setup_and_render(setup_env):
    env = setup_env
    response = env.client.post(
        "/apis/story-setup",
        headers={"x-api-key": env.key},
        data={"source_language": "1", "drop_tags": "true"},
        files={"file": ("story.txt", STORY.encode(), "text/plain")},
    )
    assert response.status_code == 200, response.text
    run_id = response.json()["run_id"]
    files = {f["name"]: f for f in _files(env, run_id).json()["files"]}
    dropped = env.client.get(files["dropped_tags.json"]["url"]).json()
    assert "said Nell." in {d["text"] for d in dropped}
    assert "said Nell." not in {i["text"] for i in _script(env, run_id)}
    final = _render(env, run_id, {})
    assert final["status"] == "SUCCESS", final
    info = env.sdk.story.get_story_run_info(run_id, include_transcript=True)
    assert "said Nell." not in {i["text"] for i in info["transcript"]}
    assert "dropped_tags.json" in {
        f["name"] for f in _files(env, run_id).json()["files"]
    }


def test_story_runs_lists_the_callers_runs_newest_first(setup_env):
    env = setup_env
    run_id = env.sdk.story.setup_story(
        file=STORY.encode(), source_language=1, title="Listed"
    ).run_id
    runs = env.client.get("/apis/story-runs", headers={"x-api-key": env.key}).json()
    assert runs[0]["run_id"] == run_id and runs[0]["status"] == "SETUP"
    assert runs[0]["title"] == "Listed"
    assert [r["run_id"] for r in runs] == sorted(
        (r["run_id"] for r in runs), reverse=True
    )
    others = env.client.get("/apis/story-runs", headers={"x-api-key": env.other_key})
    assert others.status_code == 200 and others.json() == []
    assert env.client.get("/apis/story-runs").status_code == 401
