"""Health of the parts a Talecast server depends on: database, queue and storage.

One check serves both ``/health`` (a JSON report, 503 when a part is down) and
``/metrics`` (``talecast_up{component=...}``, 1 or 0 at each scrape), so an operator
sees the same answer from either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text

from talecast.api.state import AppState
from talecast.jobs.queue import count_by_status

COMPONENTS = ("db", "queue", "storage")


def component_report(state: AppState, pool: Any) -> dict[str, Any]:
    """Each component's status (``ok``/``error`` with the error), and the overall one.

    ``pool`` is the embedded worker pool of this server, or None when it has none.
    """
    report: dict[str, Any] = {}
    dialect = state.engine.dialect.name
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            counts = count_by_status(conn)
        report["db"] = {"status": "ok", "kind": dialect}
    except Exception as exc:  # the report is the point: say what broke, stay up
        report["db"] = {"status": "error", "kind": dialect, "error": str(exc)}
        counts = {}
    report["queue"] = _queue_report(state, pool, counts)
    try:
        state.storage.check()
        report["storage"] = {"status": "ok", "kind": state.settings.storage}
    except Exception as exc:
        report["storage"] = {
            "status": "error",
            "kind": state.settings.storage,
            "error": str(exc),
        }
    healthy = all(report[name]["status"] == "ok" for name in COMPONENTS)
    report["status"] = "ok" if healthy else "error"
    return report


def _queue_report(state: AppState, pool: Any, counts: dict[str, int]) -> dict[str, Any]:
    """The embedded pool's live workers, or whether the Celery broker answers."""
    if state.settings.queue == "celery":
        try:
            state.queue.check()  # type: ignore[attr-defined]
            broker = "ok"
        except Exception as exc:
            broker = str(exc)
        return {
            "status": "ok" if broker == "ok" else "error",
            "kind": "celery",
            "broker": broker,
            "stories": counts,
        }
    workers = pool.alive() if pool is not None else 0
    queue_ok = pool is None or workers > 0 or state.settings.workers == 0
    return {
        "status": "ok" if queue_ok else "error",
        "kind": state.settings.queue,
        "workers_alive": workers,
        "workers_configured": state.settings.workers if pool is not None else 0,
        "stories": counts,
    }


class HealthCollector(Collector):
    """``talecast_up``: 1 for each component that works at scrape time, else 0."""

    def __init__(self, report: Callable[[], dict[str, Any]]) -> None:
        self.report = report

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Run the checks and yield one gauge family labelled by component."""
        report = self.report()
        up = GaugeMetricFamily(
            "talecast_up",
            "Whether a component (db, queue, storage) works, checked at scrape time",
            labels=["component", "kind"],
        )
        for name in COMPONENTS:
            part = report[name]
            up.add_metric([name, str(part["kind"])], float(part["status"] == "ok"))
        yield up
