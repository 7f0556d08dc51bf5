"""A story's corrections, the run it corrects, its callback URL, full-cast mode.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _story_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("corrections_json", sa.Text, nullable=True),
        sa.Column("keep_voices_json", sa.Text, nullable=True),
        sa.Column("corrects_run_id", sa.Integer, nullable=True),
        sa.Column("callback_url", sa.Text, nullable=True),
        sa.Column("drop_tags", sa.Boolean, nullable=True),
    ]


def upgrade() -> None:
    """Add the correction and callback columns to ``stories``."""
    with op.batch_alter_table("stories") as batch:
        for column in _story_columns():
            batch.add_column(column)


def downgrade() -> None:
    """Drop the correction and callback columns."""
    with op.batch_alter_table("stories") as batch:
        for column in _story_columns():
            batch.drop_column(column.name)
