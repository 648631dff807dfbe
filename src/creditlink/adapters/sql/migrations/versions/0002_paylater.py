"""PayLater accounts, decisions, and the log of closed business days.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paylater_accounts",
        sa.Column(
            "customer_id", sa.String(64), sa.ForeignKey("customers.customer_id"), primary_key=True
        ),
        sa.Column("statement_day", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("principal_fen", sa.BigInteger, nullable=False),
        sa.Column("next_wake_on", sa.Date),
        sa.Column("closed_through", sa.Date),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_index("ix_paylater_accounts_next_wake_on", "paylater_accounts", ["next_wake_on"])
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("op", sa.String(32), nullable=False),
        sa.Column("ref", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("parameter_version", sa.Integer, nullable=False),
        sa.Column("model_version", sa.String(64)),
        sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
    )
    op.create_index("ix_decisions_customer_id", "decisions", ["customer_id"])
    op.create_table(
        "closed_days",
        sa.Column("business_date", sa.Date, primary_key=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary_json", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("closed_days", "decisions", "paylater_accounts"):
        op.drop_table(table)
