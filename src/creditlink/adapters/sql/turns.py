"""Writers taking turns at a SQLite book.

SQLite lets one connection write at a time. A writer that finds the book taken waits in
SQLite's busy handler, which sleeps between tries for up to 100 ms at a time; under load that
gave purchases a p99 near a second. So writers take turns before they begin:

- the threads of one process at a lock, in the order they come;
- the processes sharing the file (`serve --workers N`) at an advisory lock on a file beside
  the book (`<book>.writer`, `flock`), tried again every 0.2 to 2 ms while another process
  holds it. The kernel drops a process's lock when the process ends, however it ends.

Both are given up after `timeout` seconds, as SQLite's own wait would be.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from creditlink.adapters.locks import held_if_free

try:
    import fcntl
except ImportError:  # pragma: no cover (not on Windows: processes meet at SQLite's lock)
    fcntl = None  # type: ignore[assignment]

FIRST_RETRY_S = 0.0002
LONGEST_RETRY_S = 0.002


class WriterTurn:
    """One writer at a time: `acquire(timeout)` (False when the time ran out), `release()`."""

    def __init__(self, book_file: Path | None):
        self._threads = threading.Lock()
        self._path = None if book_file is None or fcntl is None else Path(f"{book_file}.writer")
        self._file: int | None = None
        self._pid = 0

    def _descriptor(self) -> int:
        # Opened once per process: a child made by fork would share the parent's lock.
        if self._file is None or self._pid != os.getpid():
            assert self._path is not None
            self._file = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._file

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self._threads.acquire(timeout=timeout):
            return False
        if self._path is None:
            return True
        try:
            descriptor = self._descriptor()
            pause = FIRST_RETRY_S
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        self._threads.release()
                        return False
                    time.sleep(pause)
                    pause = min(pause * 2, LONGEST_RETRY_S)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            if self._path is not None and self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)
        finally:
            self._threads.release()


@contextlib.contextmanager
def exclusive_file(
    book_file: Path | None, name: str, in_process: dict[str, threading.Lock]
) -> Iterator[bool]:
    """Hold `<book>.<name>` (flock) for the block if no process holds it: yields whether it
    was taken. A book in memory has only this process: its lock of that name in
    `in_process` stands in."""
    if book_file is None or fcntl is None:
        with held_if_free(in_process.setdefault(name, threading.Lock())) as taken:
            yield taken
        return
    descriptor = os.open(f"{book_file}.{name}", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # lets the lock go
