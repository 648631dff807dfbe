"""Scores inside the platform: the application score at onboarding, the behaviour score from
both products in the close of day, and what they set: grade, joint limit, caps, loan price.

The scorecard in use is named by the parameters (`score.application_model`,
`score.behaviour_model`). When it cannot be found, decisions fall back to a conservative
rules-only policy and say so (`RULES_ONLY_FALLBACK`). Customers whose limits and price were
set by hand (scenario customers, officers' manual limits) are scored, but their limits and
price never change by score (DOMAIN.md §6).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from creditlink.application.ports import Store, UnitOfWork
from creditlink.domain.customer import Customer, CustomerScore, NationalId
from creditlink.domain.errors import Conflict
from creditlink.domain.limits import AlertLevel, JointLimit
from creditlink.domain.loan.loan import Loan
from creditlink.domain.parameters import ParameterSet
from creditlink.domain.paylater.account import PayLaterAccount
from creditlink.risk.expert import SCORECARDS, PointsScorecard, Score
from creditlink.risk.features import MoneyEvent, behaviour_features
from creditlink.risk.policy import Offer, grade_of, offer_for

FALLBACK = "RULES_ONLY_FALLBACK"
RULES_ONLY = "rules-only"
BATCH = 500


def scorecard(name: str) -> PointsScorecard | None:
    """The named scorecard, or None when it cannot be loaded."""
    return SCORECARDS.get(name)


def application_record(
    *, national_id: NationalId, monthly_income_fen: int | None, on: date
) -> dict[str, object]:
    born = national_id.birth_date
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return {
        "age": age,
        "monthly_income_yuan": None if monthly_income_fen is None else monthly_income_fen / 100,
    }


def _scored(score: Score, parameters: ParameterSet, on: date) -> CustomerScore:
    """A scorecard's score, graded by the bands in force."""
    return CustomerScore(
        points=score.points,
        grade=grade_of(score.points, dict(parameters.values.score_grade_bands)),
        model_version=score.model_version,
        reasons=score.reasons,
        scored_on=on,
    )


def score_application(
    *, national_id: NationalId, monthly_income_fen: int | None, on: date, parameters: ParameterSet
) -> CustomerScore:
    record = application_record(
        national_id=national_id, monthly_income_fen=monthly_income_fen, on=on
    )
    card = scorecard(parameters.values.score_application_model)
    if card is None:
        # Rules only: a new customer is at best grade D, and E without a declared income.
        grade = "D" if monthly_income_fen else "E"
        return CustomerScore(
            points=0, grade=grade, model_version=RULES_ONLY, reasons=(FALLBACK,), scored_on=on
        )
    return _scored(card.score(record), parameters, on)


def _events(rows: list[tuple[date, str, int, str]]) -> list[MoneyEvent]:
    """Draws, and repayments that went to PayLater (their second line is a PayLater account)."""
    events = []
    for on, kind, amount, second in rows:
        if kind == "loan_draw":
            events.append(MoneyEvent(on, "loan_draw", amount))
        elif second.startswith("paylater."):
            events.append(MoneyEvent(on, "paylater_repayment", amount))
    return events


def score_behaviour(
    uow: UnitOfWork,
    *,
    customer: Customer,
    limit: JointLimit,
    on: date,
    parameters: ParameterSet,
    account: PayLaterAccount | None = None,
    loans: list[Loan] | None = None,
) -> CustomerScore:
    """The behaviour score of one customer from the records of both products (the caller may
    hand over the records it has loaded already)."""
    customer_id = customer.customer_id
    account = account if account is not None else uow.paylater.get(customer_id, read_only=True)
    loans = loans if loans is not None else uow.loans.of_customer(customer_id, read_only=True)
    since = on - timedelta(days=370)
    features = behaviour_features(
        limit=limit,
        paylater=account,
        loans=loans,
        onboarded_on=customer.onboarded_on,
        events=_events(uow.ledger.money_events(customer.customer_id, since=since)),
        on=on,
    )
    card = scorecard(parameters.values.score_behaviour_model)
    if card is None:
        late = max(features["max_dpd_paylater_12m"], features["max_dpd_loan_12m"])
        return CustomerScore(
            points=0,
            grade="D" if late == 0 else "E",
            model_version=RULES_ONLY,
            reasons=(FALLBACK,),
            scored_on=on,
        )
    return _scored(card.score(features), parameters, on)


def offer_of(customer: Customer, score: CustomerScore, parameters: ParameterSet) -> Offer:
    return offer_for(
        grade=score.grade,
        monthly_income_fen=customer.monthly_income_fen or 0,
        parameters=parameters.values,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Rescored:
    customer: Customer
    limit: JointLimit
    changed_limits: bool


def rescore(
    uow: UnitOfWork,
    *,
    customer_id: str,
    on: date,
    parameters: ParameterSet,
    customer: Customer | None = None,
    account: PayLaterAccount | None = None,
    loans: list[Loan] | None = None,
) -> Rescored:
    """Score one customer's behaviour and, unless pinned, set price and limits from it:
    decreases at once, increases after the delay, never an increase at RESTRICT or above."""
    limit = uow.limits.get(customer_id, for_update=True)
    customer = customer if customer is not None else uow.customers.get(customer_id)
    score = score_behaviour(
        uow,
        customer=customer,
        limit=limit,
        on=on,
        parameters=parameters,
        account=account,
        loans=loans,
    )
    customer = replace(customer, score=score)
    changed = False
    if not customer.pricing_pinned and customer.monthly_income_fen:
        offer = offer_of(customer, score, parameters)
        if offer.loan_daily_rate is not None:
            customer = replace(customer, loan_daily_rate=offer.loan_daily_rate)
        target = (offer.joint_limit_fen, offer.cap_paylater_fen, offer.cap_loan_fen)
        if limit.level.rank >= AlertLevel.RESTRICT.rank:
            target = (
                min(target[0], limit.joint_limit_fen),
                min(target[1], limit.cap_paylater_fen),
                min(target[2], limit.cap_loan_fen),
            )
        if target != (limit.joint_limit_fen, limit.cap_paylater_fen, limit.cap_loan_fen):
            try:
                limit = limit.change(
                    on=on,
                    delay_days=parameters.values.limit_increase_delay_days,
                    joint_limit_fen=target[0],
                    cap_paylater_fen=target[1],
                    cap_loan_fen=target[2],
                ).limit
            except Conflict:
                pass  # a level raised meanwhile refuses the increase; the decreases wait too
            else:
                uow.limits.save(customer_id, limit)
                changed = True
    uow.customers.update(customer)
    return Rescored(customer=customer, limit=limit, changed_limits=changed)


def rescore_if_due(
    uow: UnitOfWork,
    *,
    customer_id: str,
    on: date,
    parameters: ParameterSet,
    account: PayLaterAccount | None = None,
    loans: list[Loan] | None = None,
) -> bool:
    """Re-score a customer whose behaviour score is older than
    `score.behaviour_interval_months`. The close of day calls this when it visits the
    customer's products anyway (a statement eve, a due date), so each active customer is
    re-scored about monthly at no extra visit, and the cost is spread over the month."""
    customer = uow.customers.get(customer_id)
    score = customer.score
    interval = parameters.values.score_behaviour_interval_months
    fresh = score is not None and score.model_version != parameters.values.score_application_model
    if fresh and score is not None and (on - score.scored_on).days < 28 * interval:
        return False
    rescore(
        uow,
        customer_id=customer_id,
        on=on,
        parameters=parameters,
        customer=customer,
        account=account,
        loans=loans,
    )
    return True


def rescore_all(store: Store, *, on: date, parameters: ParameterSet) -> int:
    """Re-score every customer, in batches of one transaction each; safe to repeat."""
    done, after = 0, ""
    while True:
        with store.unit_of_work() as uow:
            ids = uow.customers.ids(after=after, limit=BATCH)
            if not ids:
                return done
            for customer_id in ids:
                rescore(uow, customer_id=customer_id, on=on, parameters=parameters)
            uow.commit()
        done += len(ids)
        after = ids[-1]
