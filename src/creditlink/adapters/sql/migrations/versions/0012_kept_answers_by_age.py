"""Kept HTTP answers are found by age, so that `creditlink service forget-answers` can drop
those older than the retention a batch at a time without reading the whole table.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_idempotent_responses_created_at", "idempotent_responses", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotent_responses_created_at", "idempotent_responses")
