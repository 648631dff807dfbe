"""Each parameter version keeps the first business day whose close it prices, so that
interest and penalty accrued across a change price each day at the value in force at that
day's close (DOMAIN.md §1, §6), not at the value in force when the stretch is accrued.

Versions stored before this have no such day (NULL): the latest of them stands for every
day before the first dated version, which is what accrual did until now.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parameter_versions") as batch:
        batch.add_column(sa.Column("in_force_from", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("parameter_versions") as batch:
        batch.drop_column("in_force_from")
