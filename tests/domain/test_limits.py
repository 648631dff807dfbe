"""The joint limit of DOMAIN.md §2."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditlink.domain.errors import Conflict, InvalidInput
from creditlink.domain.limits import (
    AlertLevel,
    JointLimit,
    LimitExceeded,
    ProductStopped,
    TemporaryLimit,
)
from creditlink.domain.products import Product

DAY = date(2026, 3, 1)


def limit(
    t: int = 2_000_000,
    paylater: int = 1_500_000,
    loan: int = 2_000_000,
    *,
    used_paylater_fen: int = 0,
    used_loan_fen: int = 0,
) -> JointLimit:
    return JointLimit(
        joint_limit_fen=t,
        cap_paylater_fen=paylater,
        cap_loan_fen=loan,
        used_paylater_fen=used_paylater_fen,
        used_loan_fen=used_loan_fen,
    )


def test_the_products_compete_for_one_joint_limit() -> None:
    # T 20,000, PayLater cap 15,000, loan cap 20,000; 3,500 bought and 12,000 drawn:
    # PayLater min(15,000 - 3,500, 20,000 - 15,500) = 4,500; loan min(20,000 - 12,000, 4,500).
    state = limit().draw(Product.PAYLATER, 350_000, on=DAY).draw(Product.LOAN, 1_200_000, on=DAY)
    assert state.available_paylater(DAY) == 450_000
    assert state.available_loan(DAY) == 450_000
    assert state.joint_utilisation == Decimal("0.775")


def test_a_draw_equal_to_what_is_available_is_approved_and_one_fen_more_is_not() -> None:
    state = limit(t=800_000, paylater=800_000, loan=500_000)
    full = state.draw(Product.LOAN, 500_000, on=DAY)
    assert full.available_loan(DAY) == 0
    with pytest.raises(LimitExceeded) as raised:
        full.draw(Product.LOAN, 1, on=DAY)
    assert raised.value.available_fen == 0
    assert raised.value.rule == "LIMIT_EXCEEDED"


def test_a_temporary_limit_adds_to_paylater_only_while_valid() -> None:
    granted = limit(used_paylater_fen=1_500_000).grant_temporary(
        amount_fen=300_000, on=DAY, expires_on=DAY + timedelta(days=10)
    )
    assert granted.available_paylater(DAY) == 300_000
    assert granted.available_paylater(DAY + timedelta(days=10)) == 300_000
    assert granted.available_paylater(DAY + timedelta(days=11)) == 0
    assert granted.available_paylater(DAY - timedelta(days=1)) == 0
    assert granted.available_loan(DAY) == 500_000


def test_after_a_temporary_limit_lapses_usage_above_the_cap_is_over_limit() -> None:
    granted = limit().grant_temporary(
        amount_fen=300_000, on=DAY, expires_on=DAY + timedelta(days=5)
    )
    used = granted.draw(Product.PAYLATER, 1_700_000, on=DAY)
    lapsed = used.lapse_temporary(on=DAY + timedelta(days=5))
    assert lapsed.temporary is None
    assert lapsed.available_paylater(DAY + timedelta(days=6)) == 0
    assert lapsed.available_loan(DAY + timedelta(days=6)) == 300_000


def test_temporary_limits_are_refused_under_restrict_and_freeze() -> None:
    for level in (AlertLevel.RESTRICT, AlertLevel.FREEZE):
        with pytest.raises(Conflict):
            limit().with_level(level).grant_temporary(amount_fen=1, on=DAY, expires_on=DAY)


def test_a_decrease_takes_effect_at_once_and_pulls_caps_down_to_t() -> None:
    change = limit().change(on=DAY, delay_days=7, joint_limit_fen=1_000_000)
    assert change.limit.joint_limit_fen == 1_000_000
    assert change.limit.cap_paylater_fen == 1_000_000
    assert change.limit.cap_loan_fen == 1_000_000
    assert change.pending is None


def test_an_increase_waits_until_the_start_of_the_delay_day() -> None:
    change = limit().change(on=DAY, delay_days=7, joint_limit_fen=3_000_000, cap_loan_fen=1_000_000)
    assert change.limit.joint_limit_fen == 2_000_000
    assert change.limit.cap_loan_fen == 1_000_000  # the decrease is immediate
    assert change.pending is not None
    assert change.pending.effective_on == date(2026, 3, 8)
    assert change.limit.apply_due_increase(on=date(2026, 3, 7)).joint_limit_fen == 2_000_000
    applied = change.limit.apply_due_increase(on=date(2026, 3, 8))
    assert applied.joint_limit_fen == 3_000_000
    assert applied.cap_loan_fen == 1_000_000
    assert applied.pending is None


def test_an_increase_is_held_under_watch_and_cancelled_by_restrict() -> None:
    pending = limit().change(on=DAY, delay_days=7, joint_limit_fen=3_000_000).limit
    watched = pending.with_level(AlertLevel.WATCH)
    assert watched.apply_due_increase(on=date(2026, 3, 20)).joint_limit_fen == 2_000_000
    recovered = watched.with_level(AlertLevel.NONE).apply_due_increase(on=date(2026, 3, 20))
    assert recovered.joint_limit_fen == 3_000_000
    assert pending.with_level(AlertLevel.RESTRICT).pending is None
    with pytest.raises(Conflict):
        limit().with_level(AlertLevel.RESTRICT).change(
            on=DAY, delay_days=7, joint_limit_fen=3_000_000
        )


def test_caps_above_the_joint_limit_are_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        JointLimit.open(joint_limit_fen=1_000_000, cap_paylater_fen=1_000_001)
    assert raised.value.field == "cap_paylater"
    assert raised.value.rule == "CAP_ABOVE_JOINT_LIMIT"
    with pytest.raises(InvalidInput):
        limit().change(on=DAY, delay_days=7, cap_loan_fen=2_000_001)


def test_freeze_cuts_limits_to_usage_and_ends_the_temporary_limit() -> None:
    state = (
        limit()
        .grant_temporary(amount_fen=100_000, on=DAY, expires_on=DAY)
        .draw(Product.PAYLATER, 400_000, on=DAY)
        .draw(Product.LOAN, 300_000, on=DAY)
    )
    frozen = state.with_level(AlertLevel.FREEZE)
    assert (frozen.joint_limit_fen, frozen.cap_paylater_fen, frozen.cap_loan_fen) == (
        700_000,
        400_000,
        300_000,
    )
    assert frozen.temporary is None
    assert frozen.available_paylater(DAY) == frozen.available_loan(DAY) == 0
    with pytest.raises(ProductStopped) as raised:
        frozen.draw(Product.PAYLATER, 1, on=DAY)
    assert raised.value.rule == "CUSTOMER_FROZEN"


def test_freeze_never_raises_a_limit() -> None:
    over = limit(t=500_000, paylater=500_000, loan=500_000, used_paylater_fen=200_000)
    frozen = over.with_level(AlertLevel.FREEZE)
    assert frozen.joint_limit_fen == 200_000
    assert frozen.cap_loan_fen == 0


def test_restrict_stops_loans_but_not_paylater() -> None:
    restricted = limit().with_level(AlertLevel.RESTRICT)
    assert restricted.available_loan(DAY) == 0
    assert restricted.available_paylater(DAY) == 1_500_000
    with pytest.raises(ProductStopped) as raised:
        restricted.draw(Product.LOAN, 50_000, on=DAY)
    assert raised.value.rule == "LINKED_RESTRICTION"


amounts = st.integers(min_value=0, max_value=5_000_000)


@st.composite
def limits(draw: st.DrawFn) -> JointLimit:
    t = draw(amounts)
    temporary = None
    if draw(st.booleans()):
        temporary = TemporaryLimit(
            draw(st.integers(1, 1_000_000)),
            DAY - timedelta(days=3),
            DAY + timedelta(days=draw(st.integers(-5, 5))),
        )
    return JointLimit(
        joint_limit_fen=t,
        cap_paylater_fen=draw(st.integers(0, t)),
        cap_loan_fen=draw(st.integers(0, t)),
        used_paylater_fen=draw(amounts),
        used_loan_fen=draw(amounts),
        temporary=temporary,
        level=draw(st.sampled_from(list(AlertLevel))),
    )


@given(limits())
def test_availability_follows_the_rulebook_formulas(state: JointLimit) -> None:
    # DOMAIN.md §2, written out again independently of the implementation.
    t = (
        state.temporary.amount_fen
        if (state.temporary and state.temporary.granted_on <= DAY <= state.temporary.expires_on)
        else 0
    )
    T, up, ul = state.joint_limit_fen, state.used_paylater_fen, state.used_loan_fen  # noqa: N806
    paylater = max(0, min(state.cap_paylater_fen + t - up, T + t - up - ul))
    loan = max(0, min(state.cap_loan_fen - ul, T - up - ul))
    if state.level is AlertLevel.FREEZE:
        paylater = loan = 0
    if state.level is AlertLevel.RESTRICT:
        loan = 0
    assert state.available_paylater(DAY) == paylater
    assert state.available_loan(DAY) == loan
    assert paylater >= 0
    assert loan >= 0


@given(limits(), st.sampled_from(list(Product)), st.integers(min_value=1, max_value=6_000_000))
def test_a_draw_is_approved_exactly_when_it_fits_and_never_passes_the_limits(
    state: JointLimit, product: Product, amount: int
) -> None:
    available = state.available(product, DAY)
    if amount > available:
        with pytest.raises((LimitExceeded, ProductStopped)):
            state.draw(product, amount, on=DAY)
        return
    after = state.draw(product, amount, on=DAY)
    t = state.temporary_fen(DAY)
    assert after.used(product) == state.used(product) + amount
    cap = state.cap_paylater_fen + t if product is Product.PAYLATER else state.cap_loan_fen
    assert after.used(product) <= cap
    extra = t if product is Product.PAYLATER else 0
    assert after.used_fen <= state.joint_limit_fen + extra


def test_a_usage_change_keeps_every_other_field() -> None:
    """with_usage builds the new limit field by field (faster than dataclasses.replace): it
    must keep every field, and a new field must be added there too."""
    import dataclasses

    assert [f.name for f in dataclasses.fields(JointLimit)] == [
        "joint_limit_fen",
        "cap_paylater_fen",
        "cap_loan_fen",
        "used_paylater_fen",
        "used_loan_fen",
        "temporary",
        "pending",
        "level",
        "cured_on",
    ], "a new JointLimit field must be copied by with_usage"
    full = dataclasses.replace(
        limit(used_paylater_fen=10_000, used_loan_fen=20_000).grant_temporary(
            amount_fen=5_000, on=DAY, expires_on=DAY + timedelta(days=9)
        ),
        level=AlertLevel.WATCH,
        cured_on=DAY,
    )
    full = full.change(on=DAY, delay_days=7, joint_limit_fen=3_000_000).limit
    assert full.pending is not None
    assert full.with_usage(Product.PAYLATER, 7) == dataclasses.replace(full, used_paylater_fen=7)
    assert full.with_usage(Product.LOAN, 9) == dataclasses.replace(full, used_loan_fen=9)
    assert full.with_usage(Product.LOAN, full.used_loan_fen) is full
