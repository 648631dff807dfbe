"""Customer scores, declared income, and whether limits and price are pinned by hand.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("monthly_income_fen", sa.BigInteger))
        batch.add_column(
            sa.Column("pricing_pinned", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("score", sa.Integer))
        batch.add_column(sa.Column("grade", sa.String(1)))
        batch.add_column(sa.Column("score_model", sa.String(64)))
        batch.add_column(sa.Column("score_reasons", sa.Text))
        batch.add_column(sa.Column("scored_on", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        for column in (
            "scored_on",
            "score_reasons",
            "score_model",
            "grade",
            "score",
            "pricing_pinned",
            "monthly_income_fen",
        ):
            batch.drop_column(column)
