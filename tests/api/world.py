"""The prepared server the API tests share (built by the ``world`` fixture)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from liveserver import LiveServer

MAX_UPLOAD_BYTES = 300_000
MAX_ACTIVE = 3


@dataclass
class World:
    """The shared server, its accounts and their runs."""

    server: LiveServer
    client: httpx.Client
    key_a: str
    key_b: str
    key_c: str  # an account with no stories, for quota tests
    runs_a: list[int]  # finished
    run_b: int  # finished, other account
    task_a: str  # task of runs_a[0]
    task_b: str
    pending_a: int  # never rendered
    pending_task_a: str
