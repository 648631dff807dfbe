"""SQLite's writers take turns: threads at a lock, processes at a file lock beside the book."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from creditlink.adapters.sql.turns import WriterTurn

needs_flock = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")


@needs_flock
def test_a_second_process_waits_for_the_first_writer(tmp_path: Path) -> None:
    # Two turns on one book stand for two processes: each opens the lock file itself, and
    # flock locks of separate opens exclude each other as those of processes do.
    book = tmp_path / "book.db"
    first, second = WriterTurn(book), WriterTurn(book)
    assert first.acquire(timeout=1)
    try:
        assert not second.acquire(timeout=0.05)  # given up when the time ran out
    finally:
        first.release()
    assert second.acquire(timeout=1)
    second.release()
    assert (tmp_path / "book.db.writer").exists()


@needs_flock
def test_the_waiting_process_goes_as_soon_as_the_writer_is_done(tmp_path: Path) -> None:
    book = tmp_path / "book.db"
    first, second = WriterTurn(book), WriterTurn(book)
    assert first.acquire(timeout=1)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(second.acquire(timeout=10)))
    waiter.start()
    waiter.join(timeout=0.1)
    assert got == []  # still waiting
    first.release()
    waiter.join(timeout=5)
    assert got == [True]
    second.release()


@pytest.mark.parametrize("on_disk", [True, False], ids=["file", "memory"])
def test_threads_of_one_process_take_turns(tmp_path: Path, on_disk: bool) -> None:
    turn = WriterTurn(tmp_path / "book.db" if on_disk else None)
    assert turn.acquire(timeout=1)
    refused: list[bool] = []
    other = threading.Thread(target=lambda: refused.append(turn.acquire(timeout=0.05)))
    other.start()
    other.join(timeout=5)
    assert refused == [False]
    turn.release()
    assert turn.acquire(timeout=1)  # a timed-out wait left nothing held
    turn.release()
