"""Completion webhooks: a story's final status POSTed, signed, to its callback_url."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from liveserver import STORY, LiveServer, Receiver, upload, wait_for_status

from talecast.config import get_settings
from talecast.jobs.notify import SIGNATURE_HEADER, signature


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("callbacks")).start()
    try:
        yield server
    finally:
        server.stop()


def test_a_finished_story_is_posted_signed_to_its_callback(live: LiveServer):
    receiver = Receiver(fail_first=1)  # the first attempt fails: it is tried again
    key = live.create_key("hooked")
    with httpx.Client(base_url=live.url, timeout=30.0) as client:
        task_id = upload(
            client, key, STORY, callback_url=receiver.url + "/done?story=1"
        ).json()["task_id"]
        final = wait_for_status(client, task_id, key)
    assert final["status"] == "SUCCESS"
    failed = receiver.next_call()
    path, headers, body = receiver.next_call()
    assert path == failed[0] == "/done?story=1" and body == failed[2]
    assert json.loads(body) == {
        "task_id": task_id,
        "status": "SUCCESS",
        "run_id": final["run_id"],
    }
    secret = get_settings(**live.settings_env()).secret_key
    assert secret and headers[SIGNATURE_HEADER] == signature(secret, body)
    assert headers[SIGNATURE_HEADER] != signature(secret + "x", body)


def test_a_story_that_did_not_finish_is_posted_with_its_reason(tmp_path):
    receiver = Receiver()
    server = LiveServer(tmp_path, TALECAST_RENDER_TIMEOUT_S="0.01").start()
    try:
        key = server.create_key("hooked-timeout")
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            task_id = upload(client, key, STORY, callback_url=receiver.url).json()[
                "task_id"
            ]
            final = wait_for_status(client, task_id, key)
    finally:
        server.stop()
    assert final["status"] == "TIMEOUT"
    _, _, body = receiver.next_call()
    assert json.loads(body) == {
        "task_id": task_id,
        "status": "TIMEOUT",
        "exception_reason": "RENDER_TIME_LIMIT",
        "message": final["message"],
    }


@pytest.mark.parametrize("url", ["ftp://example.org/x", "not a url", "http://"])
def test_a_callback_url_that_is_not_http_is_refused(live: LiveServer, url: str):
    key = live.create_key("hooked-bad")
    with httpx.Client(base_url=live.url, timeout=30.0) as client:
        response = upload(client, key, STORY, callback_url=url)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "callback_url"]


def test_private_callbacks_can_be_refused(tmp_path):
    server = LiveServer(
        tmp_path, TALECAST_PRIVATE_CALLBACKS="false", TALECAST_WORKERS="0"
    ).start()
    try:
        key = server.create_key("guarded")
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            for url in (
                "http://127.0.0.1:9/x",
                "http://localhost/x",
                "http://10.1.2.3/",
            ):
                refused = upload(client, key, STORY, callback_url=url)
                assert refused.status_code == 422, url
                detail = refused.json()["detail"][0]
                assert detail["loc"] == ["body", "callback_url"]
                assert "TALECAST_PRIVATE_CALLBACKS" in detail["msg"]
            public = upload(client, key, STORY, callback_url="http://8.8.8.8/hook")
            assert public.status_code == 200, public.text
    finally:
        server.stop()
