"""Another account's task, run and links behave exactly like unknown ones."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from world import World


def _get(world: World, path: str, key: str):  # type: ignore[no-untyped-def]
    return world.client.get(path, headers={"x-api-key": key})


def test_status_of_another_accounts_task_is_404_like_an_unknown_task(
    world: World,
) -> None:
    theirs = _get(world, f"/apis/story/{world.task_b}", world.key_a)
    unknown = _get(world, "/apis/story/0123456789abcdef0123456789abcdef", world.key_a)
    assert theirs.status_code == unknown.status_code == 404
    assert _get(world, f"/apis/story/{world.task_b}", world.key_b).status_code == 200
    assert theirs.json()["detail"].replace(world.task_b, "X") == unknown.json()[
        "detail"
    ].replace("0123456789abcdef0123456789abcdef", "X")


def test_result_of_another_accounts_run_is_404_like_an_unknown_run(
    world: World,
) -> None:
    theirs = _get(world, f"/apis/story-result/{world.run_b}", world.key_a)
    unknown = _get(world, "/apis/story-result/987654", world.key_a)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["detail"] == f"no story run with id {world.run_b}"
    assert (
        _get(world, f"/apis/story-result/{world.run_b}", world.key_b).status_code == 200
    )


def test_bulk_with_only_another_accounts_runs_is_refused(world: World) -> None:
    response = world.client.post(
        "/apis/stories-results",
        json={"run_ids": world.runs_a},
        headers={"x-api-key": world.key_b},
    )
    assert response.status_code == 422
    assert [d["loc"][-1] for d in response.json()["detail"]] == [0, 1]


def test_link_rewritten_to_another_account_or_run_is_refused(world: World) -> None:
    own = _get(world, f"/apis/story-result/{world.run_b}", world.key_b).json()[
        "audio_url"
    ]
    parts = urlsplit(own)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert world.client.get(own).status_code == 200

    as_other_account = {**query, "account": "1"}
    other_run = parts.path.replace(f"/{world.run_b}/", f"/{world.runs_a[0]}/")
    for path, params in ((parts.path, as_other_account), (other_run, query)):
        response = world.client.get(f"{path}?{urlencode(params)}")
        assert response.status_code == 403
        assert "not valid" in response.json()["detail"]
