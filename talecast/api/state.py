"""What the web process keeps between requests: engine, storage, signer and caches.

Two caches keep the hot paths free of ORM work. API keys are remembered for a few
seconds (so a revoked key stops working within ``KEY_CACHE_S``). A finished run never
changes, so its result (file keys and transcript JSON) is kept in an LRU and each
request only signs fresh links around it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from talecast.api.signing import LinkSigner
from talecast.config import Settings
from talecast.db import ApiKey, Story, StoryStatus
from talecast.errors import NotFoundError, RunNotReadyError, StorageError
from talecast.jobs.queue import TaskQueue
from talecast.storage import Storage

logger = logging.getLogger(__name__)

KEY_CACHE_S = 2.0
RESULT_CACHE_RUNS = 4096
MAX_DB_INT = 2**63 - 1


@dataclass(frozen=True)
class FinishedRun:
    """The unchanging part of a finished run's result."""

    run_id: int
    account_id: int
    narration_key: str
    dialogue_key: str
    transcript_json: str  # compact JSON array of {"start","end","text","speaker"}


@dataclass(frozen=True)
class RunState:
    """A run of the caller's that is not (successfully) finished."""

    run_id: int
    status: str


class FragmentCache:
    """Result JSON built during one wall-clock second (its links expire alike)."""

    def __init__(self) -> None:
        self.second = 0
        self.items: dict[tuple[int, int, str, bool], str] = {}

    def reset(self, second: int) -> None:
        """Forget everything: a new second has begun."""
        self.second = second
        self.items = {}


class AppState:
    """Shared objects of one web process."""

    def __init__(
        self, settings: Settings, engine: Engine, storage: Storage, queue: TaskQueue
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.storage = storage
        self.queue = queue
        assert settings.secret_key is not None
        self.signer = LinkSigner(settings.secret_key, settings.link_ttl_s)
        self._keys: dict[str, tuple[int | None, float]] = {}
        self._runs: OrderedDict[int, FinishedRun] = OrderedDict()
        self.fragments = FragmentCache()

    def account_for_key(self, key: str) -> int | None:
        """The account id of an active API key, or None."""
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        now = time.monotonic()
        cached = self._keys.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]

        with self.engine.connect() as conn:
            account_id = conn.execute(
                select(ApiKey.account_id).where(
                    ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)
                )
            ).scalar_one_or_none()
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[digest] = (account_id, now + KEY_CACHE_S)
        return account_id

    def lookup_runs(
        self, account_id: int, run_ids: list[int]
    ) -> dict[int, FinishedRun | RunState]:
        """The caller's runs among ``run_ids``; others' and unknown ids are left out."""
        found: dict[int, FinishedRun | RunState] = {}
        missing: list[int] = []
        for run_id in run_ids:
            run = self._runs.get(run_id)
            if run is None:
                if 0 < run_id <= MAX_DB_INT:
                    missing.append(run_id)
            elif run.account_id == account_id:
                found[run_id] = run
        if missing:
            found.update(self._load_runs(account_id, missing))
        return found

    def _load_runs(
        self, account_id: int, run_ids: list[int]
    ) -> dict[int, FinishedRun | RunState]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    Story.run_id,
                    Story.status,
                    Story.narration_key,
                    Story.dialogue_key,
                    Story.transcript_json,
                ).where(Story.run_id.in_(run_ids), Story.account_id == account_id)
            ).all()
        loaded: dict[int, FinishedRun | RunState] = {}
        for row in rows:
            if row.status == StoryStatus.SUCCESS.value:
                run = FinishedRun(
                    row.run_id,
                    account_id,
                    row.narration_key,
                    row.dialogue_key,
                    row.transcript_json or "[]",
                )
                self._remember(run)
                loaded[row.run_id] = run
            else:
                loaded[row.run_id] = RunState(row.run_id, row.status)
        return loaded

    def _remember(self, run: FinishedRun) -> None:
        self._runs[run.run_id] = run
        if len(self._runs) > RESULT_CACHE_RUNS:
            self._runs.popitem(last=False)


# The status a client sees for each stored status.
PUBLIC_STATUS = {
    StoryStatus.SETUP.value: "PENDING",
    StoryStatus.QUEUED.value: "PENDING",
    StoryStatus.RUNNING.value: "PENDING",
    StoryStatus.SUCCESS.value: "SUCCESS",
    StoryStatus.ERROR.value: "ERROR",
    StoryStatus.TIMEOUT.value: "TIMEOUT",
}


def finished_run(state: AppState, account: int, run_id: int) -> FinishedRun:
    """The caller's finished run; NotFoundError (404) or RunNotReadyError (400)."""
    run = state.lookup_runs(account, [run_id]).get(run_id)
    if run is None:
        raise NotFoundError(f"no story run with id {run_id}")
    if isinstance(run, RunState):
        if run.status == StoryStatus.SETUP.value:
            raise RunNotReadyError(setup_not_rendered(run_id))
        raise RunNotReadyError(
            f"run {run_id} has no result: its status is {PUBLIC_STATUS[run.status]}"
        )
    return run


def run_with_files(
    state: AppState, account: int, run_id: int
) -> FinishedRun | RunState:
    """The caller's run that has stored files: finished, or set up for editing
    (its script and cast); NotFoundError or RunNotReadyError otherwise."""
    run = state.lookup_runs(account, [run_id]).get(run_id)
    if isinstance(run, RunState) and run.status == StoryStatus.SETUP.value:
        return run
    return finished_run(state, account, run_id)


def setup_not_rendered(run_id: int) -> str:
    """Why a run set up for editing has no audio, and how to render it."""
    return (
        f"run {run_id} is set up for editing and not rendered yet; "
        f"POST /apis/story-result/{run_id}/corrections (an empty JSON object renders "
        "it as it is) and poll the task it returns"
    )


def stored_json(state: AppState, key: str) -> Any:
    """A stored JSON file of a run, or None when the run did not store it."""
    try:
        with state.storage.open(key) as fh:
            return json.load(fh)
    except (StorageError, ValueError):
        logger.warning("%s cannot be read", key)
        return None


def cast_voices(state: AppState, run_id: int) -> dict[str, int] | None:
    """speaker -> voice id from a run's stored ``cast.json`` (None without one)."""
    cast = stored_json(state, f"runs/{run_id}/cast.json")
    if not isinstance(cast, dict):
        return None
    try:
        return {str(name): int(entry["voice_id"]) for name, entry in cast.items()}
    except (KeyError, TypeError, ValueError):
        return None
