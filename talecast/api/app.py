"""The FastAPI application: the Stories API under ``/apis`` plus health and metrics."""

from __future__ import annotations

import logging
import threading
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response

import talecast
from talecast.api import (
    catalogue,
    routes_corrections,
    routes_dictionaries,
    routes_exports,
    routes_files,
    routes_setup,
    routes_stories,
    studio,
)
from talecast.api.deps import app_state
from talecast.api.errors import install_error_handlers
from talecast.api.fastlane import BulkResultsLane
from talecast.api.health import HealthCollector, component_report
from talecast.api.metrics import CONTENT_TYPE, Metrics, RequestCounter
from talecast.api.state import AppState
from talecast.api.upload import UploadLimitMiddleware
from talecast.config import Settings, get_settings
from talecast.db import make_engine, migrate
from talecast.jobs.queue import make_queue
from talecast.storage import get_storage

logger = logging.getLogger(__name__)

DESCRIPTION = (
    "Talecast turns stories into narrated audio with a voice for every character. "
    "This API is compatible with the Camb.ai Stories API: point the `camb-sdk` client "
    "at `http://HOST:PORT/apis`. Authenticate with the `x-api-key` header."
)

# The published ValidationError schema (FastAPI's own adds ``input`` and ``ctx``, which
# Talecast never sends).
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "properties": {
        "loc": {
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "type": "array",
            "title": "Location",
        },
        "msg": {"type": "string", "title": "Message"},
        "type": {"type": "string", "title": "Error Type"},
    },
    "type": "object",
    "required": ["loc", "msg", "type"],
    "title": "ValidationError",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app: migrate the database and wire storage, queue and routes."""
    settings = settings or get_settings()
    engine = make_engine(settings.db_url)
    migrate(engine)
    storage = get_storage(settings)
    state = AppState(settings, engine, storage, make_queue(settings))
    metrics = Metrics(engine)

    app = FastAPI(
        title="Talecast",
        version=talecast.__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url="/redocs",
        openapi_url="/openapi.json",
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.talecast = state
    app.state.metrics = metrics
    app.state.pool = None
    metrics.registry.register(
        HealthCollector(lambda: component_report(state, app.state.pool))
    )

    api = APIRouter(prefix="/apis")
    api.include_router(routes_stories.router)
    api.include_router(catalogue.router)
    api.include_router(routes_files.router)
    api.include_router(routes_dictionaries.router)
    api.include_router(routes_exports.router)
    api.include_router(routes_corrections.router)
    api.include_router(routes_setup.router)
    app.include_router(api)
    app.include_router(_service_router())
    app.include_router(studio.router)

    install_error_handlers(app)
    app.add_middleware(
        UploadLimitMiddleware, max_upload_bytes=settings.max_upload_bytes
    )
    app.add_middleware(BulkResultsLane)
    app.add_middleware(RequestCounter, metrics=metrics)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    from talecast.pipeline import reading  # noqa: F401 (the first upload's, loaded now)

    # The broker connection is opened beside the start-up: a broker that is down or
    # slow to answer must not hold the server back (/health reports it).
    threading.Thread(target=_warm_queue, args=(state,), daemon=True).start()
    return app


def _warm_queue(state: AppState) -> None:
    """Open the queue's connection: the first story is sent as quickly as the next."""
    try:
        state.queue.warm()
    except Exception as exc:  # noqa: BLE001 (a broker that is down is /health's news)
        logger.warning("queue: could not connect at start (%s); retried on use", exc)


def _service_router() -> APIRouter:
    router = APIRouter(tags=["Service"])

    @router.get("/health", summary="Health")
    def health(request: Request) -> JSONResponse:
        """Whether the database, the queue and the storage work. 503 if one does not."""
        return _health(request)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    def metrics(request: Request) -> Response:
        """Metrics in the Prometheus text format."""
        body = request.app.state.metrics.render()
        return Response(body, media_type=CONTENT_TYPE)

    return router


def _health(request: Request) -> JSONResponse:
    report = component_report(app_state(request), request.app.state.pool)
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = schema.get("components", {}).get("schemas", {})
        if "ValidationError" in schemas:
            schemas["ValidationError"] = VALIDATION_ERROR_SCHEMA
        if "RunIDsRequestPayload" in schemas:  # FastAPI renders the bound as 0.0
            run_ids = schemas["RunIDsRequestPayload"]["properties"]["run_ids"]
            run_ids["items"]["exclusiveMinimum"] = 0
        app.openapi_schema = schema
    return app.openapi_schema
