"""Linkage alerts and recoveries, the cure date on the limit, and the ledger by date.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_limits") as batch:
        batch.add_column(sa.Column("cured_on", sa.Date))
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("cause", sa.String(32), nullable=False),
        sa.Column("products", sa.String(32), nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
    )
    op.create_index("ix_alerts_customer_id", "alerts", ["customer_id"])
    op.create_index(
        "ix_journal_entries_date_customer", "journal_entries", ["business_date", "customer_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_journal_entries_date_customer", "journal_entries")
    op.drop_table("alerts")
    with op.batch_alter_table("customer_limits") as batch:
        batch.drop_column("cured_on")
