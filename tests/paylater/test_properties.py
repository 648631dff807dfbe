"""Random PayLater histories through the real use cases and the real close of day."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from creditlink.application import paylater
from creditlink.application.close_of_day import close_day
from creditlink.application.ledger import verify_ledger
from creditlink.application.queries import customer_state
from creditlink.bootstrap import memory_book
from creditlink.domain.errors import CreditlinkError
from tests.conftest import CLOCK, add_customer

START = date(2026, 1, 1)
DAYS = 130

op = st.one_of(
    st.tuples(
        st.just("purchase"),
        st.integers(1, 700_000),
        st.sampled_from(["retail", "travel", "gambling"]),
    ),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 300_000)),
    st.tuples(
        st.just("repay"),
        st.sampled_from(["minimum", "due", "all", "amount"]),
        st.integers(1, 400_000),
    ),
    st.tuples(st.just("convert_purchase"), st.integers(0, 20), st.sampled_from([3, 6, 9, 12])),
    st.tuples(st.just("convert_statement"), st.sampled_from([3, 6, 9, 12]), st.just(0)),
    st.tuples(st.just("settle"), st.integers(0, 5), st.just(0)),
)
history = st.lists(st.tuples(st.integers(0, DAYS - 1), op), max_size=40)


def apply(
    book: object,
    number: int,
    day: date,
    step: tuple[Any, ...],
    purchases: list[str],
    plans: list[str],
) -> None:
    store = book.store  # type: ignore[attr-defined]
    kind = step[0]
    key = f"op{number}"
    uow = store.unit_of_work()
    if kind == "purchase":
        before = customer_state(store.reader(), customer_id="c1", on=day).limit
        result = paylater.purchase(
            uow,
            customer_id="c1",
            ref=key,
            amount_fen=int(step[1]),
            merchant="m",
            category=str(step[2]),
            on=day,
            idempotency_key=key,
        )
        after = customer_state(store.reader(), customer_id="c1", on=day).limit
        if result.approved:
            purchases.append(key)
            t = before.temporary_fen(day)
            assert after.used_paylater_fen <= before.cap_paylater_fen + t
            assert after.used_fen <= before.joint_limit_fen + t
    elif kind == "refund" and purchases:
        ref = purchases[int(step[1]) % len(purchases)]
        paylater.refund(
            uow,
            customer_id="c1",
            purchase_ref=ref,
            amount_fen=int(step[2]),
            on=day,
            idempotency_key=key,
        )
    elif kind == "repay":
        amount: int | paylater.Shortcut = (
            int(step[2]) if step[1] == "amount" else paylater.Shortcut(step[1])
        )
        paylater.repay(uow, customer_id="c1", amount=amount, on=day, idempotency_key=key)
    elif kind == "convert_purchase" and purchases:
        ref = purchases[int(step[1]) % len(purchases)]
        converted = paylater.convert_to_installments(
            uow,
            customer_id="c1",
            plan_ref=key,
            periods=int(step[2]),
            on=day,
            idempotency_key=key,
            purchase_ref=ref,
        )
        if converted.plan is not None:
            plans.append(key)
    elif kind == "convert_statement":
        state = customer_state(store.reader(), customer_id="c1", on=day).paylater
        if state.statements:
            converted = paylater.convert_to_installments(
                uow,
                customer_id="c1",
                plan_ref=key,
                periods=int(step[1]),
                on=day,
                idempotency_key=key,
                statement_date=state.statements[-1].statement_date,
            )
            if converted.plan is not None:
                plans.append(key)
    elif kind == "settle" and plans:
        paylater.settle_installments(
            uow,
            customer_id="c1",
            plan_ref=plans[int(step[1]) % len(plans)],
            on=day,
            idempotency_key=key,
        )


@settings(deadline=None)
@given(history)
def test_every_statement_adds_up_and_the_ledger_verifies(
    script: list[tuple[int, tuple[Any, ...]]],
) -> None:
    book = memory_book(clock=CLOCK)
    add_customer(book.store, "c1", joint=1_000_000, cap_paylater=800_000, sequence=1)
    purchases: list[str] = []
    plans: list[str] = []
    by_day: dict[int, list[tuple[Any, ...]]] = {}
    for offset, step in script:
        by_day.setdefault(offset, []).append(step)
    number = 0
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        for step in by_day.get(offset, []):
            number += 1
            # Refused operations (too large a refund, a billed purchase) change nothing.
            with contextlib.suppress(CreditlinkError):
                apply(book, number, day, step, purchases, plans)
        close_day(book.store, on=day, clock=CLOCK)
    end = START + timedelta(days=DAYS - 1)
    state = customer_state(book.store.reader(), customer_id="c1", on=end)
    previous = 0
    for statement in state.paylater.statements:
        assert statement.previous_balance_fen == previous
        assert statement.new_balance_fen == (
            statement.previous_balance_fen
            + statement.purchases_fen
            - statement.refunds_fen
            + statement.installments_billed_fen
            + statement.interest_fen
            - statement.payments_fen
            - statement.converted_fen
        )
        assert 0 <= statement.minimum_payment_fen <= max(0, statement.new_balance_fen)
        previous = statement.new_balance_fen
    for plan in state.paylater.plans.values():
        assert sum(i.principal_fen for i in plan.installments) == plan.principal_fen
        assert sum(i.fee_fen for i in plan.installments) == plan.fee_fen
    assert state.limit.used_paylater_fen == state.paylater.principal_outstanding_fen()
    if state.paylater.statements:
        # What the statements say is still due covers every billed amount unpaid: nothing
        # (a refund of unbilled principal, say) may count toward a statement without paying it.
        due = state.paylater.statements[-1].amount_still_due_fen
        assert due >= state.paylater.billed_due_fen()
    report = verify_ledger(book.store.reader())
    assert report.ok, report.problems
