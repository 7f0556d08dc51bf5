"""POST /apis/stories-results: the validation matrix and the published schema."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from world import World

SEED = Path("/work/shared/contract/seed-stories-results.md")
SEED_SCHEMAS = (
    "RunIDsRequestPayload",
    "BulkStoriesRunsResults",
    "StoryRunInfoResponse",
    "DialogueItem",
    "HTTPValidationError",
    "ValidationError",
)


def _post(world: World, body: Any, key: str | None = None):  # type: ignore[no-untyped-def]
    return world.client.post(
        "/apis/stories-results", json=body, headers={"x-api-key": key or world.key_a}
    )


def _detail(response) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    for item in detail:
        assert set(item) == {"loc", "msg", "type"}
        assert isinstance(item["msg"], str) and isinstance(item["type"], str)
    return list(detail)


def test_bulk_results_returns_runs_keyed_in_request_order(world: World) -> None:
    first, second = world.runs_a
    response = _post(world, {"run_ids": [second, first]})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [str(second), str(first)]
    for value in body.values():
        assert set(value) == {"audio_url", "dialogue_url", "transcript"}
        assert value["audio_url"].startswith(world.server.url + "/apis/files/")
        assert value["transcript"] and set(value["transcript"][0]) == {
            "start",
            "end",
            "text",
            "speaker",
        }


@pytest.mark.parametrize(
    ("run_ids", "bad_index"),
    [
        ([7], None),  # one id
        ([1, 2, 3, 4, 5, 6], None),  # six ids
        ([0, 1], 0),
        ([-3, 1], 0),
        (["a", 1], 0),
        (["1", 1], 0),  # strings are not ids, even numeric ones
        ([True, 1], 0),
        ([1.5, 1], 0),
    ],
)
def test_bulk_results_rejects_malformed_ids(
    world: World, run_ids: list[Any], bad_index: int | None
) -> None:
    detail = _detail(_post(world, {"run_ids": run_ids}))
    if bad_index is None:
        assert detail[0]["loc"] == ["body", "run_ids"]
    else:
        assert detail[0]["loc"] == ["body", "run_ids", bad_index]


def test_bulk_results_rejects_duplicate_ids(world: World) -> None:
    run = world.runs_a[0]
    detail = _detail(_post(world, {"run_ids": [run, run]}))
    assert detail[0]["loc"] == ["body", "run_ids"]
    assert "unique" in detail[0]["msg"]


@pytest.mark.parametrize("body", [{}, {"run_ids": "1,2"}, [1, 2], None])
def test_bulk_results_rejects_bodies_without_an_id_list(
    world: World, body: Any
) -> None:
    _detail(_post(world, body))


def test_bulk_results_rejects_malformed_json_with_the_list_shape(world: World) -> None:
    response = world.client.post(
        "/apis/stories-results",
        content=b'{"run_ids": [1,',
        headers={"x-api-key": world.key_a, "content-type": "application/json"},
    )
    _detail(response)


def test_bulk_results_names_each_unknown_id(world: World) -> None:
    finished = world.runs_a[0]
    detail = _detail(_post(world, {"run_ids": [finished, 999_999, 2**70]}))
    assert [d["loc"] for d in detail] == [
        ["body", "run_ids", 1],
        ["body", "run_ids", 2],
    ]
    assert "999999 does not exist" in detail[0]["msg"]


def test_bulk_results_treats_another_accounts_run_as_unknown(world: World) -> None:
    mine = _detail(_post(world, {"run_ids": [world.runs_a[0], world.run_b]}))
    unknown = _detail(_post(world, {"run_ids": [world.runs_a[0], 999_998]}))
    assert mine[0]["loc"] == ["body", "run_ids", 1]
    assert mine[0]["msg"] == unknown[0]["msg"].replace("999998", str(world.run_b))


def test_bulk_results_refuses_unfinished_runs(world: World) -> None:
    detail = _detail(_post(world, {"run_ids": [world.pending_a, world.runs_a[1]]}))
    assert detail == [
        {
            "loc": ["body", "run_ids", 0],
            "msg": f"run {world.pending_a} is not finished yet (status PENDING); "
            "poll its task first",
            "type": "value_error",
        }
    ]


def test_bulk_results_requires_an_api_key(world: World) -> None:
    response = world.client.post("/apis/stories-results", json={"run_ids": [1, 2]})
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


def _seed_components() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    if not SEED.exists():
        pytest.skip(f"{SEED} is not available")
    match = re.search(r"````yaml[^\n]*\n(.*?)````", SEED.read_text(), re.S)
    assert match, "the seed page has no YAML block"
    return dict(yaml.safe_load(match.group(1))["components"])


def test_bulk_results_openapi_components_equal_the_seed(world: World) -> None:
    seed = _seed_components()
    ours = world.client.get("/openapi.json").json()
    for name in SEED_SCHEMAS:
        assert ours["components"]["schemas"][name] == seed["schemas"][name], name

    operation = ours["paths"]["/apis/stories-results"]["post"]
    assert operation["operationId"] == "get_stories_runs_results_stories_results_post"
    assert operation["security"] == [{"APIKeyHeader": []}]
    assert ours["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "x-api-key"
