"""What the benchmark scripts share: percentiles, a throw-away PostgreSQL schema, and where
the machine's CPU went during a measured phase."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PG_URL = os.environ.get(
    "CREDITLINK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL `url` as psycopg takes it on its own."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A URL on a fresh schema of the database at `url`, dropped afterwards."""
    import psycopg

    plain = libpq_url(url)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


_PROC = Path("/proc")


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process: pid -> (parent pid, command name, CPU seconds used so far by it and by
    its children that have ended and been reaped)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[int, str, float]] = {}
    for folder in _PROC.iterdir():
        if not folder.name.isdigit():
            continue
        try:
            raw = (folder / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        # after the name: state, ppid, ...; utime, stime, cutime and cstime are fields 14-17
        used = sum(int(value) for value in fields[11:15])
        found[int(folder.name)] = (int(fields[1]), name, used / tick)
    return found


def _machine_seconds() -> tuple[float, float, float, float]:
    """The whole machine's CPU seconds since boot, from /proc/stat: (busy, interrupts, stolen,
    all). Interrupts are hard and soft ones: the kernel's own network work, loopback TCP
    included. Stolen time is the hypervisor's, taken while this machine waited for a core."""
    tick = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in (_PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal
    idle = values[3] + values[4]
    every = sum(values[:8])
    return (every - idle) / tick, (values[5] + values[6]) / tick, values[7] / tick, every / tick


class CpuMeter:
    """Where the machine's CPU goes while a phase runs, split into this process (the load
    generator), its child processes (the server under test), PostgreSQL's processes and
    everything else; with the kernel's interrupt work (loopback TCP among it) and the time
    the hypervisor stole. Linux only: elsewhere `split` says it is not measured."""

    def __init__(self) -> None:
        self.available = (_PROC / "stat").exists()
        self._start: tuple[dict[int, tuple[int, str, float]], tuple[float, ...]] | None = None

    def _groups(self, since: dict[int, tuple[int, str, float]]) -> dict[str, float]:
        """CPU seconds by part since the snapshot `since`, counted per process. A process
        that ended during the phase (a pooled connection closed, say) counts through its
        parent, which reaps it: PostgreSQL's postmaster for a backend."""
        processes = _processes()
        me = os.getpid()
        children: dict[int, list[int]] = {}
        for pid, (parent, _, _) in processes.items():
            children.setdefault(parent, []).append(pid)
        server, todo = set(), list(children.get(me, []))
        while todo:
            pid = todo.pop()
            server.add(pid)
            todo.extend(children.get(pid, []))
        groups = {"server": 0.0, "postgresql": 0.0, "load_generator": 0.0}
        for pid, (_, name, seconds) in processes.items():
            used = seconds - since[pid][2] if pid in since and since[pid][1] == name else seconds
            if pid == me:
                groups["load_generator"] += used
            elif pid in server:
                groups["server"] += used
            elif name.startswith("postgres"):
                groups["postgresql"] += used
        return groups

    def start(self) -> None:
        if self.available:
            self._start = (_processes(), _machine_seconds())

    def split(self, requests: int) -> dict[str, Any]:
        """CPU milliseconds per request since `start`, by part; how busy the machine was;
        and the requests per second that this CPU cost allows with every core busy."""
        if self._start is None or requests == 0:
            return {"measured": False, "why": "needs Linux /proc and at least one request"}
        since, before = self._start
        groups = self._groups(since)
        busy, interrupts, stolen, every = (
            now - then for now, then in zip(_machine_seconds(), before, strict=True)
        )
        # Process times may already hold the interrupts taken while they ran, so "other"
        # (other processes, the kernel's threads) is what the machine used beyond them.
        groups["other"] = max(0.0, busy - sum(groups.values()))
        per_request = {
            name: round(seconds * 1000 / requests, 2) for name, seconds in groups.items()
        }
        all_ms = busy * 1000 / requests
        cores = os.cpu_count() or 1
        return {
            "cpu_ms_per_request": {**per_request, "all": round(all_ms, 2)},
            "of_which_interrupts_ms": round(interrupts * 1000 / requests, 2),
            "stolen_ms": round(stolen * 1000 / requests, 2),
            "machine_busy": round(busy / every, 3),
            "cpu_ceiling_per_second": round(cores * 1000 / all_ms, 1) if all_ms else None,
        }
