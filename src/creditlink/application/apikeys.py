"""API keys: who is calling the service, in which role, and for which customer.

A key is `cl_` and 43 characters of URL-safe randomness (256 bits), shown once when it is
made. Only its SHA-256 is stored: a key that random needs no salt or slow hash, because no
one can guess it, and a stored digest tells nothing about the key. Roles:

- `customer`: one customer's own data and operations (the key names the customer);
- `operator`: onboarding, operations on any customer, working the alert queue;
- `risk_admin`: all of that, and changing parameters;
- `auditor`: reads everything, changes nothing.

Which role may call what is decided at the edge (the HTTP routes); the core only says who
the caller is.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from creditlink.application.errors import CustomerNotFound
from creditlink.application.parameters import require_reason
from creditlink.application.ports import (
    ApiKeyRecord,
    AuditRecord,
    Clock,
    Store,
    StoredResponse,
    UnitOfWork,
)
from creditlink.domain.errors import Conflict, InvalidInput, NotFound

ROLES = ("customer", "operator", "risk_admin", "auditor")
KEY_PREFIX = "cl_"
KEY_LENGTH_MAX = 200  # anything longer is not one of ours, without asking the database
LABEL_LENGTH_MAX = 100


class ApiKeyNotFound(NotFound):
    code = "API_KEY_NOT_FOUND"

    def __init__(self, key_id: int):
        super().__init__(f"no API key {key_id}", field="key_id", rule="API_KEY_EXISTS")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who an authenticated request acts for."""

    key_id: int
    role: str
    customer_id: str | None

    @property
    def actor(self) -> str:
        """The name the audit log records for what this key does."""
        return f"apikey:{self.key_id}:{self.role}"


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    uow: UnitOfWork,
    *,
    role: str,
    customer_id: str | None,
    label: str,
    actor: str,
    clock: Clock,
) -> tuple[str, Principal]:
    """Make a key and return it (the only time it is seen) with the principal it stands for.
    A customer key names an existing customer; no other role names one."""
    if role not in ROLES:
        raise InvalidInput(
            f"must be one of {', '.join(ROLES)}, got {role!r}", field="role", rule="ROLE_KNOWN"
        )
    if role == "customer" and not customer_id:
        raise InvalidInput(
            "a customer key must name its customer",
            field="customer_id",
            rule="CUSTOMER_KEY_NAMES_CUSTOMER",
        )
    if role != "customer" and customer_id:
        raise InvalidInput(
            f"only a customer key names a customer, not a {role} key",
            field="customer_id",
            rule="ONLY_CUSTOMER_KEYS_NAME_CUSTOMER",
        )
    label = _label(label)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with uow:
        if customer_id is not None and not uow.customers.exists(customer_id):
            raise CustomerNotFound(customer_id)
        stored = uow.api_keys.add(
            ApiKeyRecord(
                key_id=0,
                digest=digest_of(key),
                role=role,
                customer_id=customer_id,
                label=label,
                created_at=clock.now(),
                created_by=actor,
            )
        )
        uow.audit.record(
            AuditRecord(
                at=stored.created_at,
                actor=actor,
                action="apikey.create",
                subject=f"apikey:{stored.key_id}",
                reason=label or "API key created",
                details={"role": role, "customer_id": customer_id, "label": label},
            )
        )
        uow.commit()
    return key, Principal(key_id=stored.key_id, role=role, customer_id=customer_id)


def authenticate(uow: UnitOfWork, key: str) -> Principal | None:
    """The principal a key stands for, or None for a key that is unknown or revoked."""
    return authenticate_and_find_response(uow, key, response_key=None)[0]


def authenticate_and_find_response(
    uow: UnitOfWork, key: str, *, response_key: str | None
) -> tuple[Principal | None, StoredResponse | None]:
    """`authenticate`, and in the same read the response kept under the Idempotency-Key
    `response_key` (None when there is none, or when the key does not authenticate): a
    money-moving request needs both before it runs, and one read costs one transaction."""
    if not key.startswith(KEY_PREFIX) or len(key) > KEY_LENGTH_MAX:
        return None, None
    digest = digest_of(key)
    with uow:
        stored = uow.api_keys.find_by_digest(digest)
        if stored is None or stored.revoked_at is not None:
            return None, None
        if not hmac.compare_digest(stored.digest, digest):  # the lookup matched; say so in time
            return None, None
        kept = None if response_key is None else uow.responses.find(response_key)
    principal = Principal(key_id=stored.key_id, role=stored.role, customer_id=stored.customer_id)
    return principal, kept


def revoke_api_key(
    uow: UnitOfWork, *, key_id: int, actor: str, reason: str, clock: Clock
) -> ApiKeyRecord:
    """Stop a key from working, at once and for good."""
    require_reason(reason, what="revoking an API key")
    with uow:
        stored = uow.api_keys.get(key_id)
        if stored is None:
            raise ApiKeyNotFound(key_id)
        if stored.revoked_at is not None:
            raise Conflict(
                f"API key {key_id} was already revoked", field="key_id", rule="API_KEY_ACTIVE"
            )
        at = clock.now()
        uow.api_keys.revoke(key_id, at=at)
        uow.audit.record(
            AuditRecord(
                at=at,
                actor=actor,
                action="apikey.revoke",
                subject=f"apikey:{key_id}",
                reason=reason,
                details={"role": stored.role, "customer_id": stored.customer_id},
            )
        )
        uow.commit()
    return dataclasses.replace(stored, revoked_at=at)


def end_session(
    uow: UnitOfWork, *, session_digest: str, key_id: int, expires_at: datetime, at: datetime
) -> None:
    """A dashboard session signed out at `at`: it stops working for good, even where its id
    was copied. Ended sessions that have expired by `at` are forgotten (they cannot be used
    any more), so the record stays as small as the sessions still alive."""
    with uow:
        uow.api_keys.forget_sessions_expired(at=at)
        if expires_at > at:
            uow.api_keys.end_session(session_digest, key_id=key_id, expires_at=expires_at)
        uow.commit()


def list_api_keys(uow: UnitOfWork) -> list[ApiKeyRecord]:
    with uow:
        return uow.api_keys.list()


def _label(text: str) -> str:
    label = " ".join(text.split())
    if len(label) > LABEL_LENGTH_MAX:
        raise InvalidInput(
            f"must be at most {LABEL_LENGTH_MAX} characters", field="label", rule="LABEL_LENGTH"
        )
    if any(not character.isprintable() for character in label):
        raise InvalidInput("must be printable characters only", field="label", rule="LABEL_FORMAT")
    return label


ANSWERS_KEPT_DAYS_MIN = 1
ANSWERS_KEPT_DAYS_MAX = 36_500  # a century: more is a typo, and past the calendar's reach
ANSWERS_FORGOTTEN_PER_TRANSACTION = 5_000


def forget_kept_answers(
    store: Store,
    *,
    older_than_days: int,
    actor: str,
    clock: Clock,
    batch_size: int = ANSWERS_FORGOTTEN_PER_TRANSACTION,
) -> int:
    """Drop the HTTP answers kept under Idempotency-Keys more than `older_than_days` ago, a
    batch per transaction, and record in the audit log how many: returns how many.

    Past that age a retry of a money-moving request is answered by its use case, which
    replays its own first outcome under the same key (the key stays spent in the ledger and
    the decisions; a plan is shown as it stands now); a retry of any other request runs
    again. So the retention is how long a client may retry a parameter change, an alert
    action or an onboarding and be sure it runs once."""
    if older_than_days < ANSWERS_KEPT_DAYS_MIN:
        raise InvalidInput(
            f"answers are kept at least {ANSWERS_KEPT_DAYS_MIN} day, not {older_than_days}",
            field="older_than_days",
            rule="ANSWERS_KEPT_DAYS_MIN",
        )
    if older_than_days > ANSWERS_KEPT_DAYS_MAX:
        raise InvalidInput(
            f"must be at most {ANSWERS_KEPT_DAYS_MAX:,} days, got {older_than_days:,}",
            field="older_than_days",
            rule="ANSWERS_KEPT_DAYS_MAX",
        )
    at = clock.now()
    before = at - timedelta(days=older_than_days)
    forgotten = 0
    while True:
        with store.unit_of_work() as uow:
            dropped = uow.responses.forget_kept_before(before, limit=batch_size)
            uow.commit()
        forgotten += dropped
        if dropped < batch_size:
            break
    with store.unit_of_work() as uow:
        uow.audit.record(
            AuditRecord(
                at=at,
                actor=actor,
                action="service.forget_answers",
                subject="idempotent_responses",
                reason=f"answers kept {older_than_days} days",
                details={"before": before.isoformat(), "forgotten": forgotten},
            )
        )
        uow.commit()
    return forgotten
