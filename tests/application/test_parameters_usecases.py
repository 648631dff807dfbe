"""A new parameter version is audited and in force for the next operation."""

import pytest

from creditlink.application.parameters import (
    current_parameters,
    parameter_history,
    parameter_set,
    set_parameters,
)
from creditlink.bootstrap import Book
from creditlink.domain.errors import InvalidInput, NotFound
from tests.conftest import CLOCK


def test_a_change_is_a_new_audited_version(book: Book) -> None:
    after = set_parameters(
        book.store.unit_of_work(),
        changes={"linkage.restrict_dpd": "5"},
        actor="risk.officer",
        reason="tighten after review",
        clock=CLOCK,
    )
    assert after.version == 2
    with book.store.reader() as uow:
        assert current_parameters(uow).values.linkage_restrict_dpd == 5
        [audit] = uow.audit.recent(limit=1)
    assert audit.actor == "risk.officer"
    assert audit.reason == "tighten after review"
    assert audit.details["diff"] == {"linkage.restrict_dpd": {"before": "4", "after": "5"}}
    history = parameter_history(book.store.reader())
    assert [(item.version, item.reason) for item in history] == [
        (1, "initial defaults"),
        (2, "tighten after review"),
    ]
    assert parameter_set(book.store.reader(), version=1).values.linkage_restrict_dpd == 4


def test_bad_changes_write_nothing(book: Book) -> None:
    for changes, reason, error in [
        ({"nope": "1"}, "r", InvalidInput),  # a name sent is input (UNKNOWN_PARAMETER)
        ({"apr_cap": "2"}, "r", InvalidInput),
        ({"apr_cap": "0.2"}, "  ", InvalidInput),
    ]:
        with pytest.raises(error):
            set_parameters(
                book.store.unit_of_work(), changes=changes, actor="a", reason=reason, clock=CLOCK
            )
    assert [item.version for item in parameter_history(book.store.reader())] == [1]
    with pytest.raises(NotFound):
        parameter_set(book.store.reader(), version=7)


def test_a_change_to_what_the_close_judges_by_wakes_every_account_at_the_next_close(
    book: Book,
) -> None:
    """Accounts wake at their next due date or threshold, worked out under the values of
    their last visit; a change to those values must reach them at the next close instead."""
    from datetime import date

    from creditlink.domain.products import Product
    from tests.conftest import DAY, add_customer, spend

    for customer in ("c1", "c2"):
        add_customer(book.store, customer)
    spend(book.store, "c1", Product.PAYLATER, 10_000, "k1")  # wakes on its statement's eve
    with book.store.reader() as uow:
        assert uow.paylater.due(DAY, limit=10) == []
    set_parameters(
        book.store.unit_of_work(),
        changes={"rules.exposure_cap": "60000.00"},  # judged per operation: nothing wakes
        actor="risk.officer",
        reason="cap",
        clock=CLOCK,
    )
    with book.store.reader() as uow:
        assert uow.paylater.due(date(2026, 1, 30), limit=10) == []
    set_parameters(
        book.store.unit_of_work(),
        changes={"linkage.restrict_dpd": "2"},
        actor="risk.officer",
        reason="tighten",
        clock=CLOCK,
    )
    with book.store.reader() as uow:
        # The book never closed a date: the next close is the clock's today's.
        assert uow.paylater.due(CLOCK.today(), limit=10) == ["c1"]  # c2 has nothing to wake for


def _multiplier(book: Book, value: str, reason: str) -> None:
    set_parameters(
        book.store.unit_of_work(),
        changes={"loan.penalty_multiplier": value},
        actor="risk.officer",
        reason=reason,
        clock=CLOCK,
    )


def test_a_version_prices_from_the_first_close_after_it_is_stored(book: Book) -> None:
    """DOMAIN.md §6: a change applies from the next operation, EOD included. A version
    stored while D is open prices D's close on; one stored while D closes (the early-warning
    tightening) prices D + 1 on, since D's close read its parameters when it began."""
    from datetime import date
    from decimal import Decimal

    from creditlink.application.parameters import penalty_multiplier, store_version

    _multiplier(book, "1.6", "before any close")  # no day priced yet: from the start
    with book.store.unit_of_work() as uow:
        uow.eod.mark_closed(date(2026, 1, 5), at=CLOCK.now(), summary={})
        uow.commit()
    _multiplier(book, "2.0", "open on 6 Jan")
    with book.store.unit_of_work() as uow:
        uow.eod.mark_closing(date(2026, 1, 6), at=CLOCK.now())
        before = current_parameters(uow)
        after = before.changed({"loan.penalty_multiplier": "2.5"})
        store_version(uow, after, before=before, actor="system", reason="tightened", clock=CLOCK)
        uow.commit()
    history = parameter_history(book.store.reader())
    assert [(item.version, item.in_force_from) for item in history] == [
        (1, None),
        (2, None),
        (3, date(2026, 1, 6)),
        (4, date(2026, 1, 7)),
    ]
    with book.store.reader() as uow:
        rate = penalty_multiplier(uow)
    assert rate.first == Decimal("1.6")
    assert rate.steps == ((date(2026, 1, 6), Decimal("2.0")), (date(2026, 1, 7), Decimal("2.5")))
    # 4 and 5 Jan at 1.6, 6 Jan at 2.0, 7 and 8 Jan at 2.5.
    assert rate.over(date(2026, 1, 4), date(2026, 1, 9)) == Decimal("10.2")


def test_a_version_rolled_back_is_forgotten(book: Book) -> None:
    """A store keeps versions it has read, for every later unit of work: one that a unit of
    work added and then rolled back must not stay there, when another writer may store a
    different version under its number."""
    from decimal import Decimal

    from creditlink.application.parameters import penalty_multiplier, store_version
    from tests.conftest import DAY

    with book.store.unit_of_work() as uow:
        before = current_parameters(uow)
        after = before.changed({"loan.penalty_multiplier": "3.0"})
        store_version(uow, after, before=before, actor="a", reason="never kept", clock=CLOCK)
        assert current_parameters(uow).values.loan_penalty_multiplier == Decimal("3.0")
        assert penalty_multiplier(uow).on(DAY) == Decimal("3.0")
        # no commit: rolled back
    _multiplier(book, "2.0", "kept")
    with book.store.reader() as uow:
        kept = current_parameters(uow)
        assert (kept.version, kept.values.loan_penalty_multiplier) == (2, Decimal("2.0"))
        assert penalty_multiplier(uow).on(DAY) == Decimal("2.0")
