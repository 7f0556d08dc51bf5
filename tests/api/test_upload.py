"""POST /apis/story: limits, field checks and clear refusals (never 409, never 5xx)."""

from __future__ import annotations

import socket

import httpx
import pytest
from liveserver import STORY, upload
from world import MAX_ACTIVE, MAX_UPLOAD_BYTES, World


def _detail(response: httpx.Response) -> list[dict[str, object]]:
    assert response.status_code == 422, response.text
    return list(response.json()["detail"])


def test_upload_over_the_size_limit_is_413_naming_the_limit(world: World) -> None:
    big = "word " * (MAX_UPLOAD_BYTES // 5 + 10)
    response = upload(world.client, world.key_c, big)
    assert response.status_code == 413
    assert str(MAX_UPLOAD_BYTES) in response.json()["detail"]


def test_setup_upload_over_the_size_limit_is_413_too(world: World) -> None:
    big = "word " * (MAX_UPLOAD_BYTES // 5 + 10)
    response = world.client.post(
        "/apis/story-setup",
        headers={"x-api-key": world.key_c},
        data={"source_language": "1"},
        files={"file": ("big.txt", big.encode(), "text/plain")},
    )
    assert response.status_code == 413
    assert str(MAX_UPLOAD_BYTES) in response.json()["detail"]


def _declare(world: World, path: str, length: int, kind: str) -> bytes:
    """Send only the headers of a POST declaring ``length`` bytes; the reply."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {world.key_c}\r\n"
        f"Content-Type: {kind}\r\nContent-Length: {length}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", world.server.port), timeout=10) as sock:
        sock.sendall(request.encode())  # headers only: the body never comes
        reply = b""
        while chunk := sock.recv(4096):  # the server answers, then closes
            reply += chunk
    return reply


def test_a_huge_json_body_is_refused_before_reading(world: World) -> None:
    path = f"/apis/story-result/{world.runs_a[0]}/corrections"
    reply = _declare(world, path, 64 * 2**20, "application/json")
    assert reply.startswith(b"HTTP/1.1 413") and b"16 MiB" in reply


def test_upload_with_a_huge_declared_length_is_refused_before_reading(
    world: World,
) -> None:
    reply = _declare(
        world, "/apis/story", 10 * MAX_UPLOAD_BYTES, "multipart/form-data; boundary=b"
    )
    assert reply.startswith(b"HTTP/1.1 413")
    assert str(MAX_UPLOAD_BYTES).encode() in reply


@pytest.mark.parametrize(
    "content", [b"", b"   \n\t ", b"\x00\x01\x02PK\x03\x04" * 50, b"\xff\xfe\x00" * 99]
)
def test_unreadable_file_is_422_on_the_file_field(world: World, content: bytes) -> None:
    response = world.client.post(
        "/apis/story",
        headers={"x-api-key": world.key_c},
        data={"source_language": "1"},
        files={"file": ("upload", content)},
    )
    detail = _detail(response)
    assert detail[0]["loc"] == ["body", "file"]
    assert len(str(detail[0]["msg"])) > 20  # says what is wrong, not just "invalid"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "ab"}, "title"),
        ({"title": "x" * 256}, "title"),
        ({"description": "no"}, "description"),
        ({"description": "d" * 5001}, "description"),
        ({"narrator_voice_id": "999999"}, "narrator_voice_id"),
        ({"narrator_voice_id": "abc"}, "narrator_voice_id"),
        ({"source_language": "76"}, "source_language"),
        ({"chosen_dictionaries": "3,4"}, "chosen_dictionaries"),
    ],
)
def test_bad_field_is_422_naming_the_field(
    world: World, fields: dict[str, str], field: str
) -> None:
    detail = _detail(upload(world.client, world.key_c, STORY, **fields))
    assert detail[0]["loc"] == ["body", field]


def test_repeated_dictionary_fields_are_each_checked(world: World) -> None:
    response = world.client.post(
        "/apis/story",
        headers={"x-api-key": world.key_c},
        data={"source_language": "1", "chosen_dictionaries": ["5", "6"]},
        files={"file": ("s.txt", STORY.encode())},
    )
    messages = [d["msg"] for d in _detail(response)]
    assert messages == ["unknown dictionary id 5", "unknown dictionary id 6"]


def test_missing_file_and_language_are_422(world: World) -> None:
    response = world.client.post(
        "/apis/story", headers={"x-api-key": world.key_c}, data={"title": "Hello"}
    )
    locs = [d["loc"] for d in _detail(response)]
    assert ["body", "file"] in locs and ["body", "source_language"] in locs


def test_account_over_its_active_story_limit_gets_400_not_409(world: World) -> None:
    key = world.server.create_key("quota")
    accepted = [upload(world.client, key, STORY) for _ in range(MAX_ACTIVE)]
    assert [r.status_code for r in accepted] == [200] * MAX_ACTIVE
    refused = upload(world.client, key, STORY)
    assert refused.status_code == 400
    assert f"({MAX_ACTIVE}" in refused.json()["detail"]


def test_requests_without_a_valid_key_are_401(world: World) -> None:
    revoked = world.server.create_key("gone")
    from talecast.accounts import revoke_key
    from talecast.config import get_settings

    revoke_key(revoked[:12], settings=get_settings(**world.server.settings_env()))
    for headers in ({}, {"x-api-key": "tc_nope"}, {"x-api-key": revoked}):
        response = world.client.get("/apis/list-voices", headers=headers)
        assert response.status_code == 401
        assert isinstance(response.json()["detail"], str)


def test_catalogue_lists_voices_and_only_narratable_languages(world: World) -> None:
    headers = {"x-api-key": world.key_c}
    voices = world.client.get("/apis/list-voices", headers=headers).json()
    assert voices and {
        "id",
        "voice_name",
        "gender",
        "age",
        "language",
        "description",
        "is_published",
    } <= set(voices[0])
    assert all(v["gender"] in (0, 1, 2) for v in voices)
    languages = world.client.get("/apis/source-languages", headers=headers).json()
    assert {"id": 1, "language": "English (United States)", "short_name": "en-us"} in (
        languages
    )
    assert {lang["id"] for lang in languages} <= {v["language"] for v in voices}


def test_health_and_metrics_report_the_service(world: World) -> None:
    health = world.client.get("/health").json()
    assert health["status"] == "ok"
    assert health["db"]["status"] == health["storage"]["status"] == "ok"
    assert health["queue"]["stories"]["success"] >= 3

    text = world.client.get("/metrics").text
    assert (
        'talecast_http_requests_total{method="GET",route="/health",status="200"}'
        in (text)
    )
    assert 'talecast_stories{status="success"} ' in text
    count_line = next(
        line
        for line in text.splitlines()
        if line.startswith("talecast_render_seconds_count")
    )
    assert float(count_line.split()[-1]) >= 3


def test_docs_pages_are_served(world: World) -> None:
    for path in ("/docs", "/redocs", "/openapi.json"):
        assert world.client.get(path).status_code == 200


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04" + b"\x00" * 200,  # a broken archive
        b"%PDF-1.4\n%garbage\n" * 20,  # a broken PDF
        bytes(range(256)) * 20,  # noise
        b"<html><body></body></html>",  # markup without text
        "Once upon a time.".encode("utf-16"),  # text in another encoding
    ],
)
def test_odd_files_get_a_client_error_or_are_accepted_never_a_5xx(
    world: World, content: bytes
) -> None:
    response = world.client.post(
        "/apis/story",
        headers={"x-api-key": world.server.create_key("odd")},
        data={"source_language": "1"},
        files={"file": ("upload", content, "application/octet-stream")},
    )
    assert response.status_code in (200, 413, 422), response.text
    if response.status_code == 422:
        assert response.json()["detail"][0]["loc"] == ["body", "file"]
