"""``POST /story-setup``: prepare a story for editing without rendering it.

The upload is checked and stored as for ``POST /story``; then the story is read,
attributed and cast at once, and its ``script.json``, ``cast.json`` and ``review.json``
are stored. The run waits, status ``setup``, until
``POST /story-result/{run_id}/corrections`` renders it (with corrections, or an empty
object to render it as it is).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from types import SimpleNamespace

from fastapi import APIRouter
from sqlalchemy import insert, update

from talecast.api.deps import BaseUrl, State
from talecast.api.schemas import SetupStoryOut, StoryDetailsOut
from talecast.api.upload import Upload
from talecast.db import Story, StoryStatus
from talecast.errors import TalecastError

logger = logging.getLogger(__name__)

router = APIRouter()


@router.post(
    "/story-setup",
    response_model=SetupStoryOut,
    summary="Create Story Setup",
    tags=["Stories"],
)
def setup_story(upload: Upload, state: State, base: BaseUrl) -> SetupStoryOut:
    """Upload a story and prepare it for editing: its lines are attributed and its
    cast chosen now, nothing is rendered. Returns the ``run_id``; its files
    (``GET /story-result/{run_id}/files``) are ``script.json`` (every line with its
    ``start_char``, speaker, voice and confidence), ``cast.json`` and ``review.json``.
    Render it with ``POST /story-result/{run_id}/corrections``."""
    from talecast.jobs.worker import render_options
    from talecast.pipeline.reading import read_story
    from talecast.pipeline.render import plan_story, setup_files

    values = upload.values
    with state.engine.begin() as conn:
        run_id = conn.execute(
            insert(Story)
            .values(status=StoryStatus.SETUP.value, stage="planning", **values)
            .returning(Story.run_id)
        ).scalar_one()
    try:
        plan = plan_story(
            read_story(upload.data),
            # The options a worker would render this row with (no corrections yet).
            render_options(
                SimpleNamespace(**{"corrections_json": None, **values}), state.settings
            ),
        )
        stored = []
        for name, payload in setup_files(plan).items():
            data = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")
            state.storage.put_bytes(f"runs/{run_id}/{name}", data)
            stored.append({"name": name, "size": len(data)})
    except TalecastError as exc:
        _end_as_error(state, run_id, exc)
        raise
    with state.engine.begin() as conn:
        conn.execute(
            update(Story)
            .where(Story.run_id == run_id)
            .values(stage="set up", files_json=json.dumps(stored))
        )
    logger.info(
        "story run %s: set up (%d lines, %d speakers)",
        run_id,
        len(plan.lines),
        len(plan.cast),
        extra={"run_id": run_id, "account_id": values["account_id"]},
    )
    created = datetime.fromtimestamp(values["created_at"], UTC)
    return SetupStoryOut(
        run_id=run_id,
        story_details=StoryDetailsOut(
            story_title=values["title"] or plan.meta.get("title") or "Untitled story",
            story_description=values["description"],
            created_at=created.isoformat().replace("+00:00", "Z"),
            source_language=values["source_language"],
            target_languages=[values["source_language"]],
            folder_id=values["folder_id"],
            studio_url=f"{base}/apis/story-result/{run_id}/files",
        ),
        cast={name: entry.voice_id for name, entry in plan.cast.items()},
        lines=len(plan.lines),
    )


def _end_as_error(state: State, run_id: int, exc: TalecastError) -> None:
    with state.engine.begin() as conn:
        conn.execute(
            update(Story)
            .where(Story.run_id == run_id)
            .values(
                status=StoryStatus.ERROR.value,
                stage="error",
                exception_reason=exc.reason,
                message=str(exc),
            )
        )
