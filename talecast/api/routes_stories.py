"""Story endpoints: create, poll, fetch one result, fetch results in bulk."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select

from talecast.api.deps import AccountId, BaseUrl, State
from talecast.api.errors import FieldError
from talecast.api.schemas import (
    BulkStoriesRunsResults,
    RunIDsRequestPayload,
    StoryRunOut,
    StoryStatusOut,
)
from talecast.api.state import (
    MAX_DB_INT,
    PUBLIC_STATUS,
    AppState,
    FinishedRun,
    RunState,
    finished_run,
    setup_not_rendered,
)
from talecast.api.upload import router as upload_router
from talecast.db import Story, StoryStatus
from talecast.errors import NotFoundError

logger = logging.getLogger(__name__)

router = APIRouter()

SSE_POLL_S = 0.5  # how often a progress stream looks at the task
SSE_KEEPALIVE_S = 15.0
router.include_router(upload_router)


@router.get(
    "/story/{task_id}",
    response_model=StoryStatusOut,
    tags=["Stories"],
    summary="Get Story Status",
)
def get_story_status(task_id: str, account: AccountId, state: State) -> StoryStatusOut:
    """The state of a story task: PENDING (with progress 0-100 and the current stage),
    SUCCESS with the ``run_id`` to fetch results with, or ERROR or TIMEOUT (the render
    ran past its time limit or stopped progressing) with a reason and a message."""
    return story_status(state, account, task_id)


@router.get(
    "/story/{task_id}/events",
    tags=["Stories"],
    summary="Stream Story Progress",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_story_status(
    task_id: str, account: AccountId, state: State, request: Request
) -> StreamingResponse:
    """Server-sent events: a ``status`` event (the body of ``GET /story/{task_id}``)
    now and whenever the progress, stage or status changes, until the task ends;
    the stream then closes. A comment line every 15 s keeps proxies from closing it."""
    first = await run_in_threadpool(story_status, state, account, task_id)

    async def events() -> AsyncIterator[bytes]:
        last: StoryStatusOut | None = None
        current = first
        quiet_since = time.monotonic()
        while True:
            if current != last:
                yield f"event: status\ndata: {current.model_dump_json()}\n\n".encode()
                last, quiet_since = current, time.monotonic()
                if current.status != "PENDING":
                    return
            elif time.monotonic() - quiet_since > SSE_KEEPALIVE_S:
                yield b": still pending\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(SSE_POLL_S)
            if await request.is_disconnected():
                return
            current = await run_in_threadpool(story_status, state, account, task_id)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/story-runs",
    response_model=list[StoryRunOut],
    tags=["Stories"],
    summary="List Story Runs",
)
def list_story_runs(
    account: AccountId,
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[StoryRunOut]:
    """The caller's story runs, newest first: ids, title, status (``SETUP`` for a run
    set up for editing and not rendered), progress and the run a correction was of."""
    with state.engine.connect() as conn:
        rows = conn.execute(
            select(
                Story.run_id,
                Story.task_id,
                Story.title,
                Story.upload_name,
                Story.status,
                Story.stage,
                Story.progress,
                Story.created_at,
                Story.corrects_run_id,
            )
            .where(Story.account_id == account)
            .order_by(Story.run_id.desc())
            .limit(limit)
        ).all()
    return [
        StoryRunOut(
            run_id=row.run_id,
            task_id=row.task_id,
            title=row.title or row.upload_name,
            status="SETUP"
            if row.status == StoryStatus.SETUP.value
            else PUBLIC_STATUS[row.status],
            stage=row.stage,
            progress=round(row.progress, 1),
            created_at=row.created_at,
            corrects_run_id=row.corrects_run_id,
        )
        for row in rows
    ]


def story_status(state: AppState, account: int, task_id: str) -> StoryStatusOut:
    """What ``GET /story/{task_id}`` answers; NotFoundError for another's task."""
    with state.engine.connect() as conn:
        row = conn.execute(
            select(
                Story.run_id,
                Story.status,
                Story.progress,
                Story.stage,
                Story.exception_reason,
                Story.message,
            ).where(Story.task_id == task_id[:64], Story.account_id == account)
        ).first()
    if row is None:
        raise NotFoundError(f"no story task with id {task_id!r}")

    out = StoryStatusOut(
        status=PUBLIC_STATUS[row.status],
        progress=round(row.progress, 1),
        stage=row.stage,
    )
    if row.status == StoryStatus.SUCCESS.value:
        out.run_id = row.run_id
    if row.status in (StoryStatus.ERROR.value, StoryStatus.TIMEOUT.value):
        out.exception_reason = row.exception_reason
        out.message = row.message
    return out


@router.get(
    "/story-result/{run_id}",
    summary="Get Story Run Info",
    tags=["Stories"],
    response_model=dict[str, object],
)
async def get_story_run_info(
    run_id: int,
    account: AccountId,
    state: State,
    base: BaseUrl,
    include_transcript: Annotated[bool, Query()] = False,
) -> Response:
    """Links to the narration (``audio_url``) and the dialogue-only track
    (``dialogue_url``), valid for 24 hours, and the transcript when
    ``include_transcript=true``."""
    run = finished_run(state, account, run_id)
    body = result_json(state, base, run, time.time(), include_transcript)
    return Response(body.encode("utf-8"), media_type="application/json")


@router.post(
    "/stories-results",
    tags=["APIs", "Stories"],
    summary="Get Stories Runs Results in Bulk",
    operation_id="get_stories_runs_results_stories_results_post",
    response_model=BulkStoriesRunsResults,
)
async def get_stories_runs_results(
    payload: RunIDsRequestPayload, account: AccountId, state: State, base: BaseUrl
) -> Response:
    """Results of 2 to 5 finished story runs, keyed by run id in request order.
    If any id is unknown or not finished, the whole request fails with 422 and one
    item per offending id."""
    # Served by talecast.api.fastlane in the running app; kept as the documented route.
    body = bulk_results_body(state, account, payload.run_ids, base)
    return Response(body, media_type="application/json")


def bulk_results_body(
    state: AppState, account: int, run_ids: list[int], base: str
) -> bytes:
    """The JSON of a bulk-results answer; FieldError naming each unusable id."""
    runs = state.lookup_runs(account, run_ids)
    problems = [
        (("body", "run_ids", index), _why_unusable(run_id, runs.get(run_id)))
        for index, run_id in enumerate(run_ids)
        if not isinstance(runs.get(run_id), FinishedRun)
    ]
    if problems:
        raise FieldError(problems)

    now = time.time()
    parts = [
        f'"{run_id}":{result_json(state, base, runs[run_id], now, True)}'  # type: ignore[arg-type]
        for run_id in run_ids
    ]
    return ("{" + ",".join(parts) + "}").encode("utf-8")


def result_json(
    state: AppState, base: str, run: FinishedRun, now: float, include_transcript: bool
) -> str:
    """One run's result object with freshly signed links, as JSON text.

    Links are exact to the second, so a result built in the same second for the same
    host is identical; those are reused instead of rebuilt.
    """
    second = int(now)
    key = (run.run_id, run.account_id, base, include_transcript)
    fragments = state.fragments
    if fragments.second != second:
        fragments.reset(second)
    body = fragments.items.get(key)
    if body is None:
        sign = state.signer.link
        audio = sign(base, run.run_id, "narration.flac", run.account_id, second)
        dialogue = sign(base, run.run_id, "dialogue.flac", run.account_id, second)
        body = (
            f'{{"audio_url":{json.dumps(audio)},"dialogue_url":{json.dumps(dialogue)}'
        )
        if include_transcript:
            body += f',"transcript":{run.transcript_json}'
        body += "}"
        fragments.items[key] = body
    return body


def _why_unusable(run_id: int, run: FinishedRun | RunState | None) -> str:
    if run is None or run_id > MAX_DB_INT:
        return f"run {run_id} does not exist"
    assert isinstance(run, RunState)
    if run.status == StoryStatus.ERROR.value:
        return f"run {run_id} failed and has no result"
    if run.status == StoryStatus.TIMEOUT.value:
        return f"run {run_id} timed out and has no result"
    if run.status == StoryStatus.SETUP.value:
        return setup_not_rendered(run_id)
    return f"run {run_id} is not finished yet (status PENDING); poll its task first"
