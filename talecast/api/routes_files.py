"""Downloads of rendered audio through signed links (no API key needed)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from talecast.api.deps import State
from talecast.api.state import FinishedRun
from talecast.errors import LinkError

logger = logging.getLogger(__name__)

router = APIRouter(tags=["Files"])


@router.api_route(
    "/files/{run_id}/{name}",
    methods=["HEAD"],
    include_in_schema=False,
)
@router.api_route(
    "/files/{run_id}/{name}",
    methods=["GET"],
    summary="Download Story Audio",
    response_class=FileResponse,
    responses={200: {"content": {"audio/flac": {}}}, 206: {"description": "A range"}},
)
async def download(
    run_id: int,
    name: str,
    state: State,
    account: Annotated[int, Query()],
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=128)],
) -> FileResponse:
    """A run's narration or dialogue track as FLAC, through the signed link a result
    response gave. Supports HTTP range requests. 403 once the link expired."""
    state.signer.verify(run_id, name, account, expires, signature)
    run = state.lookup_runs(account, [run_id]).get(run_id)
    if not isinstance(run, FinishedRun):
        raise LinkError("the file behind this link no longer exists")

    key = run.narration_key if name == "narration.flac" else run.dialogue_key
    path = state.storage.local_path(key)
    # TODO(#4): redirect to the storage back end's own URL when files are not local.
    if path is None or not path.is_file():
        raise LinkError("the file behind this link no longer exists")
    return FileResponse(path, media_type="audio/flac", filename=f"{run_id}-{name}",
                        content_disposition_type="inline")
