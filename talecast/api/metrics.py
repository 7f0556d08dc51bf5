"""Prometheus metrics: requests served, stories by status, seconds spent rendering.

Request counts are kept in the web process. Story counts and render times live in the
database (workers are other processes), so they are read from it at each scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from talecast.db import Story, StoryStatus
from talecast.jobs.queue import count_by_status

logger = logging.getLogger(__name__)

RENDER_BUCKETS_S = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class StoryCollector(Collector):
    """Story counts by status and a histogram of render seconds, read at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily | HistogramMetricFamily]:
        """Query the database and yield the two metric families."""
        with self.engine.connect() as conn:
            counts = count_by_status(conn)
            buckets = conn.execute(
                select(
                    *[
                        func.sum(case((Story.render_s <= edge, 1), else_=0))
                        for edge in RENDER_BUCKETS_S
                    ],
                    func.count(),
                    func.coalesce(func.sum(Story.render_s), 0.0),
                ).where(
                    Story.status == StoryStatus.SUCCESS.value,
                    Story.render_s.is_not(None),
                )
            ).one()

        stories = GaugeMetricFamily(
            "talecast_stories", "Stories by status", labels=["status"]
        )
        for status, count in counts.items():
            stories.add_metric([status], count)
        yield stories

        total = int(buckets[-2])
        cumulative = [
            (str(edge), int(n or 0))
            for edge, n in zip(RENDER_BUCKETS_S, buckets[:-2], strict=True)
        ]
        render = HistogramMetricFamily(
            "talecast_render_seconds", "Wall seconds to render a story"
        )
        render.add_metric([], cumulative + [("+Inf", total)], float(buckets[-1]))
        yield render


class Metrics:
    """The registry of one web app and its request counter."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "talecast_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.registry.register(StoryCollector(engine))

    def render(self) -> bytes:
        """The exposition text of every metric."""
        return generate_latest(self.registry)


class RequestCounter:
    """ASGI middleware counting responses by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            template = (
                getattr(route, "path", None)
                or scope.get("talecast.route")
                or "unmatched"
            )
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
