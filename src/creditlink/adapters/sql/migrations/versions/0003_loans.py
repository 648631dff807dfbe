"""Cash loans, and each customer's loan daily rate.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column("loan_daily_rate", sa.String(12), nullable=False, server_default="0.0005")
        )
    op.create_table(
        "loans",
        sa.Column(
            "customer_id", sa.String(64), sa.ForeignKey("customers.customer_id"), primary_key=True
        ),
        sa.Column("ref", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outstanding_principal_fen", sa.BigInteger, nullable=False),
        sa.Column("next_wake_on", sa.Date),
        sa.Column("closed_through", sa.Date),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_index("ix_loans_next_wake_on", "loans", ["next_wake_on"])


def downgrade() -> None:
    op.drop_table("loans")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("loan_daily_rate")
