"""The bulk-results fast lane answers exactly like the documented FastAPI route."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert

from talecast.accounts import create_key
from talecast.api.app import create_app
from talecast.api.fastlane import BulkResultsLane
from talecast.config import get_settings
from talecast.db import Story, make_engine

TRANSCRIPT = [{"start": 0.5, "end": 1.25, "text": "Hello.", "speaker": "Narrator"}]


def _seed(data_dir: Path) -> tuple[str, str]:
    settings = get_settings(data_dir=data_dir, workers=0)
    mine, theirs = (
        create_key("a", settings=settings),
        create_key("b", settings=settings),
    )
    engine = make_engine(settings.db_url)
    with engine.begin() as conn:
        for run_id, account, status in (
            (1, 1, "success"),
            (2, 1, "success"),
            (3, 1, "running"),
            (4, 2, "success"),
            (5, 1, "error"),
        ):
            conn.execute(
                insert(Story).values(
                    run_id=run_id,
                    task_id=f"t{run_id}",
                    account_id=account,
                    status=status,
                    progress=0.0,
                    stage="x",
                    source_language=1,
                    upload_key="u",
                    upload_bytes=1,
                    created_at=0.0,
                    attempts=1,
                    narration_key=f"runs/{run_id}/narration.flac",
                    dialogue_key=f"runs/{run_id}/dialogue.flac",
                    transcript_json=json.dumps(TRANSCRIPT),
                )
            )
    return mine, theirs


def _without_lane(app: FastAPI) -> FastAPI:
    app.user_middleware = [
        m for m in app.user_middleware if m.cls is not BulkResultsLane
    ]
    app.middleware_stack = None
    return app


@pytest.fixture(scope="module")
def clients(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[TestClient, TestClient, str]:
    """(fast lane client, plain FastAPI client, key of account 1)."""
    data_dir = tmp_path_factory.mktemp("lane")
    key, _ = _seed(data_dir)
    settings = get_settings(data_dir=data_dir, workers=0)
    lane = TestClient(create_app(settings))
    plain = TestClient(_without_lane(create_app(settings)))
    return lane, plain, key


CASES: list[tuple[Any, bool]] = [
    ({"run_ids": [2, 1]}, True),
    ({"run_ids": [1, 2, 3, 4, 5]}, True),
    ({"run_ids": [1, 99]}, True),
    ({"run_ids": [1]}, True),
    ({"run_ids": [1, 1]}, True),
    ({"run_ids": [1, 2, 3, 4, 5, 6]}, True),
    ({"run_ids": [0, -1]}, True),
    ({"run_ids": ["1", 2]}, True),
    ({"run_ids": [1, 2]}, False),  # no API key
]


@pytest.mark.parametrize(("body", "with_key"), CASES)
def test_fast_lane_and_fastapi_route_give_the_same_answer(
    clients: tuple[TestClient, TestClient, str], body: Any, with_key: bool
) -> None:
    lane, plain, key = clients
    headers = {"x-api-key": key} if with_key else {}
    fast = lane.post("/apis/stories-results", json=body, headers=headers)
    slow = plain.post("/apis/stories-results", json=body, headers=headers)
    assert fast.status_code == slow.status_code
    if fast.status_code == 422:
        assert [d["loc"] for d in fast.json()["detail"]] == [
            d["loc"] for d in slow.json()["detail"]
        ]
        assert [d["msg"] for d in fast.json()["detail"]] == [
            d["msg"] for d in slow.json()["detail"]
        ]
    else:
        assert _unsigned(fast.json()) == _unsigned(slow.json())


def _unsigned(body: Any) -> Any:
    """The body with link expiry and signature removed (they depend on the second)."""
    return json.loads(re.sub(r"&expires=\d+&signature=[\w-]+", "", json.dumps(body)))


def test_fast_lane_refuses_empty_and_malformed_bodies_with_the_list_shape(
    clients: tuple[TestClient, TestClient, str],
) -> None:
    lane, _, key = clients
    for content in (b"", b"{", b"[1, 2]", b"null"):
        response = lane.post(
            "/apis/stories-results",
            content=content,
            headers={"x-api-key": key, "content-type": "application/json"},
        )
        assert response.status_code == 422, content
        assert response.json()["detail"][0]["loc"][0] == "body"


def test_fast_lane_counts_its_requests_in_metrics(
    clients: tuple[TestClient, TestClient, str],
) -> None:
    lane, _, key = clients
    lane.post(
        "/apis/stories-results", json={"run_ids": [1, 2]}, headers={"x-api-key": key}
    )
    text = lane.get("/metrics").text
    assert 'route="/apis/stories-results",status="200"' in text
