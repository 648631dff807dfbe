"""Wake-up queue indexes on (next wake date, key), so the close of day claims each batch
from the front of an index range, in a fixed order, without scanning or sorting the book.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_paylater_accounts_next_wake_on", "paylater_accounts")
    op.create_index(
        "ix_paylater_accounts_wake", "paylater_accounts", ["next_wake_on", "customer_id"]
    )
    op.drop_index("ix_loans_next_wake_on", "loans")
    op.create_index("ix_loans_wake", "loans", ["next_wake_on", "customer_id", "ref"])
    op.drop_index("ix_customer_limits_next_wake_on", "customer_limits")
    op.create_index("ix_customer_limits_wake", "customer_limits", ["next_wake_on", "customer_id"])


def downgrade() -> None:
    op.drop_index("ix_customer_limits_wake", "customer_limits")
    op.create_index("ix_customer_limits_next_wake_on", "customer_limits", ["next_wake_on"])
    op.drop_index("ix_loans_wake", "loans")
    op.create_index("ix_loans_next_wake_on", "loans", ["next_wake_on"])
    op.drop_index("ix_paylater_accounts_wake", "paylater_accounts")
    op.create_index("ix_paylater_accounts_next_wake_on", "paylater_accounts", ["next_wake_on"])
