"""Who is looking at a page: signed sessions, made by signing in with an API key.

**The cookie never holds the key.** Signing in checks the key once (`authenticate`, as the
API does) and sets `creditlink_session`, HttpOnly, SameSite=Strict, path `/ui` (Secure over
HTTPS), to a signed session id:

    <key_id>.<expires, unix seconds>.<random nonce>.<HMAC-SHA256 signature>

The signature's key is HMAC(server secret, the key's stored SHA-256 digest), so a session:
- is stored nowhere on the server while it lasts, and works across `serve --workers N`
  (and across restarts when `CREDITLINK_SESSION_SECRET` is set);
- ends when its key is revoked (each request reads the key's record by id), when it
  expires (`SESSION_SECONDS`), or when it is signed out: signing out deletes the cookie and
  records the session as ended (by the SHA-256 of its id, in `ended_sessions`, until it
  would have expired), so a copy of the id taken before stops working too;
- cannot be forged from the database alone: the server secret is `CREDITLINK_SESSION_SECRET`
  when set (set it in production so that sessions outlive a restart), else a random secret
  that `creditlink serve` makes at start and hands to its workers (a process that is not
  started by `serve` makes its own), so a restart signs everyone out.

**CSRF**: both defences. Every form that changes something carries `csrf_token`, an HMAC of
the session id under the same key (so it is tied to the session and useless without it), and
every POST whose `Origin` header is present must name this server. The cookie's
SameSite=Strict keeps it off cross-site requests in the first place. The sign-in form has no
session yet: it is guarded by the Origin check.

Roles follow the API's rules (`interfaces.http.auth`): a customer key sees only its own
customer, only risk_admin changes parameters, auditors read and never change anything.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request

from creditlink.application.apikeys import Principal, digest_of
from creditlink.bootstrap import Book
from creditlink.interfaces.http.auth import AUDITOR, READ_METHODS, check_customer_access
from creditlink.interfaces.http.deps import BookDep
from creditlink.interfaces.http.problems import NUL_DETAIL, ProblemError

COOKIE = "creditlink_session"
COOKIE_PATH = "/ui"
SESSION_SECONDS = 8 * 3600
SECRET_ENV = "CREDITLINK_SESSION_SECRET"  # noqa: S105 (the variable's name, not a secret)
_PROCESS_SECRET = secrets.token_bytes(32)  # when no secret is configured: this process only


class SignInNeeded(Exception):
    """No valid session: the page answers with a redirect to the sign-in form."""

    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


class PageRefused(Exception):
    """A page or action refused: rendered as an HTML error page with this status."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def _secret() -> bytes:
    configured = os.environ.get(SECRET_ENV, "")
    return configured.encode() if configured else _PROCESS_SECRET


def _signing_key(digest: str) -> bytes:
    return hmac.new(_secret(), digest.encode(), hashlib.sha256).digest()


def _sign(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def new_session(principal: Principal, key: str, *, now: float | None = None) -> str:
    """The session id for a key just checked by `authenticate`."""
    expires = int((time.time() if now is None else now) + SESSION_SECONDS)
    body = f"{principal.key_id}.{expires}.{secrets.token_urlsafe(16)}"
    return f"{body}.{_sign(_signing_key(digest_of(key)), body)}"


class Session:
    """A valid session: who it is for, when it expires, and its CSRF token."""

    def __init__(self, principal: Principal, token: str, signing_key: bytes, expires: int):
        self.principal = principal
        self.digest = session_digest(token)
        self.expires_at = datetime.fromtimestamp(expires, UTC)
        self.csrf_token = _sign(signing_key, f"csrf:{token}")

    def csrf_ok(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf_token, str(sent))


def session_digest(token: str) -> str:
    """What the book keeps of a signed-out session id."""
    return hashlib.sha256(token.encode()).hexdigest()


def read_session(book: Book, token: str | None, *, now: float | None = None) -> Session | None:
    """The session `token` stands for, or None: malformed, forged, expired, signed out, or
    its key unknown or revoked."""
    if not token or len(token) > 300:
        return None
    parts = token.split(".")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    key_id, expires, signature = int(parts[0]), int(parts[1]), parts[3]
    if expires < (time.time() if now is None else now) or key_id > 2**62:
        return None
    with book.store.reader() as uow:
        stored = uow.api_keys.get(key_id)
        ended = stored is not None and uow.api_keys.session_ended(session_digest(token))
    if stored is None or stored.revoked_at is not None or ended:
        return None
    signing_key = _signing_key(stored.digest)
    if not hmac.compare_digest(_sign(signing_key, ".".join(parts[:3])), signature):
        return None
    principal = Principal(key_id=stored.key_id, role=stored.role, customer_id=stored.customer_id)
    return Session(principal, token, signing_key, expires)


def _here(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def sign_in_url(next_path: str) -> str:
    return f"/ui/sign-in?next={quote(next_path, safe='')}"


def safe_next(next_path: str | None) -> str | None:
    """`next` when it is a dashboard path on this server (never another site)."""
    if not next_path or len(next_path) > 2000 or not next_path.startswith("/ui"):
        return None
    parts = urlsplit(next_path)
    if parts.scheme or parts.netloc or "\\" in next_path:
        return None
    return next_path


def same_origin(request: Request) -> bool:
    """False when the request names an Origin that is not this server."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in {f"http://{host}", f"https://{host}"}


def any_session(request: Request, book: BookDep) -> Session:
    """The signed-in session, whatever its role; a redirect to the sign-in form without one.
    A POST must come from this server's own pages (the Origin check)."""
    session = read_session(book, request.cookies.get(COOKIE))
    if session is None:
        raise SignInNeeded(_here(request) if request.method in READ_METHODS else "/ui")
    if request.method not in READ_METHODS and not same_origin(request):
        raise PageRefused(403, "this form was sent from another site")
    request.state.principal = session.principal
    return session


def current_session(session: Annotated[Session, Depends(any_session)], request: Request) -> Session:
    """The session, for a page or an action: auditors may read, never change anything."""
    if request.method not in READ_METHODS and session.principal.role == AUDITOR:
        raise PageRefused(403, "auditors read everything and change nothing")
    return session


SessionDep = Annotated[Session, Depends(current_session)]
AnySessionDep = Annotated[Session, Depends(any_session)]


def allow(session: Session, roles: tuple[str, ...]) -> None:
    """Refuse a role the page does not serve (the API's role sets)."""
    if session.principal.role not in roles:
        raise PageRefused(
            403,
            f"a {session.principal.role} key may not open this page or do this "
            f"(allowed: {', '.join(roles)})",
        )


def allow_customer(session: Session, customer_id: str) -> None:
    """A customer key sees its own customer only (the API's OWN_CUSTOMER_ONLY rule)."""
    try:
        check_customer_access(session.principal, customer_id)
    except ProblemError as refused:
        raise PageRefused(refused.status, refused.detail) from None


async def require_csrf(request: Request, session: Session) -> dict[str, str]:
    """The form's fields, once its CSRF token matches the session's."""
    form = await request.form()
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    if not session.csrf_ok(fields.get("csrf_token")):
        raise PageRefused(403, "this form has expired or did not come from this dashboard")
    for name, value in fields.items():
        if "\x00" in value:
            raise PageRefused(422, f"{name}: {NUL_DETAIL}")
    return fields
