"""`creditlink serve`: the HTTP API (FastAPI on uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from creditlink.interfaces.cli.options import Db

APP_FACTORY = "creditlink.interfaces.http.app:app_from_environment"
# Measured with `benchmarks/http.py` (2 workers, 32 in flight, PostgreSQL on the same 2
# cores), alternately on the same code: 4 threads per worker did 198-243 purchases/s and
# 40 (anyio's default) 175-183/s; in one sweep 1-4 threads did 240-290/s and 8-40 threads
# 160-220/s. See docs/DECISIONS.md.
DEFAULT_THREADS = 4


def serve(
    db: Db = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (each with its own pool).")
    ] = 1,
    threads: Annotated[
        int,
        typer.Option(
            min=1,
            max=256,
            help="Requests each worker runs against the database at once (its thread pool; "
            "more wait in line). More let slow requests (reports, a distant database) overlap; "
            "fewer spend less CPU contending for Python's interpreter lock.",
        ),
    ] = DEFAULT_THREADS,
) -> None:
    """Serve the HTTP API and the dashboard: /docs, /openapi.json, /healthz, /metrics."""
    import os
    import secrets
    import shutil
    import tempfile

    import uvicorn

    from creditlink.bootstrap import DATABASE_ENV, open_book
    from creditlink.domain.errors import InvalidInput
    from creditlink.interfaces.cli.output import console, warn_if_id_key_in_book
    from creditlink.interfaces.cli.setup import _redact
    from creditlink.interfaces.http.app import THREADS_ENV
    from creditlink.interfaces.http.metrics import MULTIPROCESS_ENV
    from creditlink.interfaces.http.workers import reuse_port_available, run_workers
    from creditlink.interfaces.web.session import SECRET_ENV

    # Open the book once here, so that its schema is migrated before any worker starts,
    # and so that a wrong URL is one clear error, not one per worker.
    book = open_book(db)
    book.store.dispose()
    warn_if_id_key_in_book(book)
    os.environ[DATABASE_ENV] = book.url
    os.environ[THREADS_ENV] = str(threads)
    metrics_dir = None
    if workers > 1 and not os.environ.get(MULTIPROCESS_ENV):
        # Every worker writes its samples here; /metrics adds them up (see http/metrics.py).
        metrics_dir = tempfile.mkdtemp(prefix="creditlink-metrics-")
        os.environ[MULTIPROCESS_ENV] = metrics_dir
    if not os.environ.get(SECRET_ENV):
        # One random secret for every worker of this server: dashboard sessions then work
        # on any worker, cannot be forged from the database, and end when the server does.
        os.environ[SECRET_ENV] = secrets.token_urlsafe(32)
    console(stderr=True).print(
        f"Serving [bold]{_redact(book.url)}[/] on http://{host}:{port} "
        f"with {workers} worker{'s' if workers > 1 else ''} of {threads} thread"
        f"{'s' if threads > 1 else ''} (Ctrl-C to stop)."
    )
    try:
        if workers > 1 and reuse_port_available():
            try:
                status = run_workers(
                    app=APP_FACTORY, host=host, port=port, workers=workers, log_level="info"
                )
            except OSError as error:
                raise InvalidInput(
                    f"cannot listen on {host}:{port}: {error.strerror or error}",
                    field="port",
                    rule="PORT_FREE",
                ) from None
            if status:
                raise typer.Exit(status)
        else:
            uvicorn.run(
                APP_FACTORY, factory=True, host=host, port=port, workers=workers, log_level="info"
            )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
