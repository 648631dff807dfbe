"""The dashboard's pages under `/ui`: server-rendered, each calling the same use cases and
queries as the API and the CLI.

| page                    | who                         | shows                                  |
|-------------------------|-----------------------------|----------------------------------------|
| /ui/sign-in             | anyone                      | the API-key form                       |
| /ui (overview)          | operator, risk_admin, auditor | portfolio figures, ECL, charts       |
| /ui/customers           | operator, risk_admin, auditor | customers by pages                   |
| /ui/customers/{id}      | everyone (customer: own)    | both products, limit, score, alerts,   |
|                         |                             | decisions                              |
| /ui/alerts              | operator, risk_admin, auditor | the queue; staff acknowledge/escalate|
| /ui/parameters          | operator, risk_admin, auditor | versions, diff, shadow report; the   |
|                         |                             | change form for risk_admin only        |
| /ui/incidents           | operator, risk_admin, auditor | incidents and indicator history      |

Figures are as of `?on=YYYY-MM-DD`, by default the last closed business date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from creditlink.application import business_date as dates
from creditlink.application.alerts import (
    acknowledge_alert,
    alert_page,
    escalate_alert,
    get_alert,
)
from creditlink.application.apikeys import authenticate, end_session
from creditlink.application.challenger import shadow_report
from creditlink.application.customers import customer_page
from creditlink.application.emergency import indicator_history, list_incidents
from creditlink.application.overview import portfolio_overview
from creditlink.application.parameters import parameter_history, parameter_set, set_parameters
from creditlink.application.portfolio import Partition, ecl_partition, ecl_summary
from creditlink.application.queries import customer_state, decision_page
from creditlink.bootstrap import Book
from creditlink.domain.calendar import EARLIEST_DATE, LATEST_DATE
from creditlink.domain.errors import CreditlinkError, NotFound
from creditlink.domain.money import format_fen
from creditlink.domain.parameters import definitions
from creditlink.interfaces.cli.views import customer_data
from creditlink.interfaces.http.auth import (
    CUSTOMER,
    RISK_ADMINS,
    STAFF,
    STAFF_AND_AUDITORS,
)
from creditlink.interfaces.http.deps import BookDep, on_report_threads
from creditlink.interfaces.http.problems import status_of
from creditlink.interfaces.http.schemas import ID_MAX, DateText
from creditlink.interfaces.web import charts
from creditlink.interfaces.web.session import (
    COOKIE,
    COOKIE_PATH,
    SESSION_SECONDS,
    AnySessionDep,
    PageRefused,
    Session,
    SessionDep,
    allow,
    allow_customer,
    new_session,
    read_session,
    require_csrf,
    safe_next,
    same_origin,
)

router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Environment(
    loader=PackageLoader("creditlink.interfaces.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["fen"] = format_fen
STATIC = Path(__file__).parent / "static"
PAGE_SIZE = 50
DECISIONS_SHOWN = 100
INDICATOR_DAYS = 30
OnQuery = Annotated[
    date | None,
    DateText,
    Query(
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description="As of this date (default: the last closed date; a customer's page, the "
        "open business date).",
    ),
]
IdPath = Annotated[int, PathParam(ge=1, le=ID_MAX)]
VersionQuery = Annotated[int | None, Query(ge=1, le=ID_MAX)]


def render(
    request: Request,
    name: str,
    *,
    session: Session | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page from its template, with who is signed in and the CSRF token for its forms."""
    from creditlink.interfaces.web import plotly_url

    html = templates.get_template(name).render(
        request=request,
        principal=session.principal if session else None,
        csrf_token=session.csrf_token if session else "",
        plotly_url=plotly_url(),
        staff=STAFF,
        risk_admins=RISK_ADMINS,
        status_code=status,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def _as_of(book: Book, on: date | None, *, report: bool = True) -> date:
    """A page's date, by the API's rules: a whole-book page is as of the last close (or
    `on`, not before it), a customer's page as of the open business date (or `on`, not
    before it)."""
    rule = dates.report_date if report else dates.view_date
    try:
        return rule(book.store.reader(), on, today=book.clock.today())
    except CreditlinkError as refused:
        raise PageRefused(status_of(refused), refused.message) from None


def _home(session: Session) -> str:
    principal = session.principal
    if principal.role == CUSTOMER:
        return f"/ui/customers/{principal.customer_id}"
    return "/ui"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- signing in and out ------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_form(request: Request, book: BookDep, next: str | None = None) -> Response:
    session = read_session(book, request.cookies.get(COOKIE))
    if session is not None:
        return _see_other(safe_next(next) or _home(session))
    return render(request, "sign_in.html", session=None, next=safe_next(next) or "", error=None)


@router.post("/sign-in")
def sign_in(
    request: Request,
    book: BookDep,
    api_key: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the key as the API does; on success set the session cookie (never the key)."""
    if not same_origin(request):
        raise PageRefused(403, "this form was sent from another site")
    principal = authenticate(book.store.reader(), api_key.strip())
    if principal is None:
        return render(
            request,
            "sign_in.html",
            session=None,
            status=401,
            next=safe_next(next) or "",
            error="This API key is unknown or revoked.",
        )
    token = new_session(principal, api_key.strip())
    session = read_session(book, token)
    assert session is not None
    response = _see_other(safe_next(next) or _home(session))
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request, session: AnySessionDep, book: BookDep) -> Response:
    """Everyone may sign out, auditors included. The session ends for good: a copy of its
    id stops working too."""
    await require_csrf(request, session)
    end_session(
        book.store.unit_of_work(),
        session_digest=session.digest,
        key_id=session.principal.key_id,
        expires_at=session.expires_at,
        at=datetime.now(UTC),
    )
    response = _see_other("/ui/sign-in")
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response


# -- the overview ------------------------------------------------------------------------


@router.get("")
@on_report_threads
def overview(request: Request, session: SessionDep, book: BookDep, on: OnQuery = None) -> Response:
    if session.principal.role == CUSTOMER:
        return _see_other(_home(session))
    allow(session, STAFF_AND_AUDITORS)
    as_of = _as_of(book, on)
    figures = portfolio_overview(book.store.reader(), on=as_of)
    parameters = parameter_set(book.store.reader())
    ecl = ecl_summary(
        ecl_partition(book.store, Partition("", None), on=as_of, parameters=parameters)
    )
    incidents = [i for i in list_incidents(book.store.reader()) if i.open]
    customers = customer_page(book.store.reader(), offset=0, limit=PAGE_SIZE)
    return render(
        request,
        "overview.html",
        session=session,
        on=as_of,
        figures=figures,
        ecl=ecl,
        incidents=incidents,
        customers=customers,
        charts=charts.overview_charts(figures, ecl),
    )


@router.get("/customers")
def customers(
    request: Request,
    session: SessionDep,
    book: BookDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    if session.principal.role == CUSTOMER:
        return _see_other(_home(session))
    allow(session, STAFF_AND_AUDITORS)
    page = customer_page(book.store.reader(), offset=offset, limit=PAGE_SIZE)
    return render(request, "customers.html", session=session, page=page)


@router.get("/customers/{customer_id}")
def customer(
    request: Request, customer_id: str, session: SessionDep, book: BookDep, on: OnQuery = None
) -> Response:
    """Everything about one customer; a customer key sees only its own (checked before the
    customer is looked up, as in the API)."""
    allow_customer(session, customer_id)
    as_of = _as_of(book, on, report=False)
    try:
        state = customer_state(book.store.reader(), customer_id=customer_id, on=as_of)
    except NotFound as missing:
        raise PageRefused(404, missing.message) from None
    from creditlink.application.customers import CustomerView

    shown = customer_data(CustomerView(customer=state.customer, limit=state.limit, on=as_of))
    alerts = alert_page(book.store.reader(), customer_id=customer_id, limit=200)
    made = decision_page(
        book.store.reader(), customer_id=customer_id, offset=0, limit=DECISIONS_SHOWN
    )
    return render(
        request,
        "customer.html",
        session=session,
        on=as_of,
        c=shown,
        state=state,
        alerts=alerts,
        decisions=made.items,
        decisions_total=made.total,
    )


# -- the alert queue ---------------------------------------------------------------------

ALERT_FILTERS = ("open", "escalated", "acknowledged", "all")
DONE = re.compile(r"(acknowledged|escalated)-(\d{1,10})")


@router.get("/alerts")
def alerts(
    request: Request,
    session: SessionDep,
    book: BookDep,
    status: str = "open",
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    done: str | None = None,
) -> Response:
    allow(session, STAFF_AND_AUDITORS)
    step = DONE.fullmatch(done or "")
    said = f"Alert {step.group(2)} {step.group(1)}." if step else None
    return _alert_queue(request, session, book, status=status, offset=offset, done=said)


def _alert_queue(
    request: Request,
    session: Session,
    book: Book,
    *,
    status: str,
    offset: int = 0,
    done: str | None = None,
    error: str | None = None,
    code: int = 200,
) -> Response:
    status = status if status in ALERT_FILTERS else "open"
    page = alert_page(
        book.store.reader(),
        status=None if status == "all" else status,
        offset=offset,
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "alerts.html",
        session=session,
        status=code,
        current_filter=status,
        filters=ALERT_FILTERS,
        page=page,
        done=done,
        error=error,
    )


async def _alert_action(
    request: Request, session: Session, book: Book, alert_id: IdPath, verb: str
) -> Response:
    allow(session, STAFF)
    fields = await require_csrf(request, session)
    note = fields.get("note", "")
    back = fields.get("filter", "open")
    step = acknowledge_alert if verb == "acknowledge" else escalate_alert
    try:
        step(
            book.store.unit_of_work(),
            alert_id=alert_id,
            actor=session.principal.actor,
            note=note,
            clock=book.clock,
        )
    except CreditlinkError as refused:
        return _alert_queue(
            request, session, book, status=back, error=refused.message, code=status_of(refused)
        )
    filter_ = back if back in ALERT_FILTERS else "open"
    return _see_other(f"/ui/alerts?status={filter_}&done={verb}d-{alert_id}")


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(
    request: Request, alert_id: IdPath, session: SessionDep, book: BookDep
) -> Response:
    return await _alert_action(request, session, book, alert_id, "acknowledge")


@router.post("/alerts/{alert_id}/escalate")
async def escalate(
    request: Request, alert_id: IdPath, session: SessionDep, book: BookDep
) -> Response:
    return await _alert_action(request, session, book, alert_id, "escalate")


@router.get("/alerts/{alert_id}")
def alert(request: Request, alert_id: IdPath, session: SessionDep, book: BookDep) -> Response:
    try:
        found = get_alert(book.store.reader(), alert_id=alert_id)
    except NotFound as missing:
        allow(session, STAFF_AND_AUDITORS)  # a customer learns nothing about others' alerts
        raise PageRefused(404, missing.message) from None
    allow_customer(session, found.customer_id)
    return _see_other(f"/ui/customers/{found.customer_id}#alert-{alert_id}")


# -- parameters --------------------------------------------------------------------------


@router.get("/parameters")
@on_report_threads
def parameters(
    request: Request,
    session: SessionDep,
    book: BookDep,
    a: VersionQuery = None,
    b: VersionQuery = None,
    done: int | None = None,
) -> Response:
    allow(session, STAFF_AND_AUDITORS)
    return _parameters_page(request, session, book, a=a, b=b, done=done)


def _parameters_page(
    request: Request,
    session: Session,
    book: Book,
    *,
    a: VersionQuery = None,
    b: VersionQuery = None,
    done: int | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    code: int = 200,
) -> Response:
    history = parameter_history(book.store.reader())
    current = parameter_set(book.store.reader())
    newest = current.version
    b = b if b is not None else newest
    a = a if a is not None else max(1, b - 1)
    diff_error = None
    try:
        diff = parameter_set(book.store.reader(), version=a).diff(
            parameter_set(book.store.reader(), version=b)
        )
    except NotFound as missing:
        diff, diff_error = [], missing.message
    named = definitions()
    values = [
        {"name": name, "value": text, "doc": named[name][1].doc, "kind": named[name][1].kind}
        for name, text in current.as_text().items()
    ]
    return render(
        request,
        "parameters.html",
        session=session,
        status=code,
        history=list(reversed(history)),
        current=current,
        values=values,
        a=a,
        b=b,
        diff=diff,
        diff_error=diff_error,
        shadow=shadow_report(book.store.reader()),
        done=done,
        error=error,
        form=form or {},
    )


@router.post("/parameters")
async def change_parameter(request: Request, session: SessionDep, book: BookDep) -> Response:
    """risk_admin only: one parameter, a new value and the reason, via `set_parameters`."""
    allow(session, RISK_ADMINS)
    fields = await require_csrf(request, session)
    name, value = fields.get("name", "").strip(), fields.get("value", "").strip()
    try:
        after = set_parameters(
            book.store.unit_of_work(),
            changes={name: value},
            actor=session.principal.actor,
            reason=fields.get("reason", ""),
            clock=book.clock,
        )
    except CreditlinkError as refused:
        detail = f"{refused.field}: {refused.message}" if refused.field else refused.message
        return _parameters_page(
            request,
            session,
            book,
            error=detail,
            form={k: fields.get(k, "") for k in ("name", "value", "reason")},
            code=status_of(refused),
        )
    return _see_other(f"/ui/parameters?done={after.version}")


# -- incidents ---------------------------------------------------------------------------


@router.get("/incidents")
def incidents(request: Request, session: SessionDep, book: BookDep, on: OnQuery = None) -> Response:
    allow(session, STAFF_AND_AUDITORS)
    as_of = _as_of(book, on)
    found = list(reversed(list_incidents(book.store.reader())))
    history = indicator_history(
        book.store.reader(), first=as_of - timedelta(days=INDICATOR_DAYS - 1), last=as_of
    )
    return render(
        request,
        "incidents.html",
        session=session,
        on=as_of,
        incidents=found,
        indicators=list(reversed(history)),
    )
