"""Accounts, API keys and stories.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
    )
    op.create_index("ix_api_keys_account_id", "api_keys", ["account_id"])
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])
    op.create_table(
        "stories",
        sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("title", sa.String(255), nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("source_language", sa.Integer, nullable=False),
        sa.Column("narrator_voice_id", sa.Integer, nullable=True),
        sa.Column("folder_id", sa.Integer, nullable=True),
        sa.Column("upload_key", sa.String(255), nullable=False),
        sa.Column("upload_name", sa.String(255), nullable=True),
        sa.Column("upload_bytes", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("claim_token", sa.String(64), nullable=True),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("lease_until", sa.Float, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("exception_reason", sa.String(64), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("narration_key", sa.String(255), nullable=True),
        sa.Column("dialogue_key", sa.String(255), nullable=True),
        sa.Column("duration_s", sa.Float, nullable=True),
        sa.Column("render_s", sa.Float, nullable=True),
        sa.Column("transcript_json", sa.Text, nullable=True),
        sa.Column("chapters_json", sa.Text, nullable=True),
    )
    op.create_index("ix_stories_account_id", "stories", ["account_id"])
    op.create_index("ix_stories_status_created", "stories", ["status", "created_at"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("stories")
    op.drop_table("api_keys")
    op.drop_table("accounts")
