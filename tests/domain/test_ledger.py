"""The double-entry ledger of DOMAIN.md §7, as pure rules."""

import hashlib
import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditlink.domain.errors import InvalidInput
from creditlink.domain.ledger import (
    GENESIS_HASH,
    Account,
    AccountCode,
    Balances,
    EntryDraft,
    EntryKind,
    Line,
    Side,
    UnbalancedEntry,
    canonical_draft,
    canonical_stored,
    chain,
    chart_of_accounts,
    credit,
    debit,
    reversal_of,
)
from creditlink.domain.money import AMOUNT_FEN_MAX
from creditlink.domain.products import Product

DAY = date(2026, 1, 5)
RECEIVABLE = Account(AccountCode.PRINCIPAL_RECEIVABLE, Product.PAYLATER)
PAYABLE = Account(AccountCode.MERCHANT_PAYABLE, Product.PAYLATER)
CASH = Account(AccountCode.FUNDING_CASH)


def draft(lines: tuple[Line, ...], key: str = "k1") -> EntryDraft:
    return EntryDraft(
        idempotency_key=key,
        business_date=DAY,
        kind=EntryKind.PURCHASE,
        lines=lines,
        customer_id="c1",
    )


def test_the_chart_has_every_account_of_the_rulebook_per_product() -> None:
    names = {account.name for account in chart_of_accounts()}
    assert "funding_cash" in names
    for product in ("paylater", "loan"):
        for code in (
            "principal_receivable",
            "installment_principal_receivable",
            "interest_receivable",
            "fee_receivable",
            "penalty_receivable",
            "merchant_payable",
            "customer_credit_balance",
            "interest_income",
            "fee_income",
            "penalty_income",
            "write_off_expense",
            "recovery_income",
            "loss_provision",
        ):
            assert f"{product}.{code}" in names
    assert len(names) == 1 + 2 * 13


def test_account_names_read_back() -> None:
    for account in chart_of_accounts():
        assert Account.parse(account.name) == account
    with pytest.raises(InvalidInput):
        Account.parse("paylater.petty_cash")


def test_an_unbalanced_entry_is_refused() -> None:
    with pytest.raises(UnbalancedEntry) as raised:
        draft((debit(RECEIVABLE, 100, "c1"), credit(PAYABLE, 99)))
    assert raised.value.rule == "ENTRY_BALANCED"


@pytest.mark.parametrize("amount", [0, -100])
def test_lines_carry_positive_amounts_with_a_side_not_a_sign(amount: int) -> None:
    with pytest.raises(UnbalancedEntry):
        draft((debit(RECEIVABLE, amount, "c1"), credit(PAYABLE, amount)))


def test_a_customer_account_needs_a_customer() -> None:
    with pytest.raises(UnbalancedEntry) as raised:
        draft((debit(RECEIVABLE, 100), credit(PAYABLE, 100)))
    assert raised.value.rule == "CUSTOMER_ACCOUNT"


def test_one_line_is_not_an_entry() -> None:
    with pytest.raises(UnbalancedEntry):
        draft((debit(RECEIVABLE, 100, "c1"),))


def test_the_hash_covers_the_content_and_the_previous_entry() -> None:
    first = chain(
        draft((debit(RECEIVABLE, 100, "c1"), credit(PAYABLE, 100))),
        entry_id=1,
        previous_hash=GENESIS_HASH,
    )
    second = chain(
        draft((debit(RECEIVABLE, 200, "c1"), credit(PAYABLE, 200)), key="k2"),
        entry_id=2,
        previous_hash=first.hash,
    )
    assert second.previous_hash == first.hash
    assert first.stored().recomputed_hash() == first.hash
    assert second.stored().recomputed_hash() == second.hash
    again = chain(
        draft((debit(RECEIVABLE, 200, "c1"), credit(PAYABLE, 200)), key="k2"),
        entry_id=2,
        previous_hash=GENESIS_HASH,
    )
    assert again.hash != second.hash


def test_a_reversal_swaps_every_side() -> None:
    entry = chain(
        draft((debit(CASH, 100), credit(PAYABLE, 100))), entry_id=1, previous_hash=GENESIS_HASH
    )
    undo = reversal_of(entry, idempotency_key="r1", on=DAY, reason="typo")
    assert undo.kind is EntryKind.REVERSAL
    assert undo.reverses_entry_id == 1
    assert [(line.account, line.side) for line in undo.lines] == [
        (CASH, Side.CREDIT),
        (PAYABLE, Side.DEBIT),
    ]
    balances = Balances()
    balances.add(entry.lines)
    balances.add(undo.lines)
    assert all(value == 0 for value in balances.by_account.values())
    with pytest.raises(InvalidInput):
        reversal_of(entry, idempotency_key="r2", on=date(2026, 1, 4), reason="before it")


ACCOUNTS = chart_of_accounts()


@st.composite
def balanced_lines(draw: st.DrawFn) -> tuple[Line, ...]:
    """Any number of debits and credits over any accounts that add up to the same total."""
    debits = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=6))
    total = sum(debits)
    cuts = sorted(
        draw(st.lists(st.integers(1, total - 1), max_size=5, unique=True)) if total > 1 else []
    )
    credits = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    lines = []
    for amount, side in [(a, Side.DEBIT) for a in debits] + [(a, Side.CREDIT) for a in credits]:
        account = draw(st.sampled_from(ACCOUNTS))
        customer = draw(st.sampled_from(["c1", "c2"])) if account.code.per_customer else None
        lines.append(Line(account, side, amount, customer))
    return tuple(draw(st.permutations(lines)))


@given(st.lists(balanced_lines(), min_size=1, max_size=30))
def test_any_sequence_of_valid_postings_keeps_the_trial_balance_at_zero(
    postings: list[tuple[Line, ...]],
) -> None:
    balances = Balances()
    previous = GENESIS_HASH
    for number, lines in enumerate(postings, start=1):
        entry = chain(draft(lines, key=f"k{number}"), entry_id=number, previous_hash=previous)
        debits = sum(line.amount_fen for line in entry.lines if line.side is Side.DEBIT)
        credits = sum(line.amount_fen for line in entry.lines if line.side is Side.CREDIT)
        assert debits == credits
        balances.add(entry.lines)
        assert balances.trial_balance_fen == 0
        assert entry.stored().recomputed_hash() == entry.hash
        previous = entry.hash
    per_customer = sum(balances.by_customer.values())
    customer_accounts = sum(
        value for account, value in balances.by_account.items() if account.code.per_customer
    )
    assert per_customer == customer_accounts


# Posting writes an entry's canonical text directly; it must be json's, byte for byte.
_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)  # no lone surrogates


@given(
    key=st.text(min_size=1, max_size=20).filter(lambda k: len(k) <= 128),
    description=_TEXT,
    customer=st.none() | _TEXT,
    reverses=st.none() | st.integers(min_value=1, max_value=10**12),
    amount=st.integers(min_value=1, max_value=AMOUNT_FEN_MAX),
    entry_id=st.integers(min_value=1, max_value=10**12),
    day=st.dates(),
)
def test_the_canonical_text_of_a_posting_is_jsons(
    key: str,
    description: str,
    customer: str | None,
    reverses: int | None,
    amount: int,
    entry_id: int,
    day: date,
) -> None:
    cash = Account(AccountCode.FUNDING_CASH)
    receivable = Account(AccountCode.PRINCIPAL_RECEIVABLE, Product.PAYLATER)
    draft = EntryDraft(
        idempotency_key=key,
        business_date=day,
        kind=EntryKind.PURCHASE,
        lines=(debit(receivable, amount, customer or "c1"), credit(cash, amount)),
        customer_id=customer,
        description=description,
        reverses_entry_id=reverses,
    )
    expected = json.dumps(
        {"entry_id": entry_id, **draft.content()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    assert canonical_draft(draft, entry_id) == expected
    entry = chain(draft, entry_id=entry_id, previous_hash=GENESIS_HASH)
    assert canonical_stored(entry.stored()) == expected
    assert entry.hash == hashlib.sha256(f"{GENESIS_HASH}\n{expected}".encode("ascii")).hexdigest()
    assert entry.stored().recomputed_hash() == entry.hash
