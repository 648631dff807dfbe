"""The books: ledger verification, the audit log, the portfolio overview and its expected
credit loss."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from creditlink.application.apikeys import Principal
from creditlink.application.ledger import verify_ledger
from creditlink.application.overview import portfolio_overview
from creditlink.application.parameters import parameter_set
from creditlink.application.portfolio import ecl_partition, ecl_summary, partitions
from creditlink.application.queries import PAGE_LIMIT_MAX, audit_page
from creditlink.interfaces.http.auth import AUDITOR, RISK_ADMIN, StaffOrAuditor, requires
from creditlink.interfaces.http.deps import BookDep, ReportOn, on_report_threads, report_date
from creditlink.interfaces.http.schemas import (
    ERROR_RESPONSES,
    AuditOut,
    AuditPage,
    EclReport,
    LedgerProblemOut,
    LedgerReportOut,
    PortfolioOverview,
)

router = APIRouter(tags=["books"], responses=ERROR_RESPONSES)
AuditorOrRiskAdmin = Annotated[Principal, requires(AUDITOR, RISK_ADMIN)]
OFFSET_MAX = 1_000_000_000
ECL_PARTITION_SIZE = 5_000


@router.get("/ledger/verify", response_model=LedgerReportOut)
@on_report_threads
def verify(principal: StaffOrAuditor, book: BookDep) -> LedgerReportOut:
    """Check every invariant of the ledger: every entry balanced, the trial balance zero, the
    hash chain intact, stored balances equal to the entries, receivables equal to what the
    products say is owed. `ok` is false, and `problems` names each break, when one fails."""
    report = verify_ledger(book.store.reader())
    return LedgerReportOut(
        ok=report.ok,
        entries=report.entries,
        balanced=report.balanced,
        unbalanced_entries=report.unbalanced_entries,
        trial_balance_fen=report.trial_balance_fen,
        chain_ok=report.chain_ok,
        account_balances_ok=report.balances_ok,
        receivables_ok=report.receivables_ok,
        accounts=dict(report.accounts),
        problem_count=report.problem_count,
        problems=[
            LedgerProblemOut(check=p.check, subject=p.subject, message=p.message)
            for p in report.problems
        ],
    )


@router.get("/audit", response_model=AuditPage)
def audit(
    principal: AuditorOrRiskAdmin,
    book: BookDep,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = 50,
    action: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Only this action, or its family: `limit` is `limit.change`, "
            "`limit.temporary`, ...",
        ),
    ] = None,
    actor: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Only this actor.")
    ] = None,
    subject: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Only this subject (a customer id, `version 3`, ...).",
        ),
    ] = None,
) -> AuditPage:
    """The audit log, newest first: every parameter change, manual action and key issued,
    with who, when, why and the details; filtered by action, actor and subject where
    given. auditor and risk_admin only."""
    records = audit_page(
        book.store.reader(),
        offset=offset,
        limit=limit,
        action=action,
        actor=actor,
        subject=subject,
    )
    return AuditPage(
        items=[
            AuditOut(
                at=r.at,
                actor=r.actor,
                action=r.action,
                subject=r.subject,
                reason=r.reason,
                details=dict(r.details),
            )
            for r in records
        ],
        offset=offset,
        limit=limit,
    )


@router.get("/portfolio", response_model=PortfolioOverview)
@on_report_threads
def overview(
    principal: StaffOrAuditor,
    book: BookDep,
    on: ReportOn = None,
) -> PortfolioOverview:
    """Customers, balances and DPD buckets per product, utilisation, the alert queue and
    open incidents, as the dashboard's overview shows them."""
    figures = portfolio_overview(book.store.reader(), on=report_date(on, book))
    return PortfolioOverview.model_validate(figures)


@router.get("/portfolio/ecl", response_model=EclReport)
@on_report_threads
def ecl(
    principal: StaffOrAuditor,
    book: BookDep,
    on: ReportOn = None,
) -> EclReport:
    """Expected credit loss (IFRS 9) by product and stage: accounts, exposure, ECL and the
    coverage, under the parameter version in force."""
    day = report_date(on, book)
    parameters = parameter_set(book.store.reader())
    parts = partitions(book.store, size=ECL_PARTITION_SIZE)
    lines = [
        line
        for part in parts
        for line in ecl_partition(book.store, part, on=day, parameters=parameters)
    ]
    return EclReport.model_validate(
        {
            "on": day,
            "partitions": len(parts),
            "accounts": len(lines),
            "by_product": ecl_summary(lines),
        }
    )
