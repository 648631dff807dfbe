"""Parameters: the version in force, every version, a past one, a diff; risk_admin sets a
new version (with a reason, audited) and runs a candidate in shadow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from creditlink.application.challenger import shadow_report, start_shadow, stop_shadow
from creditlink.application.parameters import parameter_history, parameter_set, set_parameters
from creditlink.application.ports import Candidate
from creditlink.domain.parameters import ParameterSet
from creditlink.interfaces.http.auth import RiskAdmin, StaffOrAuditor
from creditlink.interfaces.http.deps import BookDep, on_report_threads
from creditlink.interfaces.http.idempotency import IDEMPOTENT_RESPONSES, OptionallyIdempotent
from creditlink.interfaces.http.schemas import (
    ERROR_RESPONSES,
    ID_MAX,
    CandidateOut,
    ParameterChangeRequest,
    ParameterDiff,
    ParameterDiffItem,
    ParameterSetOut,
    ParameterVersionOut,
    ShadowReport,
    ShadowStartRequest,
    ShadowStopRequest,
)

router = APIRouter(tags=["parameters"], responses=ERROR_RESPONSES)
VERSION_MAX = ID_MAX
Version = Annotated[int, Path(ge=1, le=VERSION_MAX)]


def _set(parameters: ParameterSet) -> ParameterSetOut:
    return ParameterSetOut(version=parameters.version, parameters=parameters.as_text())


def _candidate(candidate: Candidate) -> CandidateOut:
    return CandidateOut(
        candidate_id=candidate.candidate_id,
        started_at=candidate.started_at,
        actor=candidate.actor,
        reason=candidate.reason,
        parameters=candidate.parameters.as_text(),
    )


@router.get("/parameters", response_model=ParameterSetOut)
def show_current(principal: StaffOrAuditor, book: BookDep) -> ParameterSetOut:
    """The version in force: every parameter by dotted name, as text."""
    return _set(parameter_set(book.store.reader()))


@router.post(
    "/parameters",
    response_model=ParameterSetOut,
    status_code=201,
    responses=IDEMPOTENT_RESPONSES,
)
def set_(
    principal: RiskAdmin,
    body: ParameterChangeRequest,
    book: BookDep,
    idempotency: OptionallyIdempotent,
) -> Response:
    """Put a new version in force from the next operation: `changes` applied all or nothing,
    with the `reason` audited. risk_admin only. With an Idempotency-Key, a retry gets the
    first answer instead of making another version."""

    def run() -> tuple[int, ParameterSetOut]:
        after = set_parameters(
            book.store.unit_of_work(),
            changes=body.changes,
            actor=principal.actor,
            reason=body.reason,
            clock=book.clock,
        )
        return 201, _set(after)

    return idempotency.respond(run)


@router.get("/parameters/versions", response_model=list[ParameterVersionOut])
def history(principal: StaffOrAuditor, book: BookDep) -> list[ParameterVersionOut]:
    """Every version, oldest first: when, by whom and why."""
    return [
        ParameterVersionOut(
            version=item.version,
            created_at=item.created_at,
            actor=item.actor,
            reason=item.reason,
            in_force_from=item.in_force_from,
        )
        for item in parameter_history(book.store.reader())
    ]


@router.get("/parameters/versions/{version}", response_model=ParameterSetOut)
def show_version(principal: StaffOrAuditor, version: Version, book: BookDep) -> ParameterSetOut:
    """A version, in force or past."""
    return _set(parameter_set(book.store.reader(), version=version))


@router.get("/parameters/diff", response_model=ParameterDiff)
def diff(
    principal: StaffOrAuditor,
    book: BookDep,
    first: Annotated[int, Query(alias="from", ge=1, le=VERSION_MAX)],
    second: Annotated[int, Query(alias="to", ge=1, le=VERSION_MAX)],
) -> ParameterDiff:
    """What differs between versions `from` and `to`."""
    before = parameter_set(book.store.reader(), version=first)
    after = parameter_set(book.store.reader(), version=second)
    return ParameterDiff(
        first=first,
        second=second,
        changes=[
            ParameterDiffItem(name=c.name, before=c.before, after=c.after)
            for c in before.diff(after)
        ],
    )


@router.get("/parameters/shadow", response_model=ShadowReport)
@on_report_threads
def report(
    principal: StaffOrAuditor,
    book: BookDep,
    candidate: Annotated[
        int | None,
        Query(ge=1, le=VERSION_MAX, description="Default: the one running, else the last."),
    ] = None,
) -> ShadowReport:
    """Where a candidate's would-be outcomes differ from the live ones (champion/challenger)."""
    return ShadowReport.model_validate(shadow_report(book.store.reader(), candidate_id=candidate))


@router.post(
    "/parameters/shadow",
    response_model=CandidateOut,
    status_code=201,
    responses=IDEMPOTENT_RESPONSES,
)
def start(
    principal: RiskAdmin,
    body: ShadowStartRequest,
    book: BookDep,
    idempotency: OptionallyIdempotent,
) -> Response:
    """Judge every decision under the live set with `changes` too, from the next one:
    recorded beside the live outcome, never applied. Replaces a running candidate."""

    def run() -> tuple[int, CandidateOut]:
        started = start_shadow(
            book.store.unit_of_work(),
            changes=body.changes,
            actor=principal.actor,
            reason=body.reason,
            clock=book.clock,
        )
        return 201, _candidate(started)

    return idempotency.respond(run)


@router.post("/parameters/shadow/stop", response_model=CandidateOut, responses=IDEMPOTENT_RESPONSES)
def stop(
    principal: RiskAdmin,
    body: ShadowStopRequest,
    book: BookDep,
    idempotency: OptionallyIdempotent,
) -> Response:
    """Stop judging decisions under the candidate (its report stays); 409 when none runs."""

    def run() -> tuple[int, CandidateOut]:
        stopped = stop_shadow(
            book.store.unit_of_work(), actor=principal.actor, reason=body.reason, clock=book.clock
        )
        return 200, _candidate(stopped)

    return idempotency.respond(run)
