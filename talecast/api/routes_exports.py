"""A finished run's deliverables beyond Camb's: every stored file, and its chapters.

``GET /story-result/{run_id}/files`` lists each file the run stored (narration and
dialogue, transcripts, timed text, word timings, exports, stems, mastering report)
with a signed link; ``GET /story-result/{run_id}/chapters`` gives the chapter list.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from talecast.api.deps import AccountId, BaseUrl, State
from talecast.api.state import (
    AppState,
    FinishedRun,
    RunState,
    finished_run,
    run_with_files,
)
from talecast.db import Story

logger = logging.getLogger(__name__)

router = APIRouter(tags=["Deliverables"])

CONTENT_TYPES = {
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".m4b": "audio/mp4",
    ".opus": "audio/ogg",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json",
    ".epub": "application/epub+zip",
}


class FileOut(BaseModel):
    """One stored file of a run."""

    name: str = Field(description="e.g. narration.mp3, transcript.vtt, stems/Mary.flac")
    size: int = Field(description="bytes")
    content_type: str
    url: str = Field(description="signed link, valid for 24 hours")


class FilesOut(BaseModel):
    """Every stored file of a run."""

    files: list[FileOut]


class ChapterOut(BaseModel):
    """A chapter of the narration; times in seconds from its start."""

    model_config = {"extra": "allow"}

    title: str | None = None
    start: float
    end: float


@dataclass(frozen=True)
class StoredFile:
    """A file a run stored: its name in the run and its storage key."""

    name: str
    key: str
    size: int


def content_type(name: str) -> str:
    """The media type a run file is served with, from its extension."""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


@router.get(
    "/story-result/{run_id}/files",
    response_model=FilesOut,
    summary="List Story Run Files",
)
def list_run_files(
    run_id: int, account: AccountId, state: State, base: BaseUrl
) -> dict[str, Any]:
    """Every file a finished run stored, each with its size, media type and a signed
    link valid for 24 hours: narration and dialogue (FLAC), ``transcript.json``,
    ``transcript.vtt`` (``<v Speaker>`` spans), ``transcript.srt``, ``words.json``,
    ``chapters.json``, ``cast.json``, ``review.json``, ``report.json`` and the exports
    asked for with ``export_formats`` (``narration.mp3``, ``narration.m4b``,
    ``narration.opus``, ``stems/*.flac``, ``acx/*.mp3``). A run set up for editing
    lists its ``script.json``, ``cast.json`` and ``review.json``."""
    run = run_with_files(state, account, run_id)
    now = int(time.time())
    files = [
        {
            "name": stored.name,
            "size": stored.size,
            "content_type": content_type(stored.name),
            "url": state.signer.link(base, run_id, stored.name, account, now),
        }
        for stored in stored_files(state, run)
    ]
    return {"files": files}


@router.get(
    "/story-result/{run_id}/chapters",
    response_model=list[ChapterOut],
    summary="Get Story Run Chapters",
)
def get_run_chapters(
    run_id: int, account: AccountId, state: State
) -> list[dict[str, Any]]:
    """The chapters of a finished run, in order: title, ``start`` and ``end`` in
    seconds of the narration. Transcript items belong to the chapter whose span holds
    their start."""
    finished_run(state, account, run_id)
    with state.engine.connect() as conn:
        raw = conn.execute(
            select(Story.chapters_json).where(Story.run_id == run_id)
        ).scalar_one()
    chapters: list[dict[str, Any]] = json.loads(raw or "[]")
    return chapters


def stored_files(state: AppState, run: FinishedRun | RunState) -> list[StoredFile]:
    """The files ``run`` stored, in the order the worker stored them.

    Runs finished before file listings were recorded offer their two FLAC tracks.
    """
    with state.engine.connect() as conn:
        raw = conn.execute(
            select(Story.files_json).where(Story.run_id == run.run_id)
        ).scalar_one_or_none()
    if raw:
        return [
            StoredFile(item["name"], f"runs/{run.run_id}/{item['name']}", item["size"])
            for item in json.loads(raw)
        ]
    if not isinstance(run, FinishedRun):
        return []
    tracks = {"narration.flac": run.narration_key, "dialogue.flac": run.dialogue_key}
    return [
        StoredFile(name, key, state.storage.size(key)) for name, key in tracks.items()
    ]
