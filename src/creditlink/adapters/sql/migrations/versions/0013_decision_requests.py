"""Each decision keeps a digest of what was asked, so that a retry under its idempotency key
is told from another request under the same key (another amount, merchant or term): the
other request is refused instead of answered with the first one's decision.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("request_digest", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("request_digest")
