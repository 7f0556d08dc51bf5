"""Alembic environment: runs on the connection ``talecast.db.migrate`` hands over."""

from __future__ import annotations

from alembic import context

from talecast.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through talecast.db.migrate(engine)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
