"""Champion/challenger: a candidate parameter set judged beside the live one, in shadow on
every decision or over recorded decisions (the back-test).

Both judge the recorded `Context` of a decision with `risk.decisions.decide`, the one rule
implementation the live path uses. The back-test re-judges what was asked under the
candidate's rules (levels, categories, minimum, APR cap, exposure cap, velocity); the limit
availability is the one recorded at the time, since a limit follows from earlier outcomes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from creditlink.application.parameters import current_parameters, require_reason
from creditlink.application.ports import AuditRecord, Candidate, Clock, DecisionRecord, UnitOfWork
from creditlink.domain.errors import Conflict, InvalidInput, NotFound
from creditlink.domain.parameters import ParameterSet
from creditlink.risk.decisions import JUDGED, Context, decide

SAMPLES = 20
_DPD = re.compile(r"dpd (\d+)")


class NoCandidate(Conflict):
    code = "NO_CANDIDATE"


def candidate_set(live: ParameterSet, changes: Mapping[str, object]) -> ParameterSet:
    """The live set with `changes` applied (validated as `params set` validates them)."""
    if not changes:
        raise InvalidInput(
            "a candidate changes at least one parameter", field="candidate", rule="CANDIDATE_EMPTY"
        )
    return live.changed(changes)


def start_shadow(
    uow: UnitOfWork, *, changes: Mapping[str, object], actor: str, reason: str, clock: Clock
) -> Candidate:
    """Run the live set with `changes` in shadow from the next decision, replacing any
    candidate already running; audited."""
    require_reason(reason, what="a shadow change")
    with uow:
        live = current_parameters(uow)
        proposed = candidate_set(live, changes)
        before = uow.parameters.candidate()
        candidate = Candidate(
            candidate_id=uow.parameters.next_candidate_id(),
            parameters=proposed,
            started_at=clock.now(),
            actor=actor,
            reason=reason,
        )
        uow.parameters.set_candidate(candidate)
        uow.audit.record(
            AuditRecord(
                at=clock.now(),
                actor=actor,
                action="parameters.shadow_started",
                subject=f"candidate {candidate.candidate_id}",
                reason=reason,
                details={
                    "live_version": live.version,
                    "replaces": before.candidate_id if before else None,
                    "diff": {
                        c.name: {"live": c.before, "candidate": c.after}
                        for c in live.diff(proposed)
                    },
                },
            )
        )
        uow.commit()
    return candidate


def stop_shadow(uow: UnitOfWork, *, actor: str, reason: str, clock: Clock) -> Candidate:
    require_reason(reason, what="a shadow change")
    with uow:
        candidate = uow.parameters.candidate()
        if candidate is None:
            raise NoCandidate(
                "no candidate is running in shadow", field="candidate", rule="SHADOW_RUNNING"
            )
        uow.parameters.set_candidate(None)
        uow.audit.record(
            AuditRecord(
                at=clock.now(),
                actor=actor,
                action="parameters.shadow_stopped",
                subject=f"candidate {candidate.candidate_id}",
                reason=reason,
                details={},
            )
        )
        uow.commit()
    return candidate


@dataclass
class Comparison:
    """Live against candidate outcomes over a set of decisions."""

    decisions: int = 0
    live: Counter[str] = field(default_factory=Counter)
    candidate: Counter[str] = field(default_factory=Counter)
    by_op: dict[str, Counter[str]] = field(default_factory=dict)
    transitions: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    reasons_added: Counter[str] = field(default_factory=Counter)
    changed_customers: dict[str, date] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, decision: DecisionRecord, outcome: str, reasons: Iterable[str]) -> None:
        reasons = list(reasons)
        self.decisions += 1
        self.live[decision.outcome] += 1
        self.candidate[outcome] += 1
        self.by_op.setdefault(decision.op, Counter())["decisions"] += 1
        if outcome == decision.outcome and tuple(reasons) == decision.reasons:
            return
        for reason in reasons:
            if reason not in decision.reasons:
                self.reasons_added[reason] += 1
        if outcome == decision.outcome:
            # The same outcome for other reasons: the customer sees no change, so it is not
            # a changed decision, a transition or a customer whose later delinquency counts.
            self.by_op[decision.op]["reasons_only"] += 1
            return
        self.by_op[decision.op]["changed"] += 1
        self.transitions[(decision.op, decision.outcome, outcome)] += 1
        self.changed_customers.setdefault(decision.customer_id, decision.on)
        if len(self.samples) < SAMPLES:
            self.samples.append(
                {
                    "on": decision.on.isoformat(),
                    "customer": decision.customer_id,
                    "op": decision.op,
                    "ref": decision.ref,
                    "live": {"outcome": decision.outcome, "reasons": list(decision.reasons)},
                    "candidate": {"outcome": outcome, "reasons": reasons},
                }
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "decisions": self.decisions,
            "live_outcomes": dict(sorted(self.live.items())),
            "candidate_outcomes": dict(sorted(self.candidate.items())),
            "changed": sum(c["changed"] for c in self.by_op.values()),
            "reasons_only": sum(c["reasons_only"] for c in self.by_op.values()),
            "by_op": {op: dict(sorted(c.items())) for op, c in sorted(self.by_op.items())},
            "transitions": [
                {"op": op, "live": live, "candidate": would, "count": n}
                for (op, live, would), n in sorted(self.transitions.items())
            ],
            "reasons_added": dict(self.reasons_added.most_common()),
            "samples": self.samples,
        }


def shadow_report(uow: UnitOfWork, *, candidate_id: int | None = None) -> dict[str, Any]:
    """Where the candidate's would-be outcomes differ from the live ones, over every decision
    judged in shadow by candidate `candidate_id` (default: the one running, else the last)."""
    with uow:
        running = uow.parameters.candidate()
        if (
            candidate_id is not None
            and not 1 <= candidate_id <= uow.parameters.candidates_started()
        ):
            raise NotFound(
                f"no candidate {candidate_id} has run in shadow",
                field="candidate",
                rule="CANDIDATE_EXISTS",
            )
        shadowed = [d for d in uow.decisions.between(date.min, date.max) if d.shadow]
    wanted = candidate_id
    if wanted is None and running is not None:
        wanted = running.candidate_id
    if wanted is None:
        wanted = max((int(d.shadow["candidate"]) for d in shadowed if d.shadow), default=None)
    comparison = Comparison()
    for decision in shadowed:
        assert decision.shadow is not None
        if decision.shadow["candidate"] == wanted:
            comparison.add(decision, decision.shadow["outcome"], decision.shadow["reasons"])
    return {
        "candidate": wanted,
        "running": running is not None and running.candidate_id == wanted,
        **comparison.to_dict(),
    }


def backtest(
    uow: UnitOfWork, *, changes: Mapping[str, object], first: date, last: date
) -> dict[str, Any]:
    """Replay the decisions dated `first` to `last` through the live set with `changes`, and
    report approvals and declines each way and the later delinquency of the customers whose
    outcome would change."""
    if last < first:
        raise InvalidInput(
            f"--to {last.isoformat()} is before --from {first.isoformat()}",
            field="to",
            rule="DATE_RANGE_ORDER",
        )
    with uow:
        live = current_parameters(uow)
        candidate = candidate_set(live, changes)
        comparison = Comparison()
        skipped = 0
        for decision in uow.decisions.between(first, last):
            if decision.context is None or decision.op not in JUDGED:
                skipped += 1  # made before decisions kept their context, or not judged by rules
                continue
            verdict = decide(Context.from_dict(decision.context), candidate.values)
            comparison.add(decision, verdict.outcome.value, verdict.reasons)
        later = _later_delinquency(uow, comparison.changed_customers)
        closed = uow.eod.last_closed()
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "live_version": live.version,
        "changes": {c.name: {"live": c.before, "candidate": c.after} for c in live.diff(candidate)},
        "skipped_without_context": skipped,
        **comparison.to_dict(),
        "later_delinquency": {"as_of": closed.isoformat() if closed else None, **later},
    }


def _later_delinquency(uow: UnitOfWork, customers: Mapping[str, date]) -> dict[str, Any]:
    """For the customers whose outcome would change: how many later went 1+, 30+ and 90+
    days past due in either product (from the linkage alerts dated after their first changed
    decision and their DPD as of the last closed date), and how many were written off."""
    closed = uow.eod.last_closed()
    counts = Counter[str]()
    for customer_id, since in customers.items():
        worst = 0
        for alert in uow.alerts.list(customer_id=customer_id):
            found = _DPD.search(alert.evidence)
            if alert.on > since and alert.cause.endswith("_DPD") and found:
                worst = max(worst, int(found.group(1)))
        written_off = uow.paylater.written_off(customer_id) or uow.loans.written_off(customer_id)
        if closed is not None:
            worst = max(
                worst,
                uow.paylater.get(customer_id, read_only=True).dpd(closed),
                *(
                    loan.dpd(closed)
                    for loan in uow.loans.of_customer(customer_id, read_only=True)
                    if loan.active
                ),
            )
        counts["customers"] += 1
        counts["dpd_1_plus"] += worst >= 1
        counts["dpd_30_plus"] += worst >= 30
        counts["dpd_90_plus"] += worst >= 90
        counts["written_off"] += written_off
    return {
        key: counts[key]
        for key in ("customers", "dpd_1_plus", "dpd_30_plus", "dpd_90_plus", "written_off")
    }
