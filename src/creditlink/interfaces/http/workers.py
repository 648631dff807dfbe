"""Worker processes for `creditlink serve --workers N`, each on its own listening socket.

uvicorn's own supervisor binds one socket and shares it between its workers, and whichever
worker wakes first accepts every connection waiting. A client that opens its keep-alive
connections together (a payment gateway's pool, a load balancer) then lands most of them on
one worker, which saturates one core while the others idle: with 32 connections and 2
workers we measured 27 on one and 5 on the other. Here each worker binds the port itself
with `SO_REUSEPORT`, and the kernel spreads new connections across the workers' sockets.

The supervisor (the `serve` process) checks that the port is free, starts the workers,
restarts one that dies (giving up when workers keep dying within seconds of starting, as
with a broken database URL), and on SIGINT or SIGTERM stops them all, each finishing the
requests it holds (uvicorn's graceful shutdown).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

log = logging.getLogger("creditlink.serve")

QUICK_DEATH_S = 5.0  # a worker dying this soon after its start counts towards giving up
QUICK_DEATHS_MAX = 3  # in a row
STOP_TIMEOUT_S = 30.0  # for workers to finish their requests before they are killed


def reuse_port_available() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port_free(host: str, port: int) -> None:
    """Raise OSError (address in use, no such address) before any worker starts."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def listening_socket(host: str, port: int) -> socket.socket:
    """This worker's own socket on the shared port (`SO_REUSEPORT`); uvicorn listens on it."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(app: str, host: str, port: int, log_level: str) -> None:
    """One worker process: uvicorn on this process's own socket."""
    import uvicorn

    config = uvicorn.Config(app, factory=True, host=host, port=port, log_level=log_level)
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])


def run_workers(*, app: str, host: str, port: int, workers: int, log_level: str) -> int:
    """Serve `app` (a factory's import string) with `workers` processes until SIGINT or
    SIGTERM; the exit status: 0 when stopped, 1 when workers kept dying."""
    check_port_free(host, port)
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(
            target=_worker, args=(app, host, port, log_level), name="creditlink-worker"
        )
        process.start()
        return process, time.monotonic()

    running = [start() for _ in range(workers)]
    quick_deaths = 0
    status = 0
    try:
        while not stopping:
            wait([process.sentinel for process, _ in running], timeout=0.5)
            for index, (process, started) in enumerate(running):
                if process.is_alive() or stopping:
                    continue
                lived = time.monotonic() - started
                quick_deaths = quick_deaths + 1 if lived < QUICK_DEATH_S else 0
                log.error(
                    "worker %s exited with status %s after %.1f s",
                    process.pid,
                    process.exitcode,
                    lived,
                )
                if quick_deaths >= QUICK_DEATHS_MAX:
                    log.error("workers keep dying at start: stopping (see the errors above)")
                    stopping, status = True, 1
                    break
                running[index] = start()
                log.warning("started worker %s in its place", running[index][0].pid)
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in hand
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process, _ in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status
