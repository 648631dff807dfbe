"""HTTP throughput: PayLater purchases per second through `creditlink serve --workers 2` on
loopback, with p50/p99 latency, on SQLite and on PostgreSQL, beside `GET /healthz` on the same
server as a baseline (what the server and this load generator do with no business work).

    uv run python benchmarks/http.py [--seconds 20] [--customers 200] [--concurrency 32]
        [--workers 2] [--threads 4] [--sweep] [--pg-url URL] [--no-pg] [--no-sqlite]
        [--no-floor] [--write-behind [--write-behind-workers 2] [--write-behind-threads 32]
        [--write-behind-lean]]

Each database gets a fresh book (SQLite in a temporary folder; PostgreSQL in a fresh schema,
dropped afterwards), API keys, and N customers onboarded through `POST /customers`. The
velocity and exposure rules are widened through `POST /parameters` (as a risk officer would
for a load test) so that every purchase is judged in full and approved, not declined once a
customer's daily count is reached. Then `--concurrency` requests stay in flight for
`--seconds`, each with its own Idempotency-Key. Prints one JSON object. Target (issue 8): on
PostgreSQL >= 1,000 purchases/s with p99 <= 50 ms.

With `--sweep`, purchases also run at 1, 2, 4, 8, 16 and 32 in flight, and
`best_within_target_p99` names the most purchases per second measured with p99 <= 50 ms:
the service's capacity at the target's latency.

Each phase also says where the machine's CPU went, per request (`cpu`): the server's
processes, PostgreSQL's, this load generator, the rest; and the throughput that this CPU
cost would allow with every core busy (`cpu_ceiling_per_second`).

On PostgreSQL a third phase, `floor_one_insert`, measures `benchmarks/http_floor.py`: the
same server stack (worker supervisor, uvicorn, FastAPI, a pydantic body, psycopg) answering
the same load with one read and one insert per request in one transaction, and nothing else.
No purchase can be faster than that, so it is the ceiling this machine puts on the target.

With `--write-behind`, the same purchases also go to `benchmarks/http_write_behind.py` on a
fresh PostgreSQL book: a prototype, not the product, of workers deciding against the
customers each holds in memory and answering after a group commit (`write_behind_prototype`;
each purchase goes to the worker that holds its customer).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path, where this file's name would
# hide the standard library's `http` package (which httpx imports): take the folder off.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import httpx  # noqa: E402

from benchmarks import http_floor, http_write_behind  # noqa: E402
from benchmarks.common import PG_URL, CpuMeter, libpq_url, percentile, pg_schema  # noqa: E402
from creditlink.application.apikeys import create_api_key  # noqa: E402
from creditlink.bootstrap import open_book  # noqa: E402
from creditlink.domain.customer import national_id_check_character  # noqa: E402
from creditlink.interfaces.cli.serve import DEFAULT_THREADS  # noqa: E402
from creditlink.interfaces.http.app import THREADS_ENV  # noqa: E402

WARM_UP_SECONDS = 2.0
SWEEP = (1, 2, 4, 8, 16, 32)  # purchases in flight, with --sweep
TARGET_P99_MS = 50.0
WIDE_OPEN = {
    "rules.velocity_day_count": "1000000",
    "rules.velocity_day_amount": "100000000.00",
    "rules.velocity_hour_count": "1000000",
    "rules.velocity_hour_amount": "100000000.00",
    "rules.exposure_cap": "100000000.00",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _national_id(sequence: int) -> str:
    first_17 = f"110105{19600101 + sequence // 28 * 10000 + sequence % 28:08d}"[:14]
    first_17 += f"{sequence % 1000:03d}"
    return first_17 + national_id_check_character(first_17)


@contextlib.contextmanager
def _running(command: list[str], *, env: dict[str, str], ready: str) -> Iterator[str]:
    """`command`, a server on a free loopback port (`{port}` in it is replaced); its base URL
    once `ready` answers with anything but a server error."""
    port = _free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    server = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env}, cwd=_HERE.parent
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{base}{ready}", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer {ready} within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def serving(url: str, *, workers: int, threads: int) -> contextlib.AbstractContextManager[str]:
    """`creditlink serve` on a free loopback port; its base URL once /healthz answers."""
    command = [str(Path(sys.executable).with_name("creditlink")), "serve", "--db", url]
    command += ["--port", "{port}", "--workers", str(workers), "--threads", str(threads)]
    return _running(command, env={"CREDITLINK_ACTOR": "benchmark"}, ready="/healthz")


def serving_floor(
    url: str, *, workers: int, threads: int
) -> contextlib.AbstractContextManager[str]:
    """`benchmarks/http_floor.py`'s app under `serve`'s own worker supervisor."""
    code = (
        "from creditlink.interfaces.http.workers import run_workers; "
        f"raise SystemExit(run_workers(app={http_floor.APP!r}, host='127.0.0.1', "
        f"port={{port}}, workers={workers}, log_level='info'))"
    )
    env = {http_floor.URL_ENV: url, THREADS_ENV: str(threads)}
    return _running([sys.executable, "-c", code], env=env, ready="/floor")


class Connection:
    """One keep-alive HTTP/1.1 connection, written by hand: the load generator shares the
    machine with the server, and httpx spent more CPU per request than a lean server does.
    It sends fixed-shape requests and reads `Content-Length` bodies, which is all the API
    answers with."""

    def __init__(self, host: str, port: int, *, partition: int = 0):
        self.host, self.port = host, port
        self.partition = partition  # which server of several, when customers are split
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, *, headers: dict[str, str], body: bytes = b""
    ) -> int:
        """The status of one request; the body is read and dropped."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        for name, value in headers.items():
            head += f"{name}: {value}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        try:
            status_line = await self.reader.readuntil(b"\r\n")
            length = 0
            while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
                field, _, content = line.partition(b":")
                if field.lower() == b"content-length":
                    length = int(content)
            await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            self.close()
            raise OSError(f"connection lost: {error}") from error
        return int(status_line.split(b" ", 2)[1])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _load(
    base: str | Sequence[str],
    request: Callable[[Connection, int], Awaitable[int]],
    *,
    seconds: float,
    concurrency: int,
    ok: set[int],
) -> dict[str, Any]:
    """`concurrency` loops, each on its own keep-alive connection, calling `request(n)` for
    `seconds`; latencies of answered calls. Given several bases, loop i talks to base
    i modulo their number (its connection's `partition`)."""
    bases = [base] if isinstance(base, str) else list(base)
    addresses = [tuple(one.removeprefix("http://").rsplit(":", 1)) for one in bases]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def loop(index: int) -> None:
        nonlocal errors
        part = index % len(addresses)
        host, port = addresses[part]
        connection = Connection(host, int(port), partition=part)
        try:
            while time.perf_counter() < deadline:
                number = next(counter)
                begin = time.perf_counter()
                try:
                    status = await request(connection, number)
                except OSError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - begin)
                key = str(status)
                statuses[key] = statuses.get(key, 0) + 1
                if status not in ok:
                    errors += 1
        finally:
            connection.close()

    meter = CpuMeter()
    meter.start()
    started = time.perf_counter()
    await asyncio.gather(*(loop(index) for index in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = meter.split(len(latencies))
    return {
        "requests": len(latencies),
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2) if latencies else None,
        "errors": errors,
        "statuses": statuses,
        "cpu": cpu,
    }


def _buyer(
    authorization: str, run_id: str, customers: int, *, partitions: int = 1
) -> Callable[[Connection, int], Awaitable[int]]:
    """A purchase request by each call, each new (numbers run on across phases), round the
    customers `b00000`...; with `partitions`, round those of the connection's partition
    (customer number modulo `partitions`)."""
    purchase_numbers = itertools.count()
    owned = [list(range(part, customers, partitions)) for part in range(partitions)]

    async def buy(connection: Connection, _: int) -> int:
        number = next(purchase_numbers)
        mine = owned[connection.partition]
        customer = f"b{mine[number % len(mine)]:05d}"
        body = json.dumps(
            {
                "ref": f"r{run_id}-{number}",
                "amount_fen": 1_000 + number % 5_000,
                "merchant": "Grocer",
                "category": "retail",
            }
        )
        return await connection.request(
            "POST",
            f"/customers/{customer}/paylater/purchases",
            headers={"Authorization": authorization, "Idempotency-Key": f"k{run_id}-{number}"},
            body=body.encode(),
        )

    return buy


def _customer(number: int) -> dict[str, Any]:
    """The load's customer `number`, as `POST /customers` and `onboard_customer` take it."""
    return {
        "customer_id": f"b{number:05d}",
        "name": f"Load {number}",
        "national_id": _national_id(number),
        "mobile": "13800138000",
        "joint_limit_fen": 10**11,
        "cap_paylater_fen": 10**11,
    }


async def _run(base: str, keys: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        operator = {"Authorization": f"Bearer {keys['operator']}"}
        changed = await client.post(
            "/parameters",
            json={"changes": WIDE_OPEN, "reason": "load test: judge every purchase in full"},
            headers={"Authorization": f"Bearer {keys['risk_admin']}"},
        )
        assert changed.status_code == 201, changed.text
        run_id = uuid.uuid4().hex[:8]
        started = time.perf_counter()

        async def onboard(number: int) -> None:
            response = await client.post("/customers", json=_customer(number), headers=operator)
            assert response.status_code == 201, response.text

        for first in range(0, args.customers, args.concurrency):
            batch = range(first, min(args.customers, first + args.concurrency))
            await asyncio.gather(*(onboard(number) for number in batch))
        onboarding = time.perf_counter() - started

        buy = _buyer(operator["Authorization"], run_id, args.customers)

        async def health(connection: Connection, _: int) -> int:
            return await connection.request("GET", "/healthz", headers={})

    load = {"seconds": args.seconds, "concurrency": args.concurrency}
    await _load(base, health, seconds=WARM_UP_SECONDS, concurrency=args.concurrency, ok={200})
    baseline = await _load(base, health, ok={200}, **load)
    purchases = await _load(base, buy, ok={201}, **load)
    result = {
        "customers_onboarded": args.customers,
        "onboarding_per_second": round(args.customers / onboarding, 1),
        "purchases": purchases,
        "baseline_healthz": baseline,
    }
    if args.sweep:
        result["purchases_by_concurrency"] = sweep = {
            str(concurrency): await _load(
                base, buy, ok={201}, seconds=args.seconds, concurrency=concurrency
            )
            for concurrency in SWEEP
        }
        within = [
            (phase["per_second"], int(concurrency))
            for concurrency, phase in sweep.items()
            if phase["errors"] == 0
            and phase["p99_ms"] is not None
            and phase["p99_ms"] <= TARGET_P99_MS
        ]
        best = max(within, default=None)
        result["best_within_target_p99"] = (
            None if best is None else {"per_second": best[0], "concurrency": best[1]}
        )
    return result


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    book = open_book(url)
    keys = {}
    for role in ("operator", "risk_admin"):
        keys[role], _ = create_api_key(
            book.store.unit_of_work(),
            role=role,
            customer_id=None,
            label="benchmark",
            actor="benchmark",
            clock=book.clock,
        )
    book.store.dispose()
    with serving(url, workers=args.workers, threads=args.threads) as base:
        result = asyncio.run(_run(base, keys, args))
    result["ledger_verifies"] = _ledger_verifies(url)
    return result


def _ledger_verifies(url: str) -> bool:
    """Whether the book at `url` passes `ledger verify`, read after the server has gone."""
    from creditlink.application.ledger import verify_ledger

    verified = open_book(url)
    try:
        return verify_ledger(verified.store.reader()).ok
    finally:
        verified.store.dispose()


def measure_floor(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Purchase-shaped writes to `http_floor`'s app: one read and one insert per request."""
    http_floor.prepare(url)
    refs = itertools.count()  # across the warm-up and the measured phase: refs are unique

    async def write(connection: Connection, number: int) -> int:
        body = json.dumps(
            {
                "ref": f"r{next(refs)}",
                "amount_fen": 1_000 + number % 5_000,
                "merchant": "Grocer",
                "category": "retail",
            }
        )
        path = f"/floor/b{number % args.customers:05d}/purchases"
        return await connection.request("POST", path, headers={}, body=body.encode())

    async def run(base: str) -> dict[str, Any]:
        load = {"seconds": args.seconds, "concurrency": args.concurrency, "ok": {201}}
        await _load(base, write, **{**load, "seconds": WARM_UP_SECONDS})
        return await _load(base, write, **load)

    with serving_floor(url, workers=args.workers, threads=args.threads) as base:
        return asyncio.run(run(base))


def measure_write_behind(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """The same purchases against `http_write_behind`'s prototype: workers deciding in
    memory and answering after a group commit, each on its own port with its own customers.
    The book is set up in PostgreSQL first (keys, the load's parameters, the customers) and
    mirrored by the workers at start."""
    customers = [{**_customer(number), "cap_loan_fen": None} for number in range(args.customers)]
    key = http_write_behind.prepare(url, customers=customers, parameters=WIDE_OPEN)
    code = (
        "from creditlink.interfaces.http.workers import run_workers; "
        f"raise SystemExit(run_workers(app={http_write_behind.APP!r}, host='127.0.0.1', "
        "port={port}, workers=1, log_level='info'))"
    )
    servers = args.write_behind_workers

    def env(part: int) -> dict[str, str]:
        return {
            http_write_behind.URL_ENV: url,
            http_write_behind.KEYS_ENV: f"operator:{key}",
            http_write_behind.CUSTOMERS_ENV: json.dumps(customers[part::servers]),
            http_write_behind.PARAMETERS_ENV: json.dumps(WIDE_OPEN),
            THREADS_ENV: str(args.write_behind_threads),
            http_write_behind.LEAN_ENV: "1" if args.write_behind_lean else "",
        }

    buy = _buyer(f"Bearer {key}", uuid.uuid4().hex[:8], args.customers, partitions=servers)

    async def run(bases: list[str]) -> dict[str, Any]:
        load = {"seconds": args.seconds, "concurrency": args.concurrency, "ok": {201}}
        await _load(bases, buy, **{**load, "seconds": WARM_UP_SECONDS})
        return await _load(bases, buy, **load)

    with contextlib.ExitStack() as stack:
        bases = [
            stack.enter_context(
                _running([sys.executable, "-c", code], env=env(part), ready="/healthz")
            )
            for part in range(servers)
        ]
        result = asyncio.run(run(bases))
    result["ledger_verifies"] = _ledger_verifies(url)
    result["workers"] = servers  # one process each, on its own port, with its own customers
    result["threads"] = args.write_behind_threads
    result["lean_purchase_route"] = args.write_behind_lean
    return result


def _pg_reachable(url: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(libpq_url(url), connect_timeout=3):
            return None
    except Exception as error:
        return f"PostgreSQL not reachable at {url}: {str(error).splitlines()[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="Length of each phase.")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help="Threads per worker (`serve --threads`), for the API and the floor alike.",
    )
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument(
        "--sweep",
        action="store_true",
        help=f"Also run purchases at {', '.join(map(str, SWEEP))} in flight, --seconds each, "
        f"and report the most purchases/s with p99 <= {TARGET_P99_MS:.0f} ms.",
    )
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="Skip the floor on PostgreSQL (benchmarks/http_floor.py: one read and one insert "
        "per request through the same server stack).",
    )
    parser.add_argument(
        "--write-behind",
        action="store_true",
        help="Also run the purchases against benchmarks/http_write_behind.py on PostgreSQL: a "
        "prototype (workers deciding in memory, answering after a group commit) for the "
        "decision the target needs; not the product.",
    )
    parser.add_argument(
        "--write-behind-workers",
        type=int,
        default=2,
        help="The prototype's workers: each its own process and port, holding the customers "
        "whose number modulo this is its own; the load generator sends each purchase to the "
        "worker that holds its customer.",
    )
    parser.add_argument(
        "--write-behind-lean",
        action="store_true",
        help="In the prototype, serve purchases without FastAPI's dependency injection (the "
        "same checks and use case, one thread hop).",
    )
    parser.add_argument(
        "--write-behind-threads",
        type=int,
        default=32,
        help="The prototype's threads: most wait for a commit, holding no CPU.",
    )
    args = parser.parse_args()
    out: dict[str, Any] = {
        "benchmark": "http purchases",
        "workers": args.workers,
        "threads_per_worker": args.threads,
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "cpus": os.cpu_count(),
        "target": "PostgreSQL >= 1000 purchases/s, p99 <= 50 ms",
    }
    if args.no_sqlite:
        out["sqlite"] = {"skipped": "--no-sqlite"}
    else:
        with tempfile.TemporaryDirectory() as folder:
            out["sqlite"] = measure(f"sqlite:///{Path(folder) / 'book.db'}", args)
    if args.no_pg:
        out["postgresql"] = {"skipped": "--no-pg"}
    elif (reason := _pg_reachable(args.pg_url)) is not None:
        out["postgresql"] = {"skipped": reason}
    else:
        with pg_schema(args.pg_url) as url:
            out["postgresql"] = measure(url, args)
            if not args.no_floor:
                out["postgresql"]["floor_one_insert"] = measure_floor(url, args)
        if args.write_behind:
            with pg_schema(args.pg_url) as url:
                out["postgresql"]["write_behind_prototype"] = measure_write_behind(url, args)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
