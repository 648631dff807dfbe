"""The schema, as SQLAlchemy Core tables. Migrations in `migrations/versions` build it;
a test checks that the migrated database and these tables agree."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
Money = sa.BigInteger  # integer fen

book_settings = sa.Table(
    "book_settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("customer_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("national_id_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("national_id_masked", sa.String(18), nullable=False),
    sa.Column("mobile", sa.String(11), nullable=False),
    sa.Column("onboarded_on", sa.Date, nullable=False),
    sa.Column(
        "created_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.current_timestamp(),
    ),
    sa.Column("loan_daily_rate", sa.String(12), nullable=False, server_default="0.0005"),
    sa.Column("monthly_income_fen", Money),
    sa.Column("pricing_pinned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("score", sa.Integer),
    sa.Column("grade", sa.String(1)),
    sa.Column("score_model", sa.String(64)),
    sa.Column("score_reasons", sa.Text),
    sa.Column("scored_on", sa.Date),
)

customer_limits = sa.Table(
    "customer_limits",
    metadata,
    sa.Column(
        "customer_id", sa.String(64), sa.ForeignKey("customers.customer_id"), primary_key=True
    ),
    sa.Column("joint_limit_fen", Money, nullable=False),
    sa.Column("cap_paylater_fen", Money, nullable=False),
    sa.Column("cap_loan_fen", Money, nullable=False),
    sa.Column("used_paylater_fen", Money, nullable=False),
    sa.Column("used_loan_fen", Money, nullable=False),
    sa.Column("temp_amount_fen", Money),
    sa.Column("temp_granted_on", sa.Date),
    sa.Column("temp_expires_on", sa.Date),
    sa.Column("pending_requested_on", sa.Date),
    sa.Column("pending_effective_on", sa.Date),
    sa.Column("pending_joint_limit_fen", Money),
    sa.Column("pending_cap_paylater_fen", Money),
    sa.Column("pending_cap_loan_fen", Money),
    sa.Column("alert_level", sa.String(8), nullable=False),
    sa.Column("next_wake_on", sa.Date),
    sa.CheckConstraint(
        "cap_paylater_fen >= 0 AND cap_paylater_fen <= joint_limit_fen",
        name="ck_cap_paylater_within_joint_limit",
    ),
    sa.CheckConstraint(
        "cap_loan_fen >= 0 AND cap_loan_fen <= joint_limit_fen",
        name="ck_cap_loan_within_joint_limit",
    ),
    sa.CheckConstraint(
        "used_paylater_fen >= 0 AND used_loan_fen >= 0", name="ck_usage_non_negative"
    ),
    sa.Column("cured_on", sa.Date),
    sa.Index("ix_customer_limits_wake", "next_wake_on", "customer_id"),
)

journal_entries = sa.Table(
    "journal_entries",
    metadata,
    sa.Column("entry_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("customer_id", sa.String(64), index=True),
    sa.Column(
        "reverses_entry_id", sa.BigInteger, sa.ForeignKey("journal_entries.entry_id"), unique=True
    ),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("previous_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column(
        "recorded_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.current_timestamp(),
    ),
    sa.Index("ix_journal_entries_date_customer", "business_date", "customer_id"),
)

journal_lines = sa.Table(
    "journal_lines",
    metadata,
    sa.Column(
        "entry_id", sa.BigInteger, sa.ForeignKey("journal_entries.entry_id"), primary_key=True
    ),
    sa.Column("line_no", sa.SmallInteger, primary_key=True),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("customer_id", sa.String(64)),
    sa.Column("side", sa.String(1), nullable=False),
    sa.Column("amount_fen", Money, nullable=False),
    sa.CheckConstraint("side IN ('D', 'C')", name="ck_line_side"),
    sa.CheckConstraint("amount_fen > 0", name="ck_line_amount_positive"),
    sa.Index("ix_journal_lines_customer_account", "customer_id", "account"),
)

ledger_balances = sa.Table(
    "ledger_balances",
    metadata,
    sa.Column("account", sa.String(64), primary_key=True),
    sa.Column("balance_fen", Money, nullable=False),
)

parameter_versions = sa.Table(
    "parameter_versions",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("values_json", sa.Text, nullable=False),
    # The first business day whose close it prices (migration 0014); NULL: from the start.
    sa.Column("in_force_from", sa.Date),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("details_json", sa.Text, nullable=False),
)

paylater_accounts = sa.Table(
    "paylater_accounts",
    metadata,
    sa.Column(
        "customer_id", sa.String(64), sa.ForeignKey("customers.customer_id"), primary_key=True
    ),
    sa.Column("statement_day", sa.SmallInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("principal_fen", Money, nullable=False),
    sa.Column("next_wake_on", sa.Date),
    sa.Column("closed_through", sa.Date),
    sa.Column("document", sa.Text, nullable=False),
    sa.Index("ix_paylater_accounts_wake", "next_wake_on", "customer_id"),
)

# An account's purchases, out of its document: an account keeps every purchase it ever made,
# and an operation reads only those it names or those since a date (`Purchases`).
# `purchase_id` keeps the order they were made in.
paylater_purchases = sa.Table(
    "paylater_purchases",
    metadata,
    sa.Column(
        "purchase_id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column(
        "customer_id",
        sa.String(64),
        sa.ForeignKey("paylater_accounts.customer_id"),
        nullable=False,
    ),
    sa.Column("ref", sa.String(128), nullable=False),
    sa.Column("on_date", sa.Date, nullable=False),
    sa.Column("amount_fen", Money, nullable=False),
    sa.Column("merchant", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("refunded_fen", Money, nullable=False),
    sa.Column("plan_ref", sa.String(128)),
    sa.Column("refunded_on", sa.Date),
    sa.UniqueConstraint("customer_id", "ref", name="uq_paylater_purchases_ref"),
    sa.Index("ix_paylater_purchases_day", "customer_id", "on_date"),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("customer_id", sa.String(64), nullable=False, index=True),
    sa.Column("op", sa.String(32), nullable=False),
    sa.Column("ref", sa.String(128), nullable=False),
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("parameter_version", sa.Integer, nullable=False),
    sa.Column("model_version", sa.String(64)),
    sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
    sa.Column("context_json", sa.Text),
    sa.Column("shadow_json", sa.Text),
    sa.Column("request_digest", sa.String(64)),
    sa.Index("ix_decisions_customer_date", "customer_id", "business_date"),
    sa.Index("ix_decisions_date", "business_date"),
)

daily_indicators = sa.Table(
    "daily_indicators",
    metadata,
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("values_json", sa.Text, nullable=False),
)

incidents = sa.Table(
    "incidents",
    metadata,
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

closed_days = sa.Table(
    "closed_days",
    metadata,
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("summary_json", sa.Text, nullable=False),
    sa.Column("status", sa.String(8), nullable=False, server_default="closed"),
)

loans = sa.Table(
    "loans",
    metadata,
    sa.Column(
        "customer_id", sa.String(64), sa.ForeignKey("customers.customer_id"), primary_key=True
    ),
    sa.Column("ref", sa.String(128), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("outstanding_principal_fen", Money, nullable=False),
    sa.Column("next_wake_on", sa.Date),
    sa.Column("closed_through", sa.Date),
    sa.Column("document", sa.Text, nullable=False),
    sa.Index("ix_loans_wake", "next_wake_on", "customer_id", "ref"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("alert_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.String(64), nullable=False, index=True),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("cause", sa.String(32), nullable=False),
    sa.Column("products", sa.String(32), nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False, server_default="open"),
    sa.Column("status_by", sa.String(100)),
    sa.Column("status_at", sa.DateTime(timezone=True)),
    sa.Column("status_note", sa.Text),
    sa.Index("ix_alerts_status", "status", "alert_id"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),  # SHA-256 of the key
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

# Dashboard sessions signed out before they expired (see interfaces/web/session.py): the
# SHA-256 of the session id, kept until the session would have expired anyway.
ended_sessions = sa.Table(
    "ended_sessions",
    metadata,
    sa.Column("session_digest", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.Integer, sa.ForeignKey("api_keys.key_id"), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# The first response to each money-moving HTTP request, by its Idempotency-Key.
idempotent_responses = sa.Table(
    "idempotent_responses",
    metadata,
    sa.Column("idempotency_key", sa.String(128), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("request", sa.String(300), nullable=False),
    sa.Column("status_code", sa.SmallInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)
