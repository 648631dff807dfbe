"""The HTTP service's records: where staff have taken each alert, API keys (stored as
digests), and the first response to each idempotent request.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("status", sa.String(12), nullable=False, server_default="open"))
        batch.add_column(sa.Column("status_by", sa.String(100)))
        batch.add_column(sa.Column("status_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("status_note", sa.Text))
    op.create_index("ix_alerts_status", "alerts", ["status", "alert_id"])
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.String(64), sa.ForeignKey("customers.customer_id")),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "(role = 'customer') = (customer_id IS NOT NULL)", name="ck_api_key_customer_role"
        ),
    )
    op.create_table(
        "idempotent_responses",
        sa.Column("idempotency_key", sa.String(128), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("request", sa.String(300), nullable=False),
        sa.Column("status_code", sa.SmallInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotent_responses")
    op.drop_table("api_keys")
    op.drop_index("ix_alerts_status", "alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("status_note")
        batch.drop_column("status_at")
        batch.drop_column("status_by")
        batch.drop_column("status")
