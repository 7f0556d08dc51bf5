"""Persistence: SQLAlchemy 2 models, engines and the shipped Alembic migrations."""

from talecast.db.models import Account, ApiKey, Base, Story, StoryStatus
from talecast.db.session import make_engine, migrate

__all__ = [
    "Account",
    "ApiKey",
    "Base",
    "Story",
    "StoryStatus",
    "make_engine",
    "migrate",
]
