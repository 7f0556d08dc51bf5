"""Pronunciation dictionaries; a story's dictionaries, exports, mastering and files.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _story_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("replacements_json", sa.Text, nullable=True),
        sa.Column("export_formats", sa.String(64), nullable=True),
        sa.Column("master", sa.String(16), nullable=True),
        sa.Column("files_json", sa.Text, nullable=True),
    ]


def upgrade() -> None:
    """Create ``dictionaries`` and add the story's deliverable columns."""
    op.create_table(
        "dictionaries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_edited_at", sa.Float, nullable=False),
        sa.Column("terms", sa.JSON, nullable=False),
        sa.Column("languages", sa.JSON, nullable=False),
    )
    op.create_index("ix_dictionaries_account_id", "dictionaries", ["account_id"])
    with op.batch_alter_table("stories") as batch:
        for column in _story_columns():
            batch.add_column(column)


def downgrade() -> None:
    """Drop the story columns and ``dictionaries``."""
    with op.batch_alter_table("stories") as batch:
        for column in _story_columns():
            batch.drop_column(column.name)
    op.drop_index("ix_dictionaries_account_id", "dictionaries")
    op.drop_table("dictionaries")
