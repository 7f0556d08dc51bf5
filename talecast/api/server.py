"""Running the service: the web process plus its render worker processes.

``serve`` is what ``talecast serve`` calls. It can also be started directly with
``python -m talecast.api.server --host H --port P``.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from talecast.api.app import create_app
from talecast.config import SERVICE_LOG_FORMAT, Settings, get_settings
from talecast.jobs.pool import WorkerPool

logger = logging.getLogger(__name__)


def serve(
    host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None
) -> None:
    """Serve the API on ``host:port`` with ``settings.workers`` render workers.

    Blocks until interrupted. Stories left queued or half-rendered by an earlier,
    killed server are picked up again.
    """
    settings = settings or get_settings()
    _configure_logging(settings.log_level)
    app = create_app(settings)
    # With Celery, `talecast worker` processes render, possibly on other machines.
    pool = WorkerPool(settings) if settings.queue == "local" else None
    app.state.pool = pool

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Runs inside uvicorn, so the workers stop (and give back the stories they
        # were rendering) before uvicorn re-raises the signal that stopped it.
        if pool is not None:
            pool.start()
        logger.info(
            "server: listening on http://%s:%d (data in %s)",
            host,
            port,
            settings.data_dir,
        )
        try:
            yield
        finally:
            if pool is not None:
                pool.stop()

    app.router.lifespan_context = lifespan
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        access_log=settings.log_level == "DEBUG",
        loop="uvloop",
        http="httptools",
    )


def _configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=level,
            format=SERVICE_LOG_FORMAT,
        )
    elif root.getEffectiveLevel() > logging.getLevelName(level):
        # Logging was set up quieter by the caller: still report the service's events.
        logging.getLogger("talecast").setLevel(level)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: ``--host`` and ``--port``."""
    parser = argparse.ArgumentParser(description="Run the Talecast API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
