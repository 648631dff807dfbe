"""Prometheus metrics at `/metrics`: requests and their latency, by route and status.

Labels are the route's template (`/customers/{customer_id}`), never the raw path, so the
number of series stays bounded; a request no route matched counts as "unmatched".

With several uvicorn workers (`creditlink serve --workers N`), each worker is its own
process. `serve` then sets PROMETHEUS_MULTIPROC_DIR to a fresh folder before the workers
start: each writes its samples there and `/metrics`, whichever worker answers, adds up all
of them (prometheus-client's multiprocess mode). Without it (one worker, tests) the app keeps
its own registry.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics:
    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_ENV))
        self.registry = CollectorRegistry()
        # In multiprocess mode samples go to files, and /metrics reads them all.
        target = None if self.multiprocess else self.registry
        self.requests = Counter(
            "creditlink_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=target,
        )
        self.latency = Histogram(
            "creditlink_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS_S,
            registry=target,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method if method in _METHODS else "OTHER", route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def exposition(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)


class MetricsMiddleware:
    """Time every HTTP request and count it under its route template and status."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an error that escaped every handler

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - started)
