"""The operations dashboard: server-rendered pages under `/ui`, mounted on the HTTP app.

Pages are Jinja2 templates (`templates/`, shipped in the wheel with `static/`). Charts are
drawn by Plotly's JavaScript served from the installed `plotly` package at
`/ui/static/plotly.min.js?v=<version>`: nothing is fetched from any other site, so the
dashboard works offline. Every page sends a Content-Security-Policy that allows scripts and
styles from this server only (Plotly's inline styles aside). See `session` for sign-in and
CSRF, and `pages` for what each page shows and who may open it.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_MAX_AGE = 365 * 24 * 3600
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@cache
def plotly_js() -> Path:
    """plotly.min.js inside the installed plotly package (found without importing it)."""
    spec = find_spec("plotly")
    assert spec is not None, "plotly is not installed"
    assert spec.submodule_search_locations, spec
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    assert path.is_file(), path
    return path


@cache
def plotly_url() -> str:
    return f"/ui/static/plotly.min.js?v={version('plotly')}"


def mount(app: FastAPI) -> None:
    """Add the dashboard's pages and static files to the FastAPI `app`."""
    from fastapi import Request, Response
    from fastapi.responses import FileResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles

    from creditlink.interfaces.web import pages
    from creditlink.interfaces.web.session import (
        COOKIE,
        PageRefused,
        SignInNeeded,
        read_session,
        sign_in_url,
    )

    @app.get("/ui/static/plotly.min.js", include_in_schema=False)
    def plotly_script() -> FileResponse:
        """Plotly from the installed package; its URL names the version, so it may be kept
        for a year."""
        return FileResponse(
            plotly_js(),
            media_type="text/javascript",
            headers={"Cache-Control": f"public, max-age={STATIC_MAX_AGE}, immutable"},
        )

    app.include_router(pages.router)
    app.mount("/ui/static", StaticFiles(directory=pages.STATIC), name="ui-static")

    async def sign_in_needed(request: Request, error: Exception) -> Response:
        assert isinstance(error, SignInNeeded)
        return RedirectResponse(sign_in_url(error.next_path), status_code=303)

    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, PageRefused)
        session = read_session(request.app.state.book, request.cookies.get(COOKIE))
        return pages.render(
            request, "error.html", session=session, status=error.status, detail=error.detail
        )

    app.add_exception_handler(SignInNeeded, sign_in_needed)
    app.add_exception_handler(PageRefused, refused)

    app.add_middleware(PageHeaders)


class PageHeaders:
    """Security and caching headers on every `/ui` response; other paths pass untouched.
    Plain ASGI: Starlette's `BaseHTTPMiddleware` would run every API request, too, through a
    task and a memory stream."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/ui"):
            await self.app(scope, receive, send)
            return
        extra = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if not path.startswith("/ui/static"):
            extra.append((b"cache-control", b"no-store"))

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
