"""Ledger use cases: adjustments between the lender's own accounts, their reversal, and
`verify`, which checks every invariant of DOMAIN.md §7 and names what breaks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from creditlink.application.errors import EntryNotFound
from creditlink.application.idempotency import first_result
from creditlink.application.loans import expected_balances as loan_balances
from creditlink.application.paylater import expected_balances
from creditlink.application.ports import UnitOfWork
from creditlink.domain.errors import Conflict
from creditlink.domain.ledger import (
    GENESIS_HASH,
    EntryDraft,
    EntryKind,
    JournalEntry,
    Line,
    Side,
    reversal_of,
)
from creditlink.domain.loan.loan import Loan
from creditlink.domain.money import format_fen
from creditlink.domain.products import Product

PROBLEMS_SHOWN_MAX = 100


def post_adjustment(
    uow: UnitOfWork, *, lines: Sequence[Line], on: date, description: str, idempotency_key: str
) -> JournalEntry:
    """A manual entry between the lender's own accounts (funding, income, provisions).

    Customer accounts are moved only by the product operations that own them, so that the
    ledger and the product records never disagree.
    """
    for line in lines:
        if line.account.code.per_customer:
            raise Conflict(
                f"{line.account.name} is a customer account: it moves only through "
                "product operations",
                field="lines",
                rule="CUSTOMER_ACCOUNT_MANUAL",
            )
    draft = EntryDraft(
        idempotency_key=idempotency_key,
        business_date=on,
        kind=EntryKind.ADJUSTMENT,
        lines=tuple(lines),
        description=description,
    )
    with uow:
        replay = first_result(uow, draft)
        if replay is not None:
            return replay
        entry = uow.ledger.append(draft)
        uow.commit()
    return entry


def reverse_entry(
    uow: UnitOfWork, *, entry_id: int, on: date, reason: str, idempotency_key: str
) -> JournalEntry:
    """Undo an adjustment with an entry of swapped sides; an entry is reversed at most once."""
    with uow:
        original = uow.ledger.get(entry_id)
        if original is None:
            raise EntryNotFound(
                f"no journal entry {entry_id}", field="entry_id", rule="ENTRY_EXISTS"
            )
        draft = reversal_of(original, idempotency_key=idempotency_key, on=on, reason=reason)
        replay = first_result(uow, draft)
        if replay is not None:
            return replay
        if original.kind is not EntryKind.ADJUSTMENT:
            raise Conflict(
                f"entry {entry_id} is a {original.kind.value}: correct it through "
                "its product operation (refund, repayment), which keeps the "
                "product records in step",
                field="entry_id",
                rule="REVERSE_ADJUSTMENTS_ONLY",
            )
        already = uow.ledger.reversal_of(entry_id)
        if already is not None:
            raise Conflict(
                f"entry {entry_id} was already reversed by entry {already}",
                field="entry_id",
                rule="REVERSED_ONCE",
            )
        entry = uow.ledger.append(draft)
        uow.commit()
    return entry


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken invariant: which check, which entry or account, and what was found."""

    check: str
    subject: str
    message: str


@dataclass(slots=True, kw_only=True)
class LedgerReport:
    entries: int = 0
    unbalanced_entries: int = 0
    trial_balance_fen: int = 0
    chain_ok: bool = True
    balances_ok: bool = True
    receivables_ok: bool = True
    accounts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def balanced(self) -> bool:
        return self.unbalanced_entries == 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, check: str, subject: str, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < PROBLEMS_SHOWN_MAX:
            self.problems.append(Problem(check, subject, message))


def verify_ledger(uow: UnitOfWork) -> LedgerReport:
    """Check every entry balanced, the trial balance zero, the chain intact, each stored
    account balance equal to the sum of its entries, and each customer's receivables equal
    to what the product records say is owed."""
    report = LedgerReport()
    computed: dict[str, int] = {}
    by_customer: dict[tuple[str, str], int] = {}
    debit = Side.DEBIT.value
    with uow:
        previous_hash = GENESIS_HASH
        for stored in uow.ledger.scan():
            report.entries += 1
            subject = f"entry {stored.entry_id}"
            if stored.entry_id != report.entries:
                report.chain_ok = False
                report.add(
                    "chain",
                    subject,
                    f"expected entry {report.entries} here: entries are numbered without gaps",
                )
            if stored.previous_hash != previous_hash:
                report.chain_ok = False
                report.add("chain", subject, "does not link to the hash of the entry before it")
            if stored.recomputed_hash() != stored.hash:
                report.chain_ok = False
                report.add(
                    "chain",
                    subject,
                    "its content no longer matches its hash: the "
                    "entry was changed after it was posted",
                )
            previous_hash = stored.hash
            debits = credits = 0
            positive = True
            for line in stored.lines:
                amount = line.amount_fen
                positive = positive and amount > 0
                if line.side == debit:
                    signed = amount
                    debits += amount
                else:
                    signed = -amount
                    credits += amount
                computed[line.account] = computed.get(line.account, 0) + signed
                if line.customer_id is not None:
                    key = (line.customer_id, line.account)
                    by_customer[key] = by_customer.get(key, 0) + signed
            if debits != credits or not positive:
                report.unbalanced_entries += 1
                report.add(
                    "balanced",
                    subject,
                    f"debits {format_fen(debits)} differ from credits {format_fen(credits)}",
                )
        report.accounts = dict(sorted(computed.items()))
        report.trial_balance_fen = sum(computed.values())
        if report.trial_balance_fen != 0:
            report.add(
                "trial_balance",
                "all accounts",
                f"sums to {format_fen(report.trial_balance_fen)}, not 0.00",
            )
        _check_stored_balances(report, computed, dict(uow.ledger.stored_balances()))
        _check_receivables(report, by_customer, uow)
    return report


def _check_stored_balances(
    report: LedgerReport, computed: dict[str, int], stored: dict[str, int]
) -> None:
    for account in sorted(set(computed) | set(stored)):
        kept, summed = stored.get(account, 0), computed.get(account, 0)
        if kept != summed:
            report.balances_ok = False
            report.add(
                "account_balance",
                f"account {account}",
                f"stored balance {format_fen(kept)} differs from the sum of its "
                f"entries {format_fen(summed)}",
            )


def _check_receivables(
    report: LedgerReport, by_customer: dict[tuple[str, str], int], uow: UnitOfWork
) -> None:
    """Every customer account in the ledger must hold what the product records say: the
    PayLater account's principal, interest, fees and credit balance, and the loan principal
    the limit records. The limit's usage must equal the products' unpaid principal too."""
    expected: dict[tuple[str, str], int] = {}
    paylater_principal: dict[str, int] = {}
    for account in uow.paylater.all(read_only=True):
        for name, value in expected_balances(account).items():
            expected[(account.customer_id, name)] = value
        paylater_principal[account.customer_id] = account.principal_outstanding_fen()
    loans_by_customer: dict[str, list[Loan]] = {}
    for loan in uow.loans.all(read_only=True):
        loans_by_customer.setdefault(loan.customer_id, []).append(loan)
    for customer_id, loans in loans_by_customer.items():
        for name, value in loan_balances(loans).items():
            expected[(customer_id, name)] = value
    for customer_id, used_paylater, used_loan in uow.limits.all_usage():
        owed = {
            Product.PAYLATER: paylater_principal.get(customer_id, 0),
            Product.LOAN: sum(
                loan.outstanding_principal_fen() for loan in loans_by_customer.get(customer_id, [])
            ),
        }
        for product, used in ((Product.PAYLATER, used_paylater), (Product.LOAN, used_loan)):
            if used != owed[product]:
                report.receivables_ok = False
                report.add(
                    "receivables",
                    f"customer {customer_id}",
                    f"the limit counts {format_fen(used)} of {product.value} usage but "
                    f"the {product.value} records owe {format_fen(owed[product])} of "
                    "principal",
                )
    for key in sorted(set(expected) | set(by_customer)):
        customer_id, account_name = key
        in_ledger, in_records = by_customer.get(key, 0), expected.get(key, 0)
        if in_ledger != in_records:
            report.receivables_ok = False
            report.add(
                "receivables",
                f"customer {customer_id}",
                f"{account_name} is {format_fen(in_ledger)} in the ledger but the "
                f"product records say {format_fen(in_records)}",
            )
