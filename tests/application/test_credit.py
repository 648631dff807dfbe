"""The posting core shared by purchases and draws: limits, keys, the ledger."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditlink.application.credit import draw_on_limit, repay_principal
from creditlink.application.customers import show_customer
from creditlink.application.errors import IdempotencyKeyReused
from creditlink.application.ledger import verify_ledger
from creditlink.bootstrap import Book, memory_book
from creditlink.domain.errors import InvalidInput
from creditlink.domain.limits import LimitExceeded
from creditlink.domain.products import Product
from tests.conftest import CLOCK, DAY, add_customer


def test_a_purchase_and_a_draw_post_balanced_entries_and_use_the_limit(book: Book) -> None:
    add_customer(book.store, "c1")
    purchase = draw_on_limit(
        book.store.unit_of_work(),
        customer_id="c1",
        product=Product.PAYLATER,
        amount_fen=350_000,
        on=DAY,
        idempotency_key="p1",
    )
    draw = draw_on_limit(
        book.store.unit_of_work(),
        customer_id="c1",
        product=Product.LOAN,
        amount_fen=1_200_000,
        on=DAY,
        idempotency_key="d1",
    )
    assert [line.account.name for line in purchase.entry.lines] == [
        "paylater.principal_receivable",
        "paylater.merchant_payable",
    ]
    assert [line.account.name for line in draw.entry.lines] == [
        "loan.principal_receivable",
        "funding_cash",
    ]
    assert draw.available_fen == 450_000
    report = verify_ledger(book.store.reader())
    assert report.ok, report.problems
    assert report.entries == 2
    assert report.accounts == {
        "funding_cash": -1_200_000,
        "loan.principal_receivable": 1_200_000,
        "paylater.merchant_payable": -350_000,
        "paylater.principal_receivable": 350_000,
    }


def test_a_declined_draw_posts_nothing(book: Book) -> None:
    add_customer(book.store, "c1", joint=100_000, cap_paylater=100_000)
    with pytest.raises(LimitExceeded):
        draw_on_limit(
            book.store.unit_of_work(),
            customer_id="c1",
            product=Product.LOAN,
            amount_fen=100_001,
            on=DAY,
            idempotency_key="d1",
        )
    with book.store.reader() as uow:
        assert uow.ledger.count() == 0
        assert uow.limits.get("c1").used_loan_fen == 0


def test_a_replayed_key_returns_the_first_result_and_posts_nothing(book: Book) -> None:
    add_customer(book.store, "c1")
    first = draw_on_limit(
        book.store.unit_of_work(),
        customer_id="c1",
        product=Product.LOAN,
        amount_fen=500_000,
        on=DAY,
        idempotency_key="d1",
    )
    again = draw_on_limit(
        book.store.unit_of_work(),
        customer_id="c1",
        product=Product.LOAN,
        amount_fen=500_000,
        on=DAY,
        idempotency_key="d1",
    )
    assert again.replayed
    assert again.entry == first.entry
    with pytest.raises(IdempotencyKeyReused):
        draw_on_limit(
            book.store.unit_of_work(),
            customer_id="c1",
            product=Product.LOAN,
            amount_fen=600_000,
            on=DAY,
            idempotency_key="d1",
        )
    with book.store.reader() as uow:
        assert uow.ledger.count() == 1
        assert uow.limits.get("c1").used_loan_fen == 500_000


def test_repaying_principal_restores_the_limit(book: Book) -> None:
    add_customer(book.store, "c1")
    draw_on_limit(
        book.store.unit_of_work(),
        customer_id="c1",
        product=Product.LOAN,
        amount_fen=500_000,
        on=DAY,
        idempotency_key="d1",
    )
    repaid = repay_principal(
        book.store.unit_of_work(),
        customer_id="c1",
        product=Product.LOAN,
        amount_fen=200_000,
        on=date(2026, 2, 5),
        idempotency_key="r1",
    )
    assert repaid.available_fen == 2_000_000 - 300_000
    with pytest.raises(InvalidInput) as raised:
        repay_principal(
            book.store.unit_of_work(),
            customer_id="c1",
            product=Product.LOAN,
            amount_fen=300_001,
            on=date(2026, 2, 5),
            idempotency_key="r2",
        )
    assert raised.value.rule == "REPAYMENT_ABOVE_OWED"
    assert verify_ledger(book.store.reader()).ok


operations = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2"]),
        st.sampled_from(list(Product)),
        st.integers(min_value=1, max_value=900_000),
        st.sampled_from([f"k{i}" for i in range(8)]),
        st.booleans(),
    ),
    max_size=25,
)


@given(operations)
def test_random_operations_never_exceed_a_limit_and_keys_never_post_twice(
    script: list[tuple[str, Product, int, str, bool]],
) -> None:
    book = memory_book(clock=CLOCK)
    add_customer(
        book.store, "c1", joint=1_000_000, cap_paylater=800_000, cap_loan=600_000, sequence=1
    )
    add_customer(
        book.store, "c2", joint=500_000, cap_paylater=500_000, cap_loan=500_000, sequence=2
    )
    first_by_key: dict[str, object] = {}
    for customer_id, product, amount, key, repay in script:
        try:
            if repay:
                result = repay_principal(
                    book.store.unit_of_work(),
                    customer_id=customer_id,
                    product=product,
                    amount_fen=amount,
                    on=DAY,
                    idempotency_key=key,
                )
            else:
                result = draw_on_limit(
                    book.store.unit_of_work(),
                    customer_id=customer_id,
                    product=product,
                    amount_fen=amount,
                    on=DAY,
                    idempotency_key=key,
                )
        except (LimitExceeded, InvalidInput, IdempotencyKeyReused) as refused:
            if isinstance(refused, IdempotencyKeyReused):
                assert key in first_by_key
            continue
        if key in first_by_key:
            assert result.replayed
            assert result.entry == first_by_key[key]
        else:
            assert not result.replayed
            first_by_key[key] = result.entry
        for who in ("c1", "c2"):
            limit = show_customer(book.store.reader(), customer_id=who, on=DAY).limit
            assert limit.used_paylater_fen <= limit.cap_paylater_fen
            assert limit.used_loan_fen <= limit.cap_loan_fen
            assert limit.used_fen <= limit.joint_limit_fen
    with book.store.reader() as uow:
        assert uow.ledger.count() == len(first_by_key)
    report = verify_ledger(book.store.reader())
    assert report.ok, report.problems
    assert report.trial_balance_fen == 0
