"""`creditlink serve` as a user runs it: two worker processes on one SQLite book."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from creditlink.bootstrap import open_book
from creditlink.interfaces.http.workers import reuse_port_available
from tests.conftest import add_customer
from tests.service import make_key

START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not become healthy:\n{log.read_text()}")


def _serve_command(url: str, port: int) -> list[str]:
    """`creditlink serve` with two workers of three threads, as a user runs it."""
    run = "from creditlink.interfaces.cli.main import run; run()"
    command = [sys.executable, "-c", run, "serve", "--db", url, "--port", str(port)]
    return [*command, "--workers", "2", "--threads", "3"]


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a user stops it; killed if it has not stopped within 30 s."""
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_serve_answers_from_two_workers_and_adds_up_their_metrics(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    book = open_book(url)
    add_customer(book.store, "c1", sequence=1)
    key = make_key(book, "operator")
    book.store.dispose()
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            _serve_command(url, port), env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, server, log)
        headers = {"Authorization": f"Bearer {key}"}
        requests = 20
        for _ in range(requests):
            response = httpx2.get(f"{base}/customers/c1", headers=headers, timeout=10)
            assert response.status_code == 200
            assert response.json()["national_id"].count("*") == 8
        metrics = httpx2.get(f"{base}/metrics", timeout=10).text
        line = (
            "creditlink_http_requests_total"
            '{method="GET",route="/customers/{customer_id}",status="200"}'
        )
        [counted] = [row for row in metrics.splitlines() if row.startswith(line)]
        assert float(counted.split()[-1]) == requests  # every worker's requests, added up
    finally:
        _stop(server)
    assert "with 2 workers of 3 threads" in log.read_text()


def _children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(child) for child in text.split()}


@pytest.mark.skipif(
    not Path("/proc/self/task").is_dir() or not reuse_port_available(),
    reason="needs Linux's /proc and SO_REUSEPORT",
)
def test_a_worker_that_dies_is_replaced_and_a_taken_port_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    open_book(url).store.dispose()
    port = _free_port()
    log = tmp_path / "serve.log"
    command = _serve_command(url, port)
    with log.open("wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, server, log)
        # Both workers serving before one is killed: one that answered /healthz first may
        # be the only one listening yet, and killing it would leave none for a moment.
        _wait_until_started(log, workers=2)
        workers = {pid for pid in _children(server.pid) if _is_worker(pid)}
        assert len(workers) == 2, workers
        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            now = {pid for pid in _children(server.pid) if _is_worker(pid)}
            if len(now) == 2 and killed not in now:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"no worker replaced {killed}:\n{log.read_text()}")
        _wait_until_started(log, workers=3)  # the two first, and the one in its place
        for _ in range(10):  # fresh connections, spread over both workers
            assert httpx2.get(f"{base}/healthz", timeout=10).status_code == 200

        second = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1, second.stdout + second.stderr
        assert "PORT_FREE" in second.stdout + second.stderr
    finally:
        _stop(server)
    assert server.returncode == 0, log.read_text()


def _wait_until_started(log: Path, *, workers: int) -> None:
    """Until uvicorn has said `workers` times in all that a worker's app started."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while log.read_text().count("Application startup complete") < workers:
        assert time.monotonic() < deadline, f"{workers} workers did not start:\n{log.read_text()}"
        time.sleep(0.1)


def _is_worker(pid: int) -> bool:
    """A worker, not the resource tracker that spawning also starts."""
    try:
        return "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
    except FileNotFoundError:
        return False
