"""The double-entry ledger (DOMAIN.md §7): chart of accounts, balanced journal entries in fen,
reversals and the hash chain.

Amounts are positive integers of fen with a side that is a type, never a sign: a debit and a
credit of the same account are two lines. An account's balance is debits minus credits
(debit-normal), so the trial balance over every account is zero when every entry balances.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from json.encoder import encode_basestring_ascii as _quote

from creditlink.domain.errors import InvalidInput
from creditlink.domain.money import AMOUNT_FEN_MAX, format_fen
from creditlink.domain.products import Product

GENESIS_HASH = "0" * 64
LINES_PER_ENTRY_MAX = 64


class Side(StrEnum):
    DEBIT = "D"
    CREDIT = "C"

    @property
    def opposite(self) -> Side:
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    INCOME = "income"
    EXPENSE = "expense"
    CONTRA_ASSET = "contra_asset"


class AccountCode(StrEnum):
    """The chart of accounts. Customer-level accounts are kept per customer (a sub-ledger)."""

    PRINCIPAL_RECEIVABLE = "principal_receivable"
    INSTALLMENT_PRINCIPAL_RECEIVABLE = "installment_principal_receivable"
    INTEREST_RECEIVABLE = "interest_receivable"
    FEE_RECEIVABLE = "fee_receivable"
    PENALTY_RECEIVABLE = "penalty_receivable"
    MERCHANT_PAYABLE = "merchant_payable"
    FUNDING_CASH = "funding_cash"
    CUSTOMER_CREDIT_BALANCE = "customer_credit_balance"
    INTEREST_INCOME = "interest_income"
    FEE_INCOME = "fee_income"
    PENALTY_INCOME = "penalty_income"
    WRITE_OFF_EXPENSE = "write_off_expense"
    RECOVERY_INCOME = "recovery_income"
    LOSS_PROVISION = "loss_provision"

    @property
    def account_type(self) -> AccountType:
        return _ACCOUNT_TYPES[self]

    @property
    def per_customer(self) -> bool:
        """Receivables and credit balances are owed by or to one customer."""
        return self in _PER_CUSTOMER

    @property
    def per_product(self) -> bool:
        """Funding cash is the lender's one bank account; everything else is per product."""
        return self is not AccountCode.FUNDING_CASH


_ACCOUNT_TYPES = {
    AccountCode.PRINCIPAL_RECEIVABLE: AccountType.ASSET,
    AccountCode.INSTALLMENT_PRINCIPAL_RECEIVABLE: AccountType.ASSET,
    AccountCode.INTEREST_RECEIVABLE: AccountType.ASSET,
    AccountCode.FEE_RECEIVABLE: AccountType.ASSET,
    AccountCode.PENALTY_RECEIVABLE: AccountType.ASSET,
    AccountCode.MERCHANT_PAYABLE: AccountType.LIABILITY,
    AccountCode.FUNDING_CASH: AccountType.ASSET,
    AccountCode.CUSTOMER_CREDIT_BALANCE: AccountType.LIABILITY,
    AccountCode.INTEREST_INCOME: AccountType.INCOME,
    AccountCode.FEE_INCOME: AccountType.INCOME,
    AccountCode.PENALTY_INCOME: AccountType.INCOME,
    AccountCode.WRITE_OFF_EXPENSE: AccountType.EXPENSE,
    AccountCode.RECOVERY_INCOME: AccountType.INCOME,
    AccountCode.LOSS_PROVISION: AccountType.CONTRA_ASSET,
}
RECEIVABLES = frozenset(
    {
        AccountCode.PRINCIPAL_RECEIVABLE,
        AccountCode.INSTALLMENT_PRINCIPAL_RECEIVABLE,
        AccountCode.INTEREST_RECEIVABLE,
        AccountCode.FEE_RECEIVABLE,
        AccountCode.PENALTY_RECEIVABLE,
    }
)
PRINCIPAL_RECEIVABLES = frozenset(
    {
        AccountCode.PRINCIPAL_RECEIVABLE,
        AccountCode.INSTALLMENT_PRINCIPAL_RECEIVABLE,
    }
)
_PER_CUSTOMER = RECEIVABLES | {AccountCode.CUSTOMER_CREDIT_BALANCE}


@dataclass(frozen=True, slots=True, order=True)
class Account:
    """A general-ledger account: a code, for one product where the code is per product."""

    code: AccountCode
    product: Product | None = None
    # `paylater.principal_receivable`, `loan.interest_income`, `funding_cash`: worked out once
    name: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        assert (self.product is not None) == self.code.per_product, self
        name = self.code.value if self.product is None else f"{self.product.value}.{self.code}"
        object.__setattr__(self, "name", name)

    @classmethod
    def parse(cls, name: str) -> Account:
        product_text, _, code_text = name.rpartition(".")
        try:
            code = AccountCode(code_text)
            product = Product(product_text) if product_text else None
            return cls(code, product)
        except (ValueError, AssertionError):
            raise InvalidInput(
                f"unknown account {name!r}", field="account", rule="CHART_OF_ACCOUNTS"
            ) from None


def chart_of_accounts() -> list[Account]:
    accounts: list[Account] = []
    for code in AccountCode:
        if code.per_product:
            accounts.extend(Account(code, product) for product in Product)
        else:
            accounts.append(Account(code))
    return accounts


@dataclass(frozen=True, slots=True)
class Line:
    """One side of an entry: a positive amount of fen to one account (and customer)."""

    account: Account
    side: Side
    amount_fen: int
    customer_id: str | None = None

    def __post_init__(self) -> None:
        assert type(self.amount_fen) is int, self

    def signed_fen(self) -> int:
        """Debit-normal: debits add to an account's balance, credits subtract."""
        return self.amount_fen if self.side is Side.DEBIT else -self.amount_fen


def debit(account: Account, amount_fen: int, customer_id: str | None = None) -> Line:
    return Line(account, Side.DEBIT, amount_fen, customer_id)


def credit(account: Account, amount_fen: int, customer_id: str | None = None) -> Line:
    return Line(account, Side.CREDIT, amount_fen, customer_id)


class EntryKind(StrEnum):
    PURCHASE = "purchase"
    LOAN_DRAW = "loan_draw"
    REPAYMENT = "repayment"
    REFUND = "refund"
    BILLING = "billing"
    WRITE_OFF = "write_off"
    RECOVERY = "recovery"
    LOSS_PROVISION = "loss_provision"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"


# The text of each side and kind (an enum's `.value` is a property, slow in a hot loop).
_SIDE_TEXT = {side: side.value for side in Side}
_KIND_TEXT = {kind: kind.value for kind in EntryKind}


class UnbalancedEntry(InvalidInput):
    code = "UNBALANCED_ENTRY"


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryDraft:
    """A journal entry before the ledger numbers and chains it."""

    idempotency_key: str
    business_date: date
    kind: EntryKind
    lines: tuple[Line, ...]
    customer_id: str | None = None
    description: str = ""
    reverses_entry_id: int | None = None

    def __post_init__(self) -> None:
        check_balanced(self.lines)
        if not self.idempotency_key or len(self.idempotency_key) > 128:
            raise InvalidInput(
                "must be 1-128 characters", field="idempotency_key", rule="IDEMPOTENCY_KEY_FORMAT"
            )

    def content(self) -> dict[str, object]:
        """What the hash covers and what a replay of the key must match."""
        return entry_content(
            idempotency_key=self.idempotency_key,
            business_date=self.business_date.isoformat(),
            kind=self.kind.value,
            customer_id=self.customer_id,
            description=self.description,
            reverses_entry_id=self.reverses_entry_id,
            lines=[
                StoredLine(line.account.name, line.side.value, line.amount_fen, line.customer_id)
                for line in self.lines
            ],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalEntry:
    """A posted entry: numbered without gaps in posting order, and chained by hash."""

    entry_id: int
    draft: EntryDraft
    previous_hash: str
    hash: str

    @property
    def lines(self) -> tuple[Line, ...]:
        return self.draft.lines

    @property
    def idempotency_key(self) -> str:
        return self.draft.idempotency_key

    @property
    def business_date(self) -> date:
        return self.draft.business_date

    @property
    def kind(self) -> EntryKind:
        return self.draft.kind

    def stored(self) -> StoredEntry:
        draft = self.draft
        return StoredEntry(
            entry_id=self.entry_id,
            idempotency_key=draft.idempotency_key,
            business_date=draft.business_date.isoformat(),
            kind=_KIND_TEXT[draft.kind],
            customer_id=draft.customer_id,
            description=draft.description,
            reverses_entry_id=draft.reverses_entry_id,
            lines=tuple(
                StoredLine(
                    line.account.name, _SIDE_TEXT[line.side], line.amount_fen, line.customer_id
                )
                for line in draft.lines
            ),
            previous_hash=self.previous_hash,
            hash=self.hash,
        )


def check_balanced(lines: Sequence[Line]) -> None:
    """An entry has 2..64 lines of positive whole fen, and its debits equal its credits."""
    if not 2 <= len(lines) <= LINES_PER_ENTRY_MAX:
        raise UnbalancedEntry(
            f"an entry needs 2 to {LINES_PER_ENTRY_MAX} lines, got {len(lines)}",
            field="lines",
            rule="ENTRY_LINES",
        )
    debits = credits = 0
    for index, line in enumerate(lines):
        amount = line.amount_fen
        if not 0 < amount <= AMOUNT_FEN_MAX:
            raise UnbalancedEntry(
                f"line {index + 1} amount must be positive whole fen, got {amount}",
                field="amount",
                rule="AMOUNT_POSITIVE",
            )
        if line.customer_id is None and line.account.code in _PER_CUSTOMER:
            raise UnbalancedEntry(
                f"line {index + 1}: {line.account.name} is kept per customer and needs a customer",
                field="customer_id",
                rule="CUSTOMER_ACCOUNT",
            )
        if line.side is Side.DEBIT:
            debits += amount
        elif line.side is Side.CREDIT:
            credits += amount
    if debits != credits:
        raise UnbalancedEntry(
            f"debits {format_fen(debits)} differ from credits {format_fen(credits)}",
            field="lines",
            rule="ENTRY_BALANCED",
        )


@dataclass(frozen=True, slots=True)
class StoredLine:
    """A line exactly as the store holds it, before any validation."""

    account: str
    side: str
    amount_fen: int
    customer_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEntry:
    """An entry exactly as the store holds it: what `ledger verify` checks, so that a
    tampered row is reported, not refused on load."""

    entry_id: int
    idempotency_key: str
    business_date: str
    kind: str
    customer_id: str | None
    description: str
    reverses_entry_id: int | None
    lines: tuple[StoredLine, ...]
    previous_hash: str
    hash: str

    def recomputed_hash(self) -> str:
        return _sealed(self.previous_hash, canonical_stored(self))


def entry_content(
    *,
    idempotency_key: str,
    business_date: str,
    kind: str,
    customer_id: str | None,
    description: str,
    reverses_entry_id: int | None,
    lines: Sequence[StoredLine],
) -> dict[str, object]:
    return {
        "idempotency_key": idempotency_key,
        "business_date": business_date,
        "kind": kind,
        "customer_id": customer_id,
        "description": description,
        "reverses_entry_id": reverses_entry_id,
        "lines": [[line.account, line.side, line.amount_fen, line.customer_id] for line in lines],
    }


def _json_text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def _canonical(
    *,
    entry_id: int,
    idempotency_key: str,
    business_date: str,
    kind: str,
    customer_id: str | None,
    description: str,
    reverses_entry_id: int | None,
    lines: Iterable[tuple[str, str, int, str | None]],
) -> str:
    """`_CANONICAL.encode({"entry_id": …, **entry_content(…)})` written out directly for an
    entry's fixed shape: the same text (keys in sorted order, json's own ASCII escaping of
    strings), without building the dict first. A property test holds the two to the same
    bytes for any content, so hashes made before this function existed still verify."""
    written = ",".join(
        f"[{_quote(account)},{_quote(side)},{amount:d},{_json_text(customer)}]"
        for account, side, amount, customer in lines
    )
    reverses = "null" if reverses_entry_id is None else format(reverses_entry_id, "d")
    return (
        f'{{"business_date":{_quote(business_date)},'
        f'"customer_id":{_json_text(customer_id)},'
        f'"description":{_quote(description)},'
        f'"entry_id":{entry_id:d},'
        f'"idempotency_key":{_quote(idempotency_key)},'
        f'"kind":{_quote(kind)},'
        f'"lines":[{written}],'
        f'"reverses_entry_id":{reverses}}}'
    )


def canonical_draft(draft: EntryDraft, entry_id: int) -> str:
    """The canonical text a posting's hash covers."""
    return _canonical(
        entry_id=entry_id,
        idempotency_key=draft.idempotency_key,
        business_date=draft.business_date.isoformat(),
        kind=_KIND_TEXT[draft.kind],
        customer_id=draft.customer_id,
        description=draft.description,
        reverses_entry_id=draft.reverses_entry_id,
        lines=(
            (line.account.name, _SIDE_TEXT[line.side], line.amount_fen, line.customer_id)
            for line in draft.lines
        ),
    )


def canonical_stored(entry: StoredEntry) -> str:
    """The canonical text of an entry as stored, for `ledger verify`."""
    return _canonical(
        entry_id=entry.entry_id,
        idempotency_key=entry.idempotency_key,
        business_date=entry.business_date,
        kind=entry.kind,
        customer_id=entry.customer_id,
        description=entry.description,
        reverses_entry_id=entry.reverses_entry_id,
        lines=(
            (line.account, line.side, line.amount_fen, line.customer_id) for line in entry.lines
        ),
    )


def _sealed(previous_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode("ascii")).hexdigest()


def chain(draft: EntryDraft, *, entry_id: int, previous_hash: str) -> JournalEntry:
    """Number and seal a draft as the entry after the one whose hash is `previous_hash`."""
    assert entry_id >= 1, entry_id
    return JournalEntry(
        entry_id=entry_id,
        draft=draft,
        previous_hash=previous_hash,
        hash=_sealed(previous_hash, canonical_draft(draft, entry_id)),
    )


def reversal_of(entry: JournalEntry, *, idempotency_key: str, on: date, reason: str) -> EntryDraft:
    """The entry that undoes `entry`: the same lines with their sides swapped."""
    if entry.kind is EntryKind.REVERSAL:
        raise InvalidInput(
            f"entry {entry.entry_id} is itself a reversal; post a new entry instead",
            field="entry_id",
            rule="REVERSAL_OF_REVERSAL",
        )
    if on < entry.business_date:
        raise InvalidInput(
            f"must be on or after the entry's date {entry.business_date.isoformat()}",
            field="on",
            rule="REVERSAL_DATE",
        )
    lines = tuple(
        Line(line.account, line.side.opposite, line.amount_fen, line.customer_id)
        for line in entry.lines
    )
    return EntryDraft(
        idempotency_key=idempotency_key,
        business_date=on,
        kind=EntryKind.REVERSAL,
        lines=lines,
        customer_id=entry.draft.customer_id,
        description=f"reversal of entry {entry.entry_id}: {reason}",
        reverses_entry_id=entry.entry_id,
    )


@dataclass(slots=True)
class Balances:
    """Running balances per account and per (customer, account), debit-normal."""

    by_account: dict[Account, int] = field(default_factory=dict)
    by_customer: dict[tuple[str, Account], int] = field(default_factory=dict)

    def add(self, lines: Iterable[Line]) -> None:
        for line in lines:
            signed = line.signed_fen()
            self.by_account[line.account] = self.by_account.get(line.account, 0) + signed
            if line.customer_id is not None:
                key = (line.customer_id, line.account)
                self.by_customer[key] = self.by_customer.get(key, 0) + signed

    @property
    def trial_balance_fen(self) -> int:
        return sum(self.by_account.values())
