"""Purchases and loan draws on one joint limit: decisions, keys, usage, the ledger."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditlink.application.customers import show_customer
from creditlink.application.decisions import record_decision
from creditlink.application.errors import IdempotencyKeyReused
from creditlink.application.ledger import verify_ledger
from creditlink.application.loans import draw_loan, repay_loan
from creditlink.application.parameters import current_parameters
from creditlink.application.paylater import Shortcut, convert_to_installments, purchase, repay
from creditlink.bootstrap import Book, memory_book
from creditlink.domain.errors import CreditlinkError
from creditlink.domain.loan.schedule import Method
from creditlink.risk.decisions import Context, Outcome, Verdict
from tests.conftest import CLOCK, DAY, add_customer


def draw(book: Book, amount: int, key: str, customer_id: str = "c1") -> object:
    return draw_loan(
        book.store.unit_of_work(),
        customer_id=customer_id,
        ref=key,
        amount_fen=amount,
        term_months=6,
        method=Method.EQUAL_INSTALLMENT,
        on=DAY,
        idempotency_key=key,
    )


def test_a_purchase_and_a_draw_post_balanced_entries_and_share_the_limit(book: Book) -> None:
    add_customer(book.store, "c1")
    bought = purchase(
        book.store.unit_of_work(),
        customer_id="c1",
        ref="p1",
        amount_fen=350_000,
        merchant="m1",
        category="electronics",
        on=DAY,
        idempotency_key="p1",
    )
    drawn = draw_loan(
        book.store.unit_of_work(),
        customer_id="c1",
        ref="L1",
        amount_fen=1_200_000,
        term_months=12,
        method=Method.EQUAL_INSTALLMENT,
        on=DAY,
        idempotency_key="d1",
    )
    assert bought.approved
    assert drawn.approved
    assert bought.entry is not None
    assert drawn.entry is not None
    assert [line.account.name for line in bought.entry.lines] == [
        "paylater.principal_receivable",
        "paylater.merchant_payable",
    ]
    assert [line.account.name for line in drawn.entry.lines] == [
        "loan.principal_receivable",
        "funding_cash",
    ]
    # Joint 20,000: 20,000 - 3,500 - 12,000 = 4,500 left for both products.
    view = show_customer(book.store.reader(), customer_id="c1", on=DAY)
    assert view.available_paylater_fen == view.available_loan_fen == 450_000
    report = verify_ledger(book.store.reader())
    assert report.ok, report.problems


def test_a_declined_draw_is_recorded_and_posts_nothing(book: Book) -> None:
    add_customer(book.store, "c1", joint=100_000, cap_paylater=100_000)
    declined = draw_loan(
        book.store.unit_of_work(),
        customer_id="c1",
        ref="L1",
        amount_fen=40_000,
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
        on=DAY,
        idempotency_key="d1",
    )
    assert declined.decision.reasons == ("BELOW_LOAN_MINIMUM",)
    too_big = draw(book, 100_001, "d2")
    assert too_big.decision.reasons == ("LIMIT_EXCEEDED",)  # type: ignore[attr-defined]
    with book.store.reader() as uow:
        assert uow.ledger.count() == 0
        assert uow.limits.get("c1").used_loan_fen == 0
        assert [d.outcome for d in uow.decisions.list()] == ["DECLINE", "DECLINE"]


def test_a_replayed_key_returns_the_first_result_and_posts_nothing(book: Book) -> None:
    add_customer(book.store, "c1")
    first = draw(book, 500_000, "d1")
    again = draw(book, 500_000, "d1")
    assert again.replayed  # type: ignore[attr-defined]
    assert again.entry == first.entry  # type: ignore[attr-defined]
    with pytest.raises(IdempotencyKeyReused):
        purchase(
            book.store.unit_of_work(),
            customer_id="c1",
            ref="p9",
            amount_fen=100,
            merchant="m",
            category="retail",
            on=DAY,
            idempotency_key="d1",
        )
    with book.store.reader() as uow:
        assert uow.ledger.count() == 1
        assert uow.limits.get("c1").used_loan_fen == 500_000


def _buy(book: Book, customer_id: str, amount: int, key: str, merchant: str = "m1") -> object:
    return purchase(
        book.store.unit_of_work(),
        customer_id=customer_id,
        ref="p1",
        amount_fen=amount,
        merchant=merchant,
        category="retail",
        on=DAY,
        idempotency_key=key,
    )


def test_a_key_with_the_same_ref_but_another_amount_or_term_is_refused_not_replayed(
    book: Book,
) -> None:
    add_customer(book.store, "c1")
    _buy(book, "c1", 110_000, "k1")
    # Replaying the first decision would answer 1,500.00 approved with 1,100.00 posted.
    for amount, merchant in ((150_000, "m1"), (110_000, "elsewhere")):
        with pytest.raises(IdempotencyKeyReused):
            _buy(book, "c1", amount, "k1", merchant)
    assert _buy(book, "c1", 110_000, "k1").replayed  # type: ignore[attr-defined]
    draw(book, 500_000, "d1")
    with pytest.raises(IdempotencyKeyReused):
        draw_loan(
            book.store.unit_of_work(),
            customer_id="c1",
            ref="d1",
            amount_fen=500_000,
            term_months=3,
            method=Method.EQUAL_INSTALLMENT,
            on=DAY,
            idempotency_key="d1",
        )
    with pytest.raises(IdempotencyKeyReused):
        convert_to_installments(
            book.store.unit_of_work(),
            customer_id="c1",
            plan_ref="pl",
            periods=3,
            on=DAY,
            idempotency_key="k1",
            purchase_ref="p1",
        )
    with book.store.reader() as uow:
        assert uow.ledger.count() == 2
        assert uow.limits.get("c1").used_paylater_fen == 110_000
        assert uow.limits.get("c1").used_loan_fen == 500_000


def test_a_key_stored_first_by_a_concurrent_decision_is_refused_as_reused(book: Book) -> None:
    """Two customers' requests under one key run under two locks, so neither sees the
    other's decision before storing its own; the second to store meets the unique key (on
    PostgreSQL, once the first commits) and is refused as a reused key, not an error."""
    add_customer(book.store, "c1")
    add_customer(book.store, "c2")
    _buy(book, "c1", 10_000, "shared")
    with book.store.unit_of_work() as uow, pytest.raises(IdempotencyKeyReused):
        record_decision(
            uow,
            on=DAY,
            customer_id="c2",
            op="purchase",
            ref="p1",
            verdict=Verdict(outcome=Outcome.APPROVE, reasons=()),
            parameters=current_parameters(uow),
            key="shared",
            request="r",
            posted=False,
            context=Context(op="purchase"),
            shadow=None,
            model_version=None,
        )
    with book.store.reader() as uow:
        assert [d.customer_id for d in uow.decisions.list()] == ["c1"]


def test_repaying_loan_principal_restores_the_limit(book: Book) -> None:
    add_customer(book.store, "c1")
    draw(book, 500_000, "L1")
    repaid = repay_loan(
        book.store.unit_of_work(),
        customer_id="c1",
        loan_ref="L1",
        amount=Shortcut.ALL,
        on=date(2026, 1, 5),
        idempotency_key="r1",
    )
    assert repaid.amount_fen == 500_000  # drawn and repaid the same day: no interest
    view = show_customer(book.store.reader(), customer_id="c1", on=DAY)
    assert view.limit.used_loan_fen == 0
    assert verify_ledger(book.store.reader()).ok


operations = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2"]),
        st.sampled_from(["purchase", "draw", "repay_loan", "repay_paylater"]),
        st.integers(min_value=1, max_value=900_000),
        st.sampled_from([f"k{i}" for i in range(8)]),
    ),
    max_size=25,
)


@given(operations)
def test_random_operations_never_exceed_a_limit_and_keys_never_post_twice(
    script: list[tuple[str, str, int, str]],
) -> None:
    book = memory_book(clock=CLOCK)
    add_customer(
        book.store, "c1", joint=1_000_000, cap_paylater=800_000, cap_loan=600_000, sequence=1
    )
    add_customer(
        book.store, "c2", joint=500_000, cap_paylater=500_000, cap_loan=500_000, sequence=2
    )
    posted: dict[str, object] = {}
    loans: list[tuple[str, str]] = []
    for customer_id, kind, amount, key in script:
        entry = None
        try:
            if kind == "purchase":
                entry = purchase(
                    book.store.unit_of_work(),
                    customer_id=customer_id,
                    ref=key,
                    amount_fen=amount,
                    merchant="m",
                    category="retail",
                    on=DAY,
                    idempotency_key=key,
                ).entry
            elif kind == "draw":
                result = draw_loan(
                    book.store.unit_of_work(),
                    customer_id=customer_id,
                    ref=key,
                    amount_fen=amount,
                    term_months=3,
                    method=Method.EQUAL_PRINCIPAL,
                    on=DAY,
                    idempotency_key=key,
                )
                entry = result.entry
                if result.approved and not result.replayed:
                    loans.append((customer_id, key))
            elif kind == "repay_loan" and loans:
                owner, ref = loans[amount % len(loans)]
                entry = repay_loan(
                    book.store.unit_of_work(),
                    customer_id=owner,
                    loan_ref=ref,
                    amount=amount,
                    on=DAY,
                    idempotency_key=key,
                ).entry
            elif kind == "repay_paylater":
                entry = repay(
                    book.store.unit_of_work(),
                    customer_id=customer_id,
                    amount=amount,
                    on=DAY,
                    idempotency_key=key,
                ).entry
        except CreditlinkError:
            continue
        if entry is None:
            continue
        if key in posted:
            assert entry == posted[key], "a replayed key must return the first entry"
        else:
            posted[key] = entry
        for who in ("c1", "c2"):
            limit = show_customer(book.store.reader(), customer_id=who, on=DAY).limit
            assert limit.used_paylater_fen <= limit.cap_paylater_fen
            assert limit.used_loan_fen <= limit.cap_loan_fen
            assert limit.used_fen <= limit.joint_limit_fen
    with book.store.reader() as uow:
        assert uow.ledger.count() == len(posted)
    report = verify_ledger(book.store.reader())
    assert report.ok, report.problems
