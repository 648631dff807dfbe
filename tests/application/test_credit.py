"""Drawing on the joint limit: purchases and loan draws, idempotency keys, the ledger."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditlink.application.credit import draw_on_limit, repay_principal
from creditlink.application.customers import show_customer
from creditlink.application.errors import IdempotencyKeyReused
from creditlink.application.ledger import verify_ledger
from creditlink.application.paylater import purchase, repay
from creditlink.bootstrap import Book, memory_book
from creditlink.domain.errors import InvalidInput
from creditlink.domain.limits import LimitExceeded
from creditlink.domain.products import Product
from tests.conftest import CLOCK, DAY, add_customer


def draw(book: Book, amount: int, key: str, customer_id: str = "c1") -> object:
    return draw_on_limit(
        book.store.unit_of_work(),
        customer_id=customer_id,
        product=Product.LOAN,
        amount_fen=amount,
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
    drawn = draw_on_limit(
        book.store.unit_of_work(),
        customer_id="c1",
        product=Product.LOAN,
        amount_fen=1_200_000,
        on=DAY,
        idempotency_key="d1",
    )
    assert bought.approved
    assert bought.entry is not None
    assert [line.account.name for line in bought.entry.lines] == [
        "paylater.principal_receivable",
        "paylater.merchant_payable",
    ]
    assert [line.account.name for line in drawn.entry.lines] == [
        "loan.principal_receivable",
        "funding_cash",
    ]
    # Joint 20,000: 20,000 - 3,500 - 12,000 = 4,500 left for both products.
    assert drawn.available_fen == 450_000
    report = verify_ledger(book.store.reader())
    assert report.ok, report.problems
    assert report.accounts == {
        "funding_cash": -1_200_000,
        "loan.principal_receivable": 1_200_000,
        "paylater.merchant_payable": -350_000,
        "paylater.principal_receivable": 350_000,
    }


def test_a_declined_draw_posts_nothing(book: Book) -> None:
    add_customer(book.store, "c1", joint=100_000, cap_paylater=100_000)
    with pytest.raises(LimitExceeded):
        draw(book, 100_001, "d1")
    with book.store.reader() as uow:
        assert uow.ledger.count() == 0
        assert uow.limits.get("c1").used_loan_fen == 0


def test_paylater_principal_moves_only_through_the_paylater_account(book: Book) -> None:
    add_customer(book.store, "c1")
    with pytest.raises(InvalidInput) as raised:
        draw_on_limit(
            book.store.unit_of_work(),
            customer_id="c1",
            product=Product.PAYLATER,
            amount_fen=100,
            on=DAY,
            idempotency_key="x",
        )
    assert raised.value.rule == "PAYLATER_THROUGH_ITS_ACCOUNT"


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
        draw(book, 600_000, "d1")
    with book.store.reader() as uow:
        assert uow.ledger.count() == 1
        assert uow.limits.get("c1").used_loan_fen == 500_000


def test_repaying_principal_restores_the_limit(book: Book) -> None:
    add_customer(book.store, "c1")
    draw(book, 500_000, "d1")
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
    for customer_id, kind, amount, key in script:
        entry = None
        try:
            if kind == "purchase":
                result = purchase(
                    book.store.unit_of_work(),
                    customer_id=customer_id,
                    ref=key,
                    amount_fen=amount,
                    merchant="m",
                    category="retail",
                    on=DAY,
                    idempotency_key=key,
                )
                entry = result.entry
            elif kind == "draw":
                entry = draw_on_limit(
                    book.store.unit_of_work(),
                    customer_id=customer_id,
                    product=Product.LOAN,
                    amount_fen=amount,
                    on=DAY,
                    idempotency_key=key,
                ).entry
            elif kind == "repay_loan":
                entry = repay_principal(
                    book.store.unit_of_work(),
                    customer_id=customer_id,
                    product=Product.LOAN,
                    amount_fen=amount,
                    on=DAY,
                    idempotency_key=key,
                ).entry
            else:
                entry = repay(
                    book.store.unit_of_work(),
                    customer_id=customer_id,
                    amount=amount,
                    on=DAY,
                    idempotency_key=key,
                ).entry
        except (LimitExceeded, InvalidInput, IdempotencyKeyReused):
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
    assert report.trial_balance_fen == 0
