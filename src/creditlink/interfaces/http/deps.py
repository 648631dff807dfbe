"""What route handlers get from the app: the book, units of work, and the business date.

`app.state.book` is the `creditlink.bootstrap.Book` the app serves (store, clock, actor,
URL). A handler passes a fresh unit of work to each use-case call (`Writer` for changes,
`Reader` for reads, which takes no write lock); the use case enters and commits it. These
dependencies only hand out objects, so they are `async def`: FastAPI runs them inline, not
in its thread pool.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from creditlink.application.ports import UnitOfWork
from creditlink.bootstrap import Book


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


def business_date(on: date | None, book: Book) -> date:
    """The date a request names, or today by the book's clock (as the CLI's `--on`)."""
    return on if on is not None else book.clock.today()
