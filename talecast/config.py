"""Talecast settings: one class, read from ``TALECAST_*`` environment variables.

Build them with :func:`get_settings`; nothing is read at import time. The signing secret
is taken from ``TALECAST_SECRET_KEY`` or, when that is unset, generated once and kept in
``<data_dir>/secret_key`` (mode 0600). A well-known development secret is refused unless
``TALECAST_ENV=development``.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from talecast.errors import ConfigError

logger = logging.getLogger(__name__)

# Log lines of the long-running services (API server, render workers): stamped, and
# naming the process, since several processes write to one log.
SERVICE_LOG_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"

WEAK_SECRETS = frozenset(
    {"", "dev", "development", "changeme", "change-me", "secret", "test", "password"}
)
MIN_SECRET_CHARS = 16
SECRET_FILE = "secret_key"
MAX_DEFAULT_THREADS = 4


def default_data_dir() -> Path:
    """The per-user data folder: ``$XDG_DATA_HOME/talecast`` (~/.local/share/...)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "talecast"


class Settings(BaseSettings):
    """Every setting of the service, worker and storage; env prefix ``TALECAST_``."""

    model_config = SettingsConfigDict(env_prefix="TALECAST_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None  # default: sqlite file under data_dir
    env: Literal["production", "development"] = "production"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    secret_key: str | None = None
    public_base_url: str | None = None  # e.g. https://talecast.example.org
    workers: int = Field(1, ge=0, le=64)  # render worker processes; 0 = none
    # Lines one render speaks at once (each on one engine thread); unset: the machine's
    # cores shared among the render processes, at most MAX_DEFAULT_THREADS.
    threads_per_worker: int | None = Field(None, ge=1, le=64)  # int once validated
    voice_profile: Literal["neural", "fast"] = "neural"
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    max_active_stories_per_account: int = Field(10, ge=1)
    link_ttl_s: int = Field(86400, ge=1)
    # Whether a callback_url may point at loopback, private or link-local addresses
    # (other machines of the same network). Turn off when accounts are not trusted.
    private_callbacks: bool = True
    lease_s: float = Field(30.0, gt=1.0)  # a worker's claim on a task lives this long
    poll_interval_s: float = Field(0.25, gt=0.0)  # idle worker's queue poll period
    queue: Literal["local", "celery"] = "local"
    broker_url: str | None = None  # redis://HOST:PORT/DB when queue=celery
    # A story still rendering this long after it started ends with status TIMEOUT ...
    render_timeout_s: float = Field(86400.0, gt=0.0)
    # ... as does one whose render makes no progress for this long (a hung engine): no
    # single line, part, assembly or export may take longer.
    stall_timeout_s: float = Field(900.0, gt=0.0)
    # A Celery message whose worker died is delivered again after this long; it must
    # exceed the longest part's render time (a part is a chapter or ~3000 characters).
    celery_visibility_timeout_s: int = Field(3600, ge=5)
    storage: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # unset: AWS itself
    s3_region: str | None = None

    @model_validator(mode="after")
    def _default_threads(self) -> Settings:
        if self.threads_per_worker is None:
            self.threads_per_worker = default_threads(max(self.workers, 1))
        return self

    @property
    def db_url(self) -> str:
        """The database URL actually used."""
        return self.database_url or f"sqlite:///{self.data_dir / 'talecast.db'}"

    @property
    def cache_dir(self) -> Path:
        """Line cache shared by all workers, so interrupted renders resume."""
        return self.data_dir / "cache"

    @property
    def work_dir(self) -> Path:
        """Scratch folders where renders write before their files are stored."""
        return self.data_dir / "work"

    @property
    def files_dir(self) -> Path:
        """Root of the local file storage (uploads and rendered audio)."""
        return self.data_dir / "files"


def default_threads(processes: int) -> int:
    """Lines spoken at once by each of ``processes`` render processes here."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = cores or os.cpu_count() or 1
    return max(1, min(MAX_DEFAULT_THREADS, cores // max(processes, 1)))


def get_settings(**overrides: object) -> Settings:
    """Read settings from the environment (plus ``overrides``) and resolve the secret.

    Creates ``data_dir`` if needed. Raises ConfigError for malformed values or an
    insecure secret outside development mode.
    """
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"TALECAST_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc

    _check_scale_out(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.secret_key = _resolve_secret(settings)
    return settings


def _check_scale_out(settings: Settings) -> None:
    if settings.queue == "celery" and not (settings.broker_url or "").startswith(
        ("redis://", "rediss://")
    ):
        raise ConfigError(
            "TALECAST_QUEUE=celery needs TALECAST_BROKER_URL=redis://HOST:PORT/0 "
            f"(got {settings.broker_url!r})"
        )
    if settings.storage == "s3" and not settings.s3_bucket:
        raise ConfigError(
            "TALECAST_STORAGE=s3 needs TALECAST_S3_BUCKET (and "
            "TALECAST_S3_ENDPOINT_URL for a server other than AWS; credentials from "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        )


def _resolve_secret(settings: Settings) -> str:
    secret = settings.secret_key
    if secret is None:
        return _load_or_create_secret(settings.data_dir / SECRET_FILE)
    weak = secret.strip().lower() in WEAK_SECRETS or len(secret) < MIN_SECRET_CHARS
    if weak and settings.env != "development":
        raise ConfigError(
            "TALECAST_SECRET_KEY is a development secret or shorter than "
            f"{MIN_SECRET_CHARS} characters; set a long random value (for example "
            "the output of `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`)"
            ", unset it to have one generated, or set TALECAST_ENV=development"
        )
    return secret


def _load_or_create_secret(path: Path) -> str:
    if path.exists():
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) >= MIN_SECRET_CHARS:
            return secret
        if path.stat().st_size:
            raise ConfigError(f"the secret in {path} is too short; delete the file")
        time.sleep(0.05)  # created but not yet written by another process
        return _load_or_create_secret(path)

    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it a moment ago
        return _load_or_create_secret(path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret + "\n")
    logger.info("settings: generated a signing secret in %s", path)
    return secret
