"""Running a scenario: a fresh book, the customers, each date's operations in file order and
then that date's close, through the same use cases as every other edge."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from creditlink.adapters.clock import FixedClock
from creditlink.application import loans, paylater
from creditlink.application.close_of_day import close_day
from creditlink.application.customers import (
    change_limits,
    grant_temporary_limit,
    onboard_customer,
)
from creditlink.application.ledger import verify_ledger
from creditlink.application.parameters import set_parameters
from creditlink.application.queries import alerts, customer_state, decisions
from creditlink.bootstrap import Book, open_book
from creditlink.domain.customer import national_id_check_character
from creditlink.domain.errors import CreditlinkError
from creditlink.domain.loan.schedule import Method
from creditlink.simulation.scenario.expect import Failure, check
from creditlink.simulation.scenario.loader import Event, Scenario, ScenarioError
from creditlink.simulation.scenario.result import (
    alert_json,
    customer_json,
    decision_json,
    ledger_json,
)

ACTOR = "scenario"


@dataclass(frozen=True, slots=True)
class Outcome:
    result: dict[str, Any]
    failures: list[Failure]


def run(
    scenario: Scenario, *, db: str | None = None, on_day: Callable[[date], None] | None = None
) -> Outcome:
    """Run on the book at `db` (which must be new), or on a temporary SQLite book."""
    if db is not None:
        return _run(scenario, open_book(db, clock=_clock(scenario.start)), on_day)
    with tempfile.TemporaryDirectory(prefix="creditlink-scenario-") as folder:
        book = open_book(f"sqlite:///{Path(folder) / 'scenario.db'}", clock=_clock(scenario.start))
        try:
            return _run(scenario, book, on_day)
        finally:
            book.store.dispose()


def _clock(day: date) -> FixedClock:
    return FixedClock(datetime.combine(day, time(9), tzinfo=UTC))


def _run(scenario: Scenario, book: Book, on_day: Callable[[date], None] | None) -> Outcome:
    store = book.store
    with store.reader() as uow:
        if uow.customers.count() or uow.ledger.count():
            raise ScenarioError(
                scenario.path,
                None,
                "db",
                "the database already holds a book; a scenario runs on a fresh one",
            )
    clock = _clock(scenario.start)
    if scenario.parameters:
        set_parameters(
            store.unit_of_work(),
            changes=scenario.parameters,
            actor=ACTOR,
            reason=f"scenario {scenario.name}",
            clock=clock,
        )
    for number, customer in enumerate(scenario.customers, start=1):
        first_17 = f"110105{19900101 + number % 28:08d}{number % 1000:03d}"
        onboard_customer(
            store.unit_of_work(),
            customer_id=customer.id,
            name=customer.id,
            national_id=first_17 + national_id_check_character(first_17),
            mobile="13800138000",
            joint_limit_fen=customer.joint_limit_fen,
            cap_paylater_fen=customer.cap_paylater_fen,
            cap_loan_fen=customer.cap_loan_fen,
            on=scenario.start,
            actor=ACTOR,
            clock=clock,
            statement_day=customer.statement_day,
            loan_daily_rate=customer.loan_daily_rate,
        )
    by_date: dict[date, list[Event]] = {}
    for event in scenario.events:
        by_date.setdefault(event.on, []).append(event)
    day = scenario.start
    while day <= scenario.end:
        clock = _clock(day)
        for event in by_date.get(day, []):
            _apply(scenario, book, event, clock)
        close_day(store, on=day, clock=clock)
        if on_day is not None:
            on_day(day)
        day += timedelta(days=1)
    result = _result(scenario, book)
    return Outcome(result=result, failures=check(result, scenario.expect, scenario.expect_lines))


def _apply(scenario: Scenario, book: Book, event: Event, clock: FixedClock) -> None:
    f, key, on, who = event.fields, f"scenario:{event.index}", event.on, event.customer
    uow = book.store.unit_of_work()
    try:
        match event.op:
            case "purchase":
                paylater.purchase(
                    uow,
                    customer_id=who,
                    ref=f["ref"],
                    amount_fen=f["amount"],
                    merchant=f["merchant"],
                    category=f.get("category", "retail"),
                    on=on,
                    idempotency_key=key,
                    at=f.get("at"),
                )
            case "refund":
                paylater.refund(
                    uow,
                    customer_id=who,
                    purchase_ref=f["purchase"],
                    amount_fen=f["amount"],
                    on=on,
                    idempotency_key=key,
                )
            case "convert_installments":
                paylater.convert_to_installments(
                    uow,
                    customer_id=who,
                    plan_ref=f["ref"],
                    periods=f["periods"],
                    on=on,
                    idempotency_key=key,
                    purchase_ref=f.get("purchase"),
                    statement_date=f.get("statement"),
                )
            case "settle_installments":
                paylater.settle_installments(
                    uow, customer_id=who, plan_ref=f["plan"], on=on, idempotency_key=key
                )
            case "draw_loan":
                loans.draw_loan(
                    uow,
                    customer_id=who,
                    ref=f["ref"],
                    amount_fen=f["amount"],
                    term_months=f["term_months"],
                    method=Method.parse(f["method"]),
                    on=on,
                    idempotency_key=key,
                    at=f.get("at"),
                )
            case "repay" if f["product"] == "loan":
                amount = f["amount"]
                loans.repay_loan(
                    uow,
                    customer_id=who,
                    loan_ref=f["loan"],
                    on=on,
                    idempotency_key=key,
                    amount=paylater.Shortcut(amount) if isinstance(amount, str) else amount,
                )
            case "repay" if f["product"] == "paylater":
                amount = f["amount"]
                paylater.repay(
                    uow,
                    customer_id=who,
                    on=on,
                    idempotency_key=key,
                    amount=paylater.Shortcut(amount) if isinstance(amount, str) else amount,
                )
            case "set_limit":
                change_limits(
                    uow,
                    customer_id=who,
                    on=on,
                    actor=ACTOR,
                    reason=f.get("reason", "scenario"),
                    clock=clock,
                    joint_limit_fen=f.get("joint_limit"),
                    cap_paylater_fen=f.get("cap_paylater"),
                    cap_loan_fen=f.get("cap_loan"),
                )
            case "temp_limit":
                grant_temporary_limit(
                    uow,
                    customer_id=who,
                    amount_fen=f["amount"],
                    on=on,
                    expires_on=f["expires_on"],
                    actor=ACTOR,
                    reason=f.get("reason", "scenario"),
                    clock=clock,
                )
            case "set_parameter":
                set_parameters(
                    uow,
                    changes={f["name"]: f["value"]},
                    actor=ACTOR,
                    reason=f.get("reason", "scenario"),
                    clock=clock,
                )
            case _:  # the loader admits only the operations above
                raise AssertionError(event.op)
    except CreditlinkError as error:
        raise ScenarioError(
            scenario.path,
            event.line,
            error.field or "op",
            f"{event.op} was refused: {error.message} ({error.rule})",
        ) from None


def _result(scenario: Scenario, book: Book) -> dict[str, Any]:
    store = book.store
    customers = {}
    for customer in scenario.customers:
        state = customer_state(store.reader(), customer_id=customer.id, on=scenario.end)
        customers[customer.id] = customer_json(state)
    return {
        "scenario": scenario.name,
        "end": scenario.end.isoformat(),
        "customers": customers,
        "decisions": [decision_json(d) for d in decisions(store.reader())],
        "alerts": [alert_json(a) for a in alerts(store.reader()) if a.kind == "alert"],
        "recoveries": [alert_json(a) for a in alerts(store.reader()) if a.kind == "recovery"],
        "ledger": ledger_json(verify_ledger(store.reader())),
    }
