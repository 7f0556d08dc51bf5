"""``POST /story``: check an uploaded story, store it and queue it for rendering.

The upload is read with a size cap (413 past it), its fields are checked against the
catalogue (422 naming the field), and the file is decoded once to catch unreadable
content early (422 on ``file``). Attribution and synthesis happen later in a worker.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, File, Form, UploadFile
from sqlalchemy import func, insert, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from talecast.api.catalogue import language_ids
from talecast.api.deps import AccountId, State
from talecast.api.errors import FieldError, field_error
from talecast.api.schemas import CreateStoryOut
from talecast.api.state import cast_voices, run_with_files
from talecast.db import Story
from talecast.db.models import ACTIVE_STATUSES
from talecast.dictionaries import merged_replacements
from talecast.errors import (
    ExportError,
    QuotaError,
    StoryInputError,
    StoryTooLargeError,
    TalecastError,
    VoiceError,
)
from talecast.jobs.notify import is_private_host

logger = logging.getLogger(__name__)

router = APIRouter()

FORM_SLACK_BYTES = 64 * 1024  # room for the form fields around the file
MAX_ID = 2**31 - 1
UPLOAD_PATHS = frozenset({"/apis/story", "/apis/story-setup"})
MAX_BODY_BYTES = 16 * 2**20  # any other request body
EXPORT_FORMATS_HELP = (
    "Extra files to make, as a comma list of mp3, m4b, opus, vtt, srt, words, stems, "
    "qa (a listening check with offline speech recognition), epub (a read-along EPUB 3 "
    "with Media Overlays); WebVTT, SRT and word timings are always made"
)
MASTER_HELP = "Mastering profile for the exported audio: acx, podcast or r128"
DROP_TAGS_HELP = (
    'Full-cast mode: leave out narration that only says who speaks ("said Tom."), '
    "since each character has a voice of their own; dropped_tags.json lists them"
)
CALLBACK_HELP = (
    "An http(s) URL that is sent the task's final status (the body of GET "
    "/story/{task_id} plus task_id) as a signed JSON POST when the task ends"
)
CAST_FROM_HELP = (
    "A run of yours (an earlier book of a series) whose characters keep their voices "
    "wherever this story has a character of the same name"
)


@dataclass
class StoryUpload:
    """The form of ``POST /story`` and ``POST /story-setup``, checked and stored."""

    task_id: str
    data: bytes
    values: dict[str, Any]  # the story row's columns


def story_upload(
    account: AccountId,
    state: State,
    file: Annotated[
        UploadFile,
        File(description="The story: text, Markdown, HTML, DOCX, EPUB or PDF"),
    ],
    source_language: Annotated[
        int, Form(ge=0, le=MAX_ID, description="Language id of the story")
    ],
    title: Annotated[str | None, Form(min_length=3, max_length=255)] = None,
    description: Annotated[str | None, Form(min_length=3, max_length=5000)] = None,
    narrator_voice_id: Annotated[int | None, Form(ge=0, le=MAX_ID)] = None,
    folder_id: Annotated[int | None, Form(ge=0, le=MAX_ID)] = None,
    chosen_dictionaries: Annotated[list[str] | None, Form()] = None,
    export_formats: Annotated[
        str | None, Form(max_length=200, description=EXPORT_FORMATS_HELP)
    ] = None,
    master: Annotated[str | None, Form(max_length=32, description=MASTER_HELP)] = None,
    cast_from_run_id: Annotated[
        int | None, Form(ge=1, le=MAX_ID, description=CAST_FROM_HELP)
    ] = None,
    callback_url: Annotated[
        str | None, Form(max_length=2000, description=CALLBACK_HELP)
    ] = None,
    drop_tags: Annotated[bool, Form(description=DROP_TAGS_HELP)] = False,
) -> StoryUpload:
    """Check every field and the file's content, then store the file."""
    _check_fields(source_language, narrator_voice_id)
    callback = _check_callback(callback_url, state.settings.private_callbacks)
    keep_voices = _voices_from_run(state, account, cast_from_run_id, narrator_voice_id)
    replacements = _chosen_replacements(state, account, chosen_dictionaries or [])
    formats, profile = _check_deliverables(export_formats, master)
    data = _read_capped(file, state.settings.max_upload_bytes)
    _check_readable(data)
    check_quota(state, account)

    task_id = secrets.token_hex(16)
    upload_key = f"uploads/{task_id}"
    state.storage.put_bytes(upload_key, data)
    values = {
        "task_id": task_id,
        "account_id": account,
        "progress": 0.0,
        "title": title,
        "description": description,
        "source_language": source_language,
        "narrator_voice_id": narrator_voice_id,
        "folder_id": folder_id,
        "upload_key": upload_key,
        "upload_name": (file.filename or "")[:255] or None,
        "upload_bytes": len(data),
        "replacements_json": replacements,
        "export_formats": formats,
        "master": profile,
        "keep_voices_json": json.dumps(keep_voices, ensure_ascii=False)
        if keep_voices
        else None,
        "callback_url": callback,
        "drop_tags": drop_tags,
        "created_at": time.time(),
        "attempts": 0,
    }
    return StoryUpload(task_id, data, values)


Upload = Annotated[StoryUpload, Depends(story_upload)]


@router.post(
    "/story", response_model=CreateStoryOut, summary="Create Story", tags=["Stories"]
)
def create_story(upload: Upload, state: State) -> CreateStoryOut:
    """Upload a story file to be narrated. Returns the ``task_id`` to poll with
    ``GET /story/{task_id}``; rendering happens in the background.
    ``chosen_dictionaries`` (ids from ``GET /dictionaries``) change how words are
    spoken; ``export_formats`` and ``master`` ask for extra files, listed by
    ``GET /story-result/{run_id}/files``."""
    with state.engine.begin() as conn:
        run_id = conn.execute(
            insert(Story)
            .values(status="queued", stage="queued", **upload.values)
            .returning(Story.run_id)
        ).scalar_one()
    state.queue.submit(upload.task_id)
    logger.info(
        "story run %s: queued (%d bytes)",
        run_id,
        len(upload.data),
        extra={
            "run_id": run_id,
            "task_id": upload.task_id,
            "account_id": upload.values["account_id"],
        },
    )
    return CreateStoryOut(task_id=upload.task_id)


def _check_fields(source_language: int, narrator_voice_id: int | None) -> None:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    allowed = sorted(language_ids())
    if source_language not in allowed:
        problems.append(
            (
                ("body", "source_language"),
                f"unknown or unsupported source_language {source_language}; "
                f"supported ids: {', '.join(map(str, allowed))} "
                "(GET /apis/source-languages)",
            )
        )
    if narrator_voice_id is not None:
        from talecast.pipeline.voices import get_voice

        try:
            get_voice(narrator_voice_id)
        except VoiceError as exc:
            problems.append((("body", "narrator_voice_id"), str(exc)))
    if problems:
        raise FieldError(problems)


def _check_callback(url: str | None, private_ok: bool) -> str | None:
    if url is None or not url.strip():
        return None
    loc: tuple[str | int, ...] = ("body", "callback_url")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise field_error(
            loc,
            f"callback_url must be an absolute http or https URL, not {url[:100]!r}",
        )
    if not private_ok and is_private_host(parts.hostname):
        raise field_error(
            loc,
            f"callback_url host {parts.hostname!r} is a loopback, private or "
            "link-local address, which this server does not call "
            "(TALECAST_PRIVATE_CALLBACKS)",
        )
    return url.strip()


def _voices_from_run(
    state: State, account: int, run_id: int | None, narrator_voice_id: int | None
) -> dict[str, int] | None:
    """The voices of the caller's run ``run_id`` (the narrator's only when
    ``narrator_voice_id`` does not choose one); 422 when it has no cast."""
    if run_id is None:
        return None
    loc: tuple[str | int, ...] = ("body", "cast_from_run_id")
    try:
        run_with_files(state, account, run_id)
    except TalecastError as exc:  # unknown, another account's, failed, not finished
        raise field_error(loc, str(exc)) from exc
    voices = cast_voices(state, run_id)
    if not voices:
        raise field_error(loc, f"run {run_id} has no stored cast to take voices from")
    if narrator_voice_id is not None:
        voices.pop("Narrator", None)
    return voices


def _chosen_replacements(state: State, account: int, values: list[str]) -> str | None:
    """The chosen dictionaries' merged replacements as JSON (None when none chosen).

    Accepts repeated fields or one comma list; every id must be one of the caller's
    dictionaries.
    """
    ids = [
        part.strip() for value in values for part in value.split(",") if part.strip()
    ]
    loc: tuple[str | int, ...] = ("body", "chosen_dictionaries")
    bad = [v for v in ids if not (v.isascii() and v.isdigit() and len(v) <= 18)]
    if bad:
        raise field_error(
            loc,
            f"dictionary ids must be integers, got {bad[0]!r}; send ids from "
            "GET /apis/dictionaries, e.g. 3 or '3,4'",
        )
    if not ids:
        return None
    wanted = list(dict.fromkeys(int(value) for value in ids))
    merged, missing = merged_replacements(state.engine, account, wanted)
    if missing:
        raise FieldError([(loc, f"unknown dictionary id {i}") for i in missing])
    return json.dumps(merged, ensure_ascii=False, separators=(",", ":"))


def _check_deliverables(
    export_formats: str | None, master: str | None
) -> tuple[str | None, str | None]:
    """Validated ``export_formats`` ("mp3,vtt") and ``master`` (or None each)."""
    from talecast.pipeline.export import check_formats, check_master

    problems: list[tuple[tuple[str | int, ...], str]] = []
    formats: str | None = None
    profile: str | None = None
    try:
        names = [part for part in (export_formats or "").split(",") if part.strip()]
        formats = ",".join(check_formats(names))
    except ExportError as exc:
        problems.append((("body", "export_formats"), str(exc)))
    try:
        checked = check_master(master.strip() if master else None)
        profile = checked.name if checked is not None else None
    except ExportError as exc:
        problems.append((("body", "master"), str(exc)))
    if problems:
        raise FieldError(problems)
    return formats or None, profile


def _read_capped(file: UploadFile, limit: int) -> bytes:
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise StoryTooLargeError(_too_large_message(limit))
    return data


def _too_large_message(limit: int) -> str:
    return (
        f"the upload is larger than the limit of {limit} bytes "
        f"({limit / 1_048_576:.1f} MiB, TALECAST_MAX_UPLOAD_BYTES); "
        "split the story or raise the limit"
    )


def _check_readable(data: bytes) -> None:
    from talecast.pipeline.reading import read_story

    try:
        read_story(data)  # StoryInputError -> 422 on "file", StoryTooLargeError -> 413
    except TalecastError:
        raise
    except Exception as exc:  # a reader fault on odd input is still the file's answer
        logger.warning("upload: reading the story failed unexpectedly", exc_info=True)
        raise StoryInputError(
            f"the file could not be read as a story ({type(exc).__name__}); "
            "save it as plain text, DOCX, EPUB, PDF, HTML or Markdown and upload again"
        ) from exc


def check_quota(state: State, account: int) -> None:
    """QuotaError (400) when the account has as many stories in progress as it may."""
    limit = state.settings.max_active_stories_per_account
    with state.engine.connect() as conn:
        active = conn.execute(
            select(func.count()).where(
                Story.account_id == account, Story.status.in_(ACTIVE_STATUSES)
            )
        ).scalar_one()
    if active >= limit:
        raise QuotaError(
            f"this account already has {active} stories queued or rendering, the most "
            f"it may have at once ({limit}, TALECAST_MAX_ACTIVE_STORIES_PER_ACCOUNT); "
            "submit this story again when one has finished"
        )


class UploadLimitMiddleware:
    """Refuse bodies over their size limit with 413 before parsing them.

    Story uploads (``POST /apis/story`` and ``/apis/story-setup``) may be as large as
    the upload limit plus room for the form fields; any other body (JSON corrections,
    dictionaries) at most ``MAX_BODY_BYTES``. Bodies are read into memory up to the
    limit and replayed to the app; anything longer is answered at once.
    """

    def __init__(self, app: ASGIApp, max_upload_bytes: int) -> None:
        self.app = app
        self.limit = max_upload_bytes
        self.upload_limit = max_upload_bytes + FORM_SLACK_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        if scope["path"].rstrip("/") in UPLOAD_PATHS:
            limit, message = self.upload_limit, _too_large_message(self.limit)
        else:
            limit = MAX_BODY_BYTES
            message = (
                f"the request body is over {MAX_BODY_BYTES // 2**20} MiB, the most "
                "any request but a story upload may send"
            )

        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send, message)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, message)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break

        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, message: str) -> None:
        payload = json.dumps({"detail": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
