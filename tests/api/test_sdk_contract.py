"""The official camb-sdk parses every answer Talecast gives, errors included."""

from __future__ import annotations

import pytest
from camb import CambAI
from camb.core.api_error import ApiError
from camb.errors import UnprocessableEntityError
from world import World


@pytest.fixture
def sdk(world: World) -> CambAI:
    """A camb-sdk client for account A that does not retry."""
    return CambAI(api_key=world.key_a, base_url=world.server.api, timeout=30)


NO_RETRY = {"max_retries": 0}


def test_sdk_reads_voices_and_languages(sdk: CambAI) -> None:
    voices = sdk.voice_cloning.list_voices()
    assert voices and all(_field(v, "voice_name") for v in voices)
    languages = sdk.languages.get_source_languages()
    assert [lang.short_name for lang in languages][0] == "en-us"
    assert sdk.languages.get_target_languages()


def test_sdk_surfaces_bulk_validation_items(sdk: CambAI, world: World) -> None:
    with pytest.raises(UnprocessableEntityError) as caught:
        sdk.story.get_stories_runs_results(
            run_ids=[world.runs_a[0], world.pending_a], request_options=NO_RETRY
        )
    detail = caught.value.body.detail
    assert [(d.loc, d.type) for d in detail] == [
        (["body", "run_ids", 1], "value_error")
    ]


def test_sdk_surfaces_unknown_task_as_404(sdk: CambAI) -> None:
    with pytest.raises(ApiError) as caught:
        sdk.story.get_story_status(
            "ffffffffffffffffffffffffffffffff", request_options=NO_RETRY
        )
    assert caught.value.status_code == 404


def test_sdk_sees_pending_with_progress_and_stage(sdk: CambAI, world: World) -> None:
    status = sdk.story.get_story_status(world.pending_task_a, run_id=5)
    assert status.status == "PENDING"
    assert status.progress == 0.0 and status.stage == "queued"
    assert status.run_id is None


def test_sdk_upload_with_a_bad_voice_gets_a_field_error(sdk: CambAI) -> None:
    with pytest.raises(UnprocessableEntityError) as caught:
        sdk.story.create_story(
            file=b"A tale of two owls.",
            source_language=1,
            narrator_voice_id=424242,
            request_options=NO_RETRY,
        )
    assert caught.value.body.detail[0].loc == ["body", "narrator_voice_id"]


def _field(item: object, name: str) -> object:
    return item[name] if isinstance(item, dict) else getattr(item, name)
