"""A lock held only when free: what `Store.only_one` is within one process."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def held_if_free(lock: threading.Lock) -> Iterator[bool]:
    """Hold `lock` for the block if it is free: yields whether it was taken."""
    taken = lock.acquire(blocking=False)
    try:
        yield taken
    finally:
        if taken:
            lock.release()
