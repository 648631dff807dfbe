"""Pattern rules of the dual warning, against a brute-force reading of DOMAIN.md §6."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from creditlink.risk.linkage import borrow_to_repay

START = date(2026, 1, 1)
HALF = Decimal("0.5")


def _any_two_pairs(
    draws: list[tuple[date, int]], repayments: list[tuple[date, int]], days: int, window: int
) -> bool:
    """Every way of handing repayments to draws, one each at most: is there one with two
    pairs whose draw dates are at most `window` days apart?"""

    def fits(draw: tuple[date, int], repayment: tuple[date, int]) -> bool:
        return (
            draw[0] <= repayment[0] <= draw[0] + timedelta(days=days)
            and repayment[1] >= HALF * draw[1]
        )

    for a, b in itertools.combinations(range(len(draws)), 2):
        if abs((draws[a][0] - draws[b][0]).days) > window:
            continue
        for r, s in itertools.permutations(range(len(repayments)), 2):
            if fits(draws[a], repayments[r]) and fits(draws[b], repayments[s]):
                return True
    return False


moves = st.lists(
    st.tuples(
        st.one_of(st.integers(0, 6), st.integers(89, 95)),
        st.sampled_from([100, 300, 600, 1_000, 2_000, 4_000]),
    ),
    max_size=5,
)


@settings(max_examples=400, deadline=None)
@given(draws=moves, repayments=moves)
def test_two_pairs_are_found_whenever_some_matching_has_them(
    draws: list[tuple[int, int]], repayments: list[tuple[int, int]]
) -> None:
    dated_draws = [(START + timedelta(days=d), amount) for d, amount in draws]
    dated_repayments = [(START + timedelta(days=d), amount) for d, amount in repayments]
    found = borrow_to_repay(
        draws=dated_draws, repayments=dated_repayments, days=2, share=HALF, window_days=90
    )
    assert (found is not None) == _any_two_pairs(dated_draws, dated_repayments, 2, 90)
    if found is not None:
        first, second = found
        assert first <= second
        assert (second - first).days <= 90


def test_the_first_repayment_that_fits_is_not_always_the_one_to_pair() -> None:
    draws = [(date(2026, 1, 8), 60_000), (date(2026, 1, 9), 400_000)]
    repayments = [(date(2026, 1, 9), 200_000), (date(2026, 1, 10), 30_000)]
    found = borrow_to_repay(draws=draws, repayments=repayments, days=2, share=HALF, window_days=90)
    assert found == [date(2026, 1, 8), date(2026, 1, 9)]
