"""A business date being closed is marked before the close starts, so that no operation can
be dated on it while its close runs.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("closed_days") as batch:
        batch.add_column(sa.Column("status", sa.String(8), nullable=False, server_default="closed"))


def downgrade() -> None:
    with op.batch_alter_table("closed_days") as batch:
        batch.drop_column("status")
