"""Downloads of a run's files through signed links (no API key needed)."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, RedirectResponse, Response

from talecast.api.deps import State
from talecast.api.routes_exports import content_type, stored_files
from talecast.api.state import FinishedRun, RunState
from talecast.db import StoryStatus
from talecast.errors import LinkError

logger = logging.getLogger(__name__)

router = APIRouter(tags=["Files"])


@router.api_route(
    "/files/{run_id}/{name:path}",
    methods=["HEAD"],
    include_in_schema=False,
)
@router.api_route(
    "/files/{run_id}/{name:path}",
    methods=["GET"],
    summary="Download Story File",
    response_class=FileResponse,
    responses={200: {"content": {"audio/flac": {}}}, 206: {"description": "A range"}},
)
async def download(
    run_id: str,
    name: str,
    state: State,
    account: Annotated[str, Query()] = "",
    expires: Annotated[str, Query()] = "",
    signature: Annotated[str, Query()] = "",
) -> Response:
    """A run's file (the narration or dialogue track as FLAC, or any file
    ``/story-result/{run_id}/files`` lists) through the signed link a response gave.
    Supports HTTP range requests. 403 once the link expired or if any part of it was
    changed."""
    if not all(_is_number(part) for part in (run_id, account, expires)):
        raise LinkError(
            "this file link is not valid (it was altered or truncated); "
            "fetch the run's result again for fresh links"
        )
    state.signer.verify(int(run_id), name, int(account), int(expires), signature)
    run = state.lookup_runs(int(account), [int(run_id)]).get(int(run_id))
    if not isinstance(run, FinishedRun) and not (
        isinstance(run, RunState) and run.status == StoryStatus.SETUP.value
    ):
        raise LinkError("the file behind this link no longer exists")

    key = _storage_key(state, run, name)
    if key is None:
        raise LinkError(f"run {int(run_id)} has no file named {name!r}")
    path = state.storage.local_path(key)
    presign = getattr(state.storage, "presigned_url", None)
    if path is None and presign is not None:
        # Object storage serves the bytes (with ranges) itself, for the link's lifetime.
        remaining_s = max(60, int(expires) - int(time.time()))
        return RedirectResponse(presign(key, remaining_s), status_code=307)
    if path is None or not path.is_file():
        raise LinkError("the file behind this link no longer exists")
    return FileResponse(
        path,
        media_type=content_type(name),
        filename=f"{int(run_id)}-{name.replace('/', '-')}",
        content_disposition_type="inline",
    )


def _storage_key(state: State, run: FinishedRun | RunState, name: str) -> str | None:
    if isinstance(run, FinishedRun) and name == "narration.flac":
        return run.narration_key
    if isinstance(run, FinishedRun) and name == "dialogue.flac":
        return run.dialogue_key
    for stored in stored_files(state, run):
        if stored.name == name:
            return stored.key
    return None


def _is_number(text: str) -> bool:
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()
