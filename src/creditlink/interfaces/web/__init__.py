"""The operations dashboard: server-rendered pages, mounted on the HTTP app."""

from __future__ import annotations

from typing import Any


def mount(app: Any) -> None:
    """Add the dashboard's pages and static files to the FastAPI `app` (none yet)."""
