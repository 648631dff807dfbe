"""What route handlers get from the app: the book, units of work, the business date, and
threads of their own for reports.

`app.state.book` is the `creditlink.bootstrap.Book` the app serves (store, clock, actor,
URL). A handler passes a fresh unit of work to each use-case call (`Writer` for changes,
`Reader` for reads, which takes no write lock); the use case enters and commits it. These
dependencies only hand out objects, so they are `async def`: FastAPI runs them inline, not
in its thread pool.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, ParamSpec, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import Depends, Query, Request

from creditlink.application import business_date as dates
from creditlink.application.business_date import open_business_date
from creditlink.application.ports import UnitOfWork
from creditlink.bootstrap import Book
from creditlink.domain.calendar import EARLIEST_DATE, LATEST_DATE
from creditlink.interfaces.http.schemas import DateText


async def get_book(request: Request) -> Book:
    book: Book = request.app.state.book
    return book


BookDep = Annotated[Book, Depends(get_book)]


async def writer(book: BookDep) -> UnitOfWork:
    return book.store.unit_of_work()


async def reader(book: BookDep) -> UnitOfWork:
    return book.store.reader()


Writer = Annotated[UnitOfWork, Depends(writer)]
Reader = Annotated[UnitOfWork, Depends(reader)]


ViewOn = Annotated[
    date | None,
    DateText,
    Query(
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description="As of this date, not before the open business date (default: the open "
        "business date, the day after the last close).",
    ),
]
ReportOn = Annotated[
    date | None,
    DateText,
    Query(
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description="As of this date, not before the last close (default: the last closed date).",
    ),
]


def business_date(on: date | None, book: Book) -> date:
    """The date an operation names, or the book's open business date (as the CLI's
    `--on`); the use case refuses any other."""
    if on is not None:
        return on
    # One statement (the book state's row): no BEGIN and COMMIT around it, on a hot path.
    return open_business_date(book.store.reader(autocommit=True), today=book.clock.today())


def view_date(on: date | None, book: Book) -> date:
    """The date a view of a customer is as of: `on` (not before the open business date)
    or the open business date."""
    return dates.view_date(book.store.reader(), on, today=book.clock.today())


def report_date(on: date | None, book: Book) -> date:
    """The date a whole-book report is as of: `on` (not before the last close) or the last
    closed date."""
    return dates.report_date(book.store.reader(), on, today=book.clock.today())


REPORT_THREADS = 2  # per worker, beside the `serve --threads` that serve requests
_report_limiter: RunVar[CapacityLimiter] = RunVar("creditlink_report_limiter")
_P = ParamSpec("_P")
_R = TypeVar("_R")


def on_report_threads(route: Callable[_P, _R]) -> Callable[_P, Awaitable[_R]]:
    """Run a plain-function route that reads the whole book (a ledger verification, the
    portfolio, a shadow report) on the worker's REPORT_THREADS threads for reports instead
    of the threads that serve requests: however long reports run, and however many are
    asked for, they cannot hold up purchases or /healthz; they wait for each other."""

    @functools.wraps(route)
    async def on_its_own_threads(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            limiter = _report_limiter.get()
        except LookupError:
            limiter = CapacityLimiter(REPORT_THREADS)
            _report_limiter.set(limiter)
        call = functools.partial(route, *args, **kwargs)
        return await anyio.to_thread.run_sync(call, limiter=limiter)

    return on_its_own_threads
