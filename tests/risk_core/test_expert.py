"""The expert scorecards: bands, reasons, scale, and batch scoring that agrees."""

from hypothesis import given
from hypothesis import strategies as st

from creditlink.risk.expert import APPLICATION, BEHAVIOUR, score_columns

rows = st.lists(
    st.fixed_dictionaries(
        {
            "max_dpd_paylater_12m": st.integers(0, 200),
            "max_dpd_loan_12m": st.integers(0, 200),
            "on_time_streak": st.integers(0, 30),
            "utilisation_joint": st.floats(0, 2, allow_nan=False),
            "borrow_to_repay_12m": st.integers(0, 3),
            "refunds_12m": st.integers(0, 6),
            "tenure_months": st.integers(0, 60),
            "draws_6m": st.one_of(st.none(), st.integers(0, 6)),
        }
    ),
    min_size=1,
    max_size=50,
)


@given(rows)
def test_batch_scoring_agrees_with_one_by_one(batch: list[dict[str, object]]) -> None:
    columns = {name: [row[name] for row in batch] for name in batch[0]}
    scored = score_columns(BEHAVIOUR, columns)  # type: ignore[arg-type]
    one_by_one = [BEHAVIOUR.score(row) for row in batch]
    assert scored.points == [s.points for s in one_by_one]
    assert scored.top_reason == [s.reasons[0] if s.reasons else "" for s in one_by_one]


def test_a_clean_history_loses_no_points_to_lateness() -> None:
    clean = BEHAVIOUR.score(
        {
            "max_dpd_paylater_12m": 0,
            "max_dpd_loan_12m": 0,
            "on_time_streak": 8,
            "utilisation_joint": 0.2,
            "borrow_to_repay_12m": 0,
            "refunds_12m": 0,
            "tenure_months": 24,
            "draws_6m": 1,
        }
    )
    # 590 + 15 + 15 + 20 + 10 + 0 + 0 + 8 + 0 = 658: every characteristic at its best.
    assert clean.points == 658
    assert clean.reasons == ()
    late = BEHAVIOUR.score(
        {
            "max_dpd_paylater_12m": 45,
            "max_dpd_loan_12m": 0,
            "on_time_streak": 0,
            "utilisation_joint": 0.95,
            "borrow_to_repay_12m": 1,
            "refunds_12m": 0,
            "tenure_months": 24,
            "draws_6m": 1,
        }
    )
    # 590 − 60 + 15 + 0 − 15 − 30 + 0 + 8 + 0 = 508; lost 75, 30, 25, 20 points.
    assert late.points == 508
    assert late.reasons == ("PAYLATER_LATE_12M", "BORROW_TO_REPAY", "HIGH_UTILISATION")


def test_missing_application_attributes_take_their_missing_points() -> None:
    assert APPLICATION.score({}).points == 590 - 10 - 15
