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
