"""Tables: accounts, their API keys, pronunciation dictionaries, and stories.

A story row is both task and run. It is created when a file is uploaded: ``task_id``
is the url-safe id a client polls, ``run_id`` the integer id of its result. Times are
Unix seconds (floats), which keeps lease arithmetic in the queue trivial on every
database.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class StoryStatus(enum.StrEnum):
    """Life cycle of a story: queued -> running -> success | error | timeout.

    A story set up for editing (``POST /story-setup``) waits as ``setup``, planned but
    not rendered, until a render of it is asked for; it is then queued like any other.
    """

    SETUP = "setup"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    TIMEOUT = "timeout"  # the render ran past its time limit or stopped progressing


ACTIVE_STATUSES = (StoryStatus.QUEUED.value, StoryStatus.RUNNING.value)
ENDED_STATUSES = (
    StoryStatus.SUCCESS.value,
    StoryStatus.ERROR.value,
    StoryStatus.TIMEOUT.value,
)


class Base(DeclarativeBase):
    """Declarative base of every Talecast table."""


class Account(Base):
    """Owner of API keys, stories and files."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)


class ApiKey(Base):
    """An API key, stored only as the sha256 of the key."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Dictionary(Base):
    """A pronunciation dictionary of an account: terms and what to say instead."""

    __tablename__ = "dictionaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    last_edited_at: Mapped[float] = mapped_column(Float)
    terms: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{term, replacement}]
    languages: Mapped[list[int]] = mapped_column(JSON, default=lambda: [1])


class Story(Base):
    """One uploaded story: its request, its place in the queue and its result."""

    __tablename__ = "stories"
    __table_args__ = (Index("ix_stories_status_created", "status", "created_at"),)

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=StoryStatus.QUEUED.value)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..100
    stage: Mapped[str] = mapped_column(String(64), default="queued")

    title: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_language: Mapped[int] = mapped_column(Integer)
    narrator_voice_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    folder_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    upload_key: Mapped[str] = mapped_column(String(255))
    upload_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    upload_bytes: Mapped[int] = mapped_column(Integer)

    created_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lease_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    exception_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    narration_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    dialogue_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    render_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    transcript_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    chapters_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    # Chosen at upload: merged dictionary replacements (a JSON object, snapshotted so
    # later edits do not change a queued story), export formats ("mp3,vtt"), mastering.
    replacements_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    export_formats: Mapped[str | None] = mapped_column(String(64), nullable=True)
    master: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Every stored file of a finished run: JSON [{"name": "transcript.vtt", "size": n}].
    files_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    # A re-render of another run with a person's corrections: the corrections in effect
    # (JSON, talecast.pipeline.corrections), the earlier run's voices to keep
    # (speaker -> voice id) and that run's id.
    corrections_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    keep_voices_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    corrects_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Where to POST the final status when the task ends (talecast.jobs.notify).
    callback_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Full-cast mode: narration that only says who speaks is left out.
    drop_tags: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
