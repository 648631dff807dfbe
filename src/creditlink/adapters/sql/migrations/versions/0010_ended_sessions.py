"""Dashboard sessions signed out before they expired, so that a copied session id stops
working at sign-out, not only at its expiry.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ended_sessions",
        sa.Column("session_digest", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.Integer, sa.ForeignKey("api_keys.key_id"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ended_sessions_expires_at", "ended_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_ended_sessions_expires_at", "ended_sessions")
    op.drop_table("ended_sessions")
