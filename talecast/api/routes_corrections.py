"""Correcting a run's cast: who speaks a line, which voice a speaker has.

``POST /story-result/{run_id}/corrections`` on a finished run queues a new story task
that renders the same upload with the run's corrections plus the new ones, keeping every
voice the run cast unless a correction changes it. On a run set up for editing
(``POST /story-setup``) it renders that run itself, corrected. The line cache makes a
re-render cheap: only lines whose speaker or voice changed are synthesized. Offsets and
names are checked against the run's ``script.json`` before anything is queued, so a typo
is a 422, not a failed task.
"""

from __future__ import annotations

import bisect
import json
import logging
import secrets
import time
from typing import Any

from fastapi import APIRouter
from sqlalchemy import insert, select, update

from talecast.api.deps import AccountId, State
from talecast.api.errors import FieldError
from talecast.api.schemas import CorrectionsIn, CorrectionsOut, CreateStoryOut
from talecast.api.state import (
    AppState,
    RunState,
    cast_voices,
    run_with_files,
    stored_json,
)
from talecast.api.upload import check_quota
from talecast.db import Story, StoryStatus
from talecast.errors import NotFoundError, RunNotReadyError
from talecast.pipeline.corrections import Corrections, overlapped, parse_corrections
from talecast.pipeline.types import NARRATOR

logger = logging.getLogger(__name__)

router = APIRouter()

# What a corrected run copies from the run it corrects.
_COPIED = (
    "title",
    "description",
    "source_language",
    "narrator_voice_id",
    "folder_id",
    "upload_key",
    "upload_name",
    "upload_bytes",
    "replacements_json",
    "export_formats",
    "master",
    "callback_url",
    "drop_tags",
)


@router.post(
    "/story-result/{run_id}/corrections",
    response_model=CreateStoryOut,
    tags=["Stories"],
    summary="Correct Speakers and Voices",
)
def correct_run(
    run_id: int, body: CorrectionsIn, account: AccountId, state: State
) -> CreateStoryOut:
    """Re-render a finished run with speaker and voice corrections.

    ``speakers``: ``[{"start_char", "speaker"}]``, the quote starting at ``start_char``
    (from ``script.json`` of the run's files) is spoken by ``speaker``: a character of
    the story, a new name (cast a voice of its own), or ``Narrator`` (read as
    narration, off the dialogue track). ``speech``: ``[{"start_char", "end_char",
    "speaker"}]``, narration the quote finder missed is spoken by ``speaker`` (offsets
    of narration lines in ``script.json``). ``voices``: ``{"speaker": voice_id}``. The
    run's earlier corrections stay in effect and everyone keeps their voice. Returns
    the ``task_id`` of the new render; its run gets a new ``run_id``. A run set up with
    ``POST /story-setup`` is rendered itself (an empty object renders it as set up)
    and keeps its ``run_id``.
    """
    run = run_with_files(state, account, run_id)
    new = parse_corrections(body.model_dump())
    parent = _story_row(state, account, run_id)
    earlier = parse_corrections(json.loads(parent["corrections_json"] or "null"))
    script = stored_json(state, f"runs/{run_id}/script.json")
    if script is not None:
        starts = [item.start_char for item in body.speakers]
        _check_against_script(starts, new, earlier, script)
    keep_voices = cast_voices(state, run_id) or json.loads(
        parent["keep_voices_json"] or "null"
    )
    check_quota(state, account)

    merged = earlier.merged(new)
    if isinstance(run, RunState):  # set up for editing: render this run
        return _render_setup(state, run_id, merged, keep_voices)
    task_id = secrets.token_hex(16)
    with state.engine.begin() as conn:
        new_run = conn.execute(
            insert(Story)
            .values(
                task_id=task_id,
                account_id=account,
                status="queued",
                progress=0.0,
                stage="queued",
                created_at=time.time(),
                attempts=0,
                corrections_json=json.dumps(merged.to_dict(), ensure_ascii=False),
                keep_voices_json=json.dumps(keep_voices, ensure_ascii=False)
                if keep_voices
                else None,
                corrects_run_id=run_id,
                **{name: parent[name] for name in _COPIED},
            )
            .returning(Story.run_id)
        ).scalar_one()
    state.queue.submit(task_id)
    logger.info(
        "story run %s: queued as a correction of run %s (%d speakers, %d voices)",
        new_run,
        run_id,
        len(new.speakers),
        len(new.voices),
        extra={"run_id": new_run, "task_id": task_id, "account_id": account},
    )
    return CreateStoryOut(task_id=task_id)


@router.get(
    "/story-result/{run_id}/corrections",
    response_model=CorrectionsOut,
    tags=["Stories"],
    summary="Get a Run's Corrections",
)
def get_corrections(run_id: int, account: AccountId, state: State) -> CorrectionsOut:
    """The corrections a run was rendered with (empty for a run without any) and the
    run it corrected."""
    row = _story_row(state, account, run_id)
    corrections = parse_corrections(json.loads(row["corrections_json"] or "null"))
    return CorrectionsOut(
        run_id=run_id, corrects_run_id=row["corrects_run_id"], **corrections.to_dict()
    )


def _render_setup(
    state: AppState,
    run_id: int,
    corrections: Corrections,
    keep_voices: dict[str, int] | None,
) -> CreateStoryOut:
    with state.engine.begin() as conn:
        task_id = conn.execute(
            update(Story)
            .where(Story.run_id == run_id, Story.status == StoryStatus.SETUP.value)
            .values(
                status=StoryStatus.QUEUED.value,
                stage="queued",
                corrections_json=json.dumps(corrections.to_dict(), ensure_ascii=False),
                keep_voices_json=json.dumps(keep_voices, ensure_ascii=False)
                if keep_voices
                else None,
            )
            .returning(Story.task_id)
        ).scalar_one_or_none()
    if task_id is None:  # a concurrent request queued it first
        raise RunNotReadyError(
            f"run {run_id} is already being rendered; poll its task instead"
        )
    state.queue.submit(task_id)
    logger.info("story run %s: set-up run queued for rendering", run_id)
    return CreateStoryOut(task_id=task_id)


def _story_row(state: AppState, account: int, run_id: int) -> dict[str, Any]:
    columns = [getattr(Story, name) for name in _COPIED]
    with state.engine.connect() as conn:
        row = conn.execute(
            select(
                *columns,
                Story.corrections_json,
                Story.keep_voices_json,
                Story.corrects_run_id,
            ).where(Story.run_id == run_id, Story.account_id == account)
        ).first()
    if row is None:
        raise NotFoundError(f"no story run with id {run_id}")
    return dict(row._mapping)


def _check_against_script(
    starts: list[int],
    new: Corrections,
    earlier: Corrections,
    script: list[dict[str, Any]],
) -> None:
    """422 for an offset (``starts``, in request order) that is not inside a quote of
    the run, a ``speech`` span past the run's text, over a chapter heading or over one
    of its quotes (a span an earlier correction made speech may be given again), or a
    voice for a name that speaks nothing."""
    quotes = sorted(
        (int(item["start_char"]), int(item["end_char"]))
        for item in script
        if item.get("kind") == "dialogue"
    )
    quote_starts = [a for a, _ in quotes]
    # Chapter headings printed in the text (a heading line of no width is not).
    printed = [
        item
        for item in script
        if item.get("heading") and int(item["end_char"]) > int(item["start_char"])
    ]
    headings = sorted((int(i["start_char"]), int(i["end_char"])) for i in printed)
    titles = {int(i["start_char"]): str(i["text"]) for i in printed}
    problems: list[tuple[tuple[str | int, ...], str]] = []
    text_end = max((int(item["end_char"]) for item in script), default=0)
    for index, (start, (end, _)) in enumerate(sorted(new.speech.items())):
        if earlier.speech.get(start, (None,))[0] == end:
            continue
        loc: tuple[str | int, ...] = ("body", "speech", index)
        other = overlapped(quotes, start, end)
        heading = overlapped(headings, start, end)
        if end > text_end:
            problems.append(
                (loc, f"end_char {end} is past the run's last line (at {text_end})")
            )
        elif heading is not None:
            problems.append(
                (
                    loc,
                    f"characters {start}-{end} take in the chapter heading "
                    f"{titles[heading]!r}, which the narrator always reads",
                )
            )
        elif other is not None:
            problems.append(
                (
                    loc,
                    f"characters {start}-{end} overlap the quote at {other}; correct "
                    "that quote under 'speakers'",
                )
            )
    for index, start in enumerate(starts):
        at = bisect.bisect_right(quote_starts, start) - 1
        # A quote turned into narration by an earlier correction can be given back.
        if start in earlier.speakers or (at >= 0 and start < quotes[at][1]):
            continue
        problems.append(
            (
                ("body", "speakers", index, "start_char"),
                f"no quote of the story is at character offset {start}; use the "
                "start_char of a dialogue line from the run's script.json",
            )
        )
    speakers = {str(item.get("speaker")) for item in script}
    speakers |= set(new.speakers.values()) | set(earlier.speakers.values())
    speakers |= {name for _, name in (*new.speech.values(), *earlier.speech.values())}
    for name in new.voices:
        if name not in speakers and name != NARRATOR:
            problems.append(
                (
                    ("body", "voices", name),
                    f"{name!r} speaks no line of this run, so cannot be given a voice",
                )
            )
    if problems:
        raise FieldError(problems)
