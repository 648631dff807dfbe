"""What each decision was judged on and its shadow judgement; the close's early-warning
indicators and incidents.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("context_json", sa.Text))
        batch.add_column(sa.Column("shadow_json", sa.Text))
    op.create_index("ix_decisions_customer_date", "decisions", ["customer_id", "business_date"])
    op.create_index("ix_decisions_date", "decisions", ["business_date"])
    op.create_table(
        "daily_indicators",
        sa.Column("business_date", sa.Date, primary_key=True),
        sa.Column("values_json", sa.Text, nullable=False),
    )
    op.create_table(
        "incidents",
        sa.Column("incident_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("breaches_json", sa.Text, nullable=False),
        sa.Column("normal_version", sa.Integer, nullable=False),
        sa.Column("tightened_version", sa.Integer, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.String(100)),
        sa.Column("close_reason", sa.Text),
        sa.Column("restored_version", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("incidents")
    op.drop_table("daily_indicators")
    op.drop_index("ix_decisions_date", "decisions")
    op.drop_index("ix_decisions_customer_date", "decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("shadow_json")
        batch.drop_column("context_json")
