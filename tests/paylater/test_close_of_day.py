"""The close of day: in order, idempotent per date, and whole again after a real kill."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from creditlink.application import paylater
from creditlink.application.close_of_day import CLOSE_LOCK, DateOutOfOrder, close_day
from creditlink.application.ledger import verify_ledger
from creditlink.application.parameters import set_parameters
from creditlink.application.queries import customer_state
from creditlink.bootstrap import Book, open_book
from creditlink.domain.copies import clone
from creditlink.domain.errors import Conflict
from tests.conftest import CLOCK, add_customer


def buy(book: Book, customer_id: str, amount: int, on: date, key: str) -> None:
    result = paylater.purchase(
        book.store.unit_of_work(),
        customer_id=customer_id,
        ref=key,
        amount_fen=amount,
        merchant="m",
        category="retail",
        on=on,
        idempotency_key=key,
    )
    assert result.approved


def close_through(book: Book, first: date, last: date) -> None:
    day = first
    while day <= last:
        close_day(book.store, on=day, clock=CLOCK)
        day += timedelta(days=1)


def test_closing_a_date_twice_changes_nothing(book: Book) -> None:
    add_customer(book.store, "c1")
    buy(book, "c1", 100_000, date(2026, 1, 5), "p1")
    close_through(book, date(2026, 1, 5), date(2026, 1, 31))
    with book.store.reader() as uow:
        # A clone: its purchases are read now, inside the reader.
        entries, account = uow.ledger.count(), clone(uow.paylater.get("c1"))
    again = close_day(book.store, on=date(2026, 1, 31), clock=CLOCK)
    assert again.already_closed
    with book.store.reader() as uow:
        assert uow.ledger.count() == entries
        assert uow.paylater.get("c1") == account
    assert len(account.statements) == 1


def test_a_date_cannot_be_skipped_or_reopened(book: Book) -> None:
    add_customer(book.store, "c1")
    close_day(book.store, on=date(2026, 1, 5), clock=CLOCK)
    with pytest.raises(DateOutOfOrder) as raised:
        close_day(book.store, on=date(2026, 1, 7), clock=CLOCK)
    assert "2026-01-06" in str(raised.value)
    with pytest.raises(Conflict) as closed:
        buy(book, "c1", 100, date(2026, 1, 5), "late")
    assert closed.value.rule == "BUSINESS_DATE_CLOSED"
    # Only the open date takes operations: a later one would run before the closes (and
    # the restrictions they may raise) of the days in between.
    with pytest.raises(Conflict) as early:
        buy(book, "c1", 100, date(2026, 1, 7), "early")
    assert early.value.rule == "BUSINESS_DATE_NOT_OPEN"
    buy(book, "c1", 100, date(2026, 1, 6), "open")


def test_a_quiet_account_is_not_visited(book: Book) -> None:
    add_customer(book.store, "quiet", sequence=11)
    add_customer(book.store, "busy", sequence=12)
    buy(book, "busy", 100_000, date(2026, 1, 5), "p1")
    close_through(book, date(2026, 1, 5), date(2026, 1, 30))
    report = close_day(book.store, on=date(2026, 1, 31), clock=CLOCK)
    assert (report.accounts, report.statements) == (1, 1)
    quiet = close_day(book.store, on=date(2026, 2, 1), clock=CLOCK)
    assert quiet.accounts == 0


def _snapshot(path: Path) -> tuple[object, ...]:
    with sqlite3.connect(path) as connection:
        documents = connection.execute(
            "SELECT customer_id, document, next_wake_on, closed_through FROM paylater_accounts "
            "ORDER BY customer_id"
        ).fetchall()
        chain = connection.execute(
            "SELECT entry_id, hash FROM journal_entries ORDER BY entry_id"
        ).fetchall()
        balances = connection.execute(
            "SELECT account, balance_fen FROM ledger_balances ORDER BY account"
        ).fetchall()
        days = connection.execute("SELECT business_date FROM closed_days").fetchall()
    return documents, chain, balances, days


# Runs `creditlink eod` as `python -m creditlink` does. With `die_after`, the process sends
# itself SIGKILL as it starts on account number die_after + 1: the batches before it are
# committed and the one it is in holds an open transaction, at the same point on every
# machine (a watcher that polls for a count and then kills can be outrun by a fast close).
_DRIVER = """
import os, signal, sys
import creditlink.application.close_of_day as close_of_day
die_after = int(sys.argv.pop(1))
if die_after:
    close_account, visits = close_of_day.close_paylater_day, [0]
    def dying(*args, **kwargs):
        visits[0] += 1
        if visits[0] > die_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return close_account(*args, **kwargs)
    close_of_day.close_paylater_day = dying
from creditlink.interfaces.cli.main import run
run()
"""


def _eod(path: Path, day: str, *, die_after: int = 0, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            _DRIVER,
            str(die_after),
            "eod",
            "--date",
            day,
            "--json",
            "--db",
            f"sqlite:///{path}",
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _finish(process: subprocess.Popen[bytes]) -> int:
    _, errors = process.communicate(timeout=300)
    assert process.returncode == 0, errors.decode()
    return process.returncode


@pytest.mark.slow
def test_a_close_killed_midway_and_rerun_ends_as_one_clean_run(tmp_path: Path) -> None:
    killed_path, clean_path = tmp_path / "killed.db", tmp_path / "clean.db"
    book = open_book(f"sqlite:///{killed_path}", clock=CLOCK)
    customers = 600
    for number in range(customers):
        add_customer(book.store, f"c{number:04d}", sequence=number)
        buy(book, f"c{number:04d}", 10_000 + number, date(2026, 1, 20), f"p{number}")
    close_through(book, date(2026, 1, 20), date(2026, 1, 30))
    book.store.dispose()
    shutil.copy(killed_path, clean_path)

    # The statement day: every account is billed, five accounts per transaction. The process
    # dies on the 53rd account: ten batches are committed, the eleventh is open.
    process = _eod(killed_path, "2026-01-31", die_after=52, CREDITLINK_EOD_BATCH_SIZE="5")
    process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL
    with sqlite3.connect(killed_path) as connection:
        closed = connection.execute(
            "SELECT count(*) FROM paylater_accounts WHERE closed_through = '2026-01-31'"
        ).fetchone()[0]
        marked = connection.execute(
            "SELECT status FROM closed_days WHERE business_date = '2026-01-31'"
        ).fetchall()
    assert closed == 50
    # Marked as being closed, not closed: no operation can be dated 31 January meanwhile.
    assert marked == [("closing",)]

    _finish(_eod(killed_path, "2026-01-31"))
    _finish(_eod(clean_path, "2026-01-31"))
    assert _snapshot(killed_path) == _snapshot(clean_path)
    rerun = open_book(f"sqlite:///{killed_path}", clock=CLOCK)
    assert verify_ledger(rerun.store.reader()).ok
    state = customer_state(rerun.store.reader(), customer_id="c0599", on=date(2026, 1, 31))
    assert len(state.paylater.statements) == 1
    rerun.store.dispose()


def test_no_operation_is_taken_while_a_date_is_being_closed(book: Book) -> None:
    add_customer(book.store, "c1")
    with book.store.unit_of_work() as uow:  # what close_day does before any account
        uow.eod.mark_closing(date(2026, 1, 5), at=CLOCK.now())
        uow.commit()
    for day in (date(2026, 1, 5), date(2026, 1, 6)):
        with pytest.raises(Conflict) as closing:
            buy(book, "c1", 100, day, f"during-{day}")
        assert closing.value.rule == "BUSINESS_DATE_CLOSING"
    report = close_day(book.store, on=date(2026, 1, 5), clock=CLOCK)
    assert not report.already_closed
    buy(book, "c1", 100, date(2026, 1, 6), "after")


def test_a_first_close_may_not_fall_behind_the_operations_of_the_book(book: Book) -> None:
    """A book never closed takes operations of any date; its first close may not leave any of
    them dated after the date it closes (the review closed 1 January behind November's)."""
    add_customer(book.store, "c1")
    buy(book, "c1", 100, date(2026, 1, 10), "p1")
    with pytest.raises(DateOutOfOrder) as behind:
        close_day(book.store, on=date(2026, 1, 9), clock=CLOCK)
    assert behind.value.rule == "EOD_IN_ORDER"
    assert "2026-01-10" in str(behind.value)
    with book.store.reader() as uow:
        assert uow.eod.latest() is None  # nothing was marked
    assert not close_day(book.store, on=date(2026, 1, 10), clock=CLOCK).already_closed


def test_a_first_close_may_not_skip_the_dates_after_the_first_operation(book: Book) -> None:
    """Closing 1 March first on a book with a purchase of 5 January left January and
    February unclosed for good: no statement on 1 February, no delinquency, ever."""
    add_customer(book.store, "c1")
    buy(book, "c1", 100, date(2026, 1, 5), "p1")
    with pytest.raises(DateOutOfOrder) as skipped:
        close_day(book.store, on=date(2026, 3, 1), clock=CLOCK)
    assert skipped.value.rule == "EOD_IN_ORDER"
    assert "close 2026-01-05 first" in str(skipped.value)
    with book.store.reader() as uow:
        assert uow.eod.latest() is None  # nothing was marked
    assert not close_day(book.store, on=date(2026, 1, 5), clock=CLOCK).already_closed


def test_a_book_never_closed_with_operations_of_several_dates_says_it_cannot_close(
    book: Book,
) -> None:
    add_customer(book.store, "c1")
    buy(book, "c1", 100, date(2026, 1, 5), "p1")
    buy(book, "c1", 100, date(2026, 1, 10), "p2")
    for on in (date(2026, 1, 5), date(2026, 1, 10), date(2026, 1, 11)):
        with pytest.raises(DateOutOfOrder) as refused:
            close_day(book.store, on=on, clock=CLOCK)
        assert "2026-01-05 to 2026-01-10" in str(refused.value)
        assert "no first close can take them all in order" in str(refused.value)
    with book.store.reader() as uow:
        assert uow.eod.latest() is None


def test_a_close_while_another_runs_is_refused_and_changes_nothing(book: Book) -> None:
    """Two closes of one book at once billed statements twice on PostgreSQL (each read the
    same accounts due); one close runs at a time, and a crash lets its lock go."""
    add_customer(book.store, "c1")
    with book.store.only_one(CLOSE_LOCK) as held:
        assert held
        with pytest.raises(Conflict) as refused:
            close_day(book.store, on=date(2026, 1, 5), clock=CLOCK)
    assert (refused.value.rule, refused.value.field) == ("EOD_RUNNING", "date")
    with book.store.reader() as uow:
        assert uow.eod.latest() is None
    assert not close_day(book.store, on=date(2026, 1, 5), clock=CLOCK).already_closed


_HOLDER = """
import sys, time
from creditlink.bootstrap import open_book
from creditlink.application.close_of_day import CLOSE_LOCK
book = open_book(sys.argv[1])
with book.store.only_one(CLOSE_LOCK) as held:
    print("held" if held else "busy", flush=True)
    time.sleep(30)
"""


@pytest.mark.parametrize("where", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_close_in_another_process_holds_the_book(
    where: str, request: pytest.FixtureRequest
) -> None:
    url = str(request.getfixturevalue("sqlite_url" if where == "sqlite" else "pg_url"))
    book = open_book(url, clock=CLOCK)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Conflict) as refused:
            close_day(book.store, on=date(2026, 1, 5), clock=CLOCK)
        assert refused.value.rule == "EOD_RUNNING"
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    # The holder was killed: the kernel, or the server, let its lock go.
    assert not close_day(book.store, on=date(2026, 1, 5), clock=CLOCK).already_closed
    book.store.dispose()


def test_parameters_do_not_change_while_a_date_is_being_closed(book: Book) -> None:
    """A close judges every account by the parameters it read at its start: a change during
    it would reach only the accounts visited after it, or none."""
    with book.store.unit_of_work() as uow:
        uow.eod.mark_closing(date(2026, 1, 5), at=CLOCK.now())
        uow.commit()
    with pytest.raises(Conflict) as refused:
        set_parameters(
            book.store.unit_of_work(),
            changes={"linkage.freeze_dpd": "20"},
            actor="risk.officer",
            reason="tighten",
            clock=CLOCK,
        )
    assert (refused.value.rule, refused.value.field) == ("BUSINESS_DATE_CLOSING", "changes")
    with book.store.reader() as uow:
        assert [v.version for v in uow.parameters.history()] == [1]


@pytest.mark.parametrize("where", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_close_cannot_start_while_a_parameter_change_is_deciding(
    where: str, request: pytest.FixtureRequest
) -> None:
    """A parameter change checks that no close is running, then stores its version; a close
    marked closing in between would judge by the set it read before the change. The change
    holds the close's state to its commit, and marking a date closing waits for it."""
    import threading
    import time

    url = str(request.getfixturevalue("sqlite_url" if where == "sqlite" else "pg_url"))
    book = open_book(url, clock=CLOCK)
    marked: list[float] = []

    def mark() -> None:
        with book.store.unit_of_work() as other:
            other.eod.mark_closing(date(2026, 1, 5), at=CLOCK.now())
            other.commit()
        marked.append(time.monotonic())

    with book.store.unit_of_work() as uow:
        uow.eod.hold()
        assert uow.eod.latest() is None
        closer = threading.Thread(target=mark)
        closer.start()
        time.sleep(0.5)
        assert marked == []  # waiting for this transaction
        released = time.monotonic()
        uow.commit()
    closer.join(timeout=30)
    assert marked
    assert marked[0] >= released
    book.store.dispose()
