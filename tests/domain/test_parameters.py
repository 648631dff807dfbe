"""Parameters of DOMAIN.md §8: names, defaults, validation, versions."""

from decimal import Decimal

import pytest

from creditlink.domain.errors import InvalidInput
from creditlink.domain.parameters import DEFAULTS, ParameterSet, UnknownParameter, definitions

# The table of DOMAIN.md §8, copied by hand: the defaults must match it to the letter.
RULEBOOK_DEFAULTS = {
    "apr_cap": "0.2400",
    "limit.increase_delay_days": "7",
    "paylater.statement_day": "1",
    "paylater.grace_days": "9",
    "paylater.min_payment_rate": "0.10",
    "paylater.revolving_daily_rate": "0.0005",
    "paylater.installment_fee_rates": "3:0.025,6:0.045,9:0.065,12:0.088",
    "paylater.blocked_categories": "gambling,securities,cryptocurrency,cash_withdrawal",
    "loan.min_amount": "500.00",
    "loan.terms": "3,6,12",
    "loan.penalty_multiplier": "1.5",
    "loan.daily_rate_by_grade": "A:0.0002,B:0.0003,C:0.0004,D:0.0005",
    "write_off_dpd": "180",
    "linkage.watch_dpd": "1",
    "linkage.restrict_dpd": "4",
    "linkage.freeze_dpd": "31",
    "linkage.watch_utilisation": "0.90",
    "linkage.recovery_cycles": "2",
    "linkage.essential_categories": "grocery,utilities,pharmacy,transport",
    "linkage.borrow_to_repay_days": "2",
    "linkage.borrow_to_repay_share": "0.5",
    "linkage.borrow_to_repay_window_days": "90",
    "linkage.cashout_round_amount": "100.00",
    "linkage.cashout_round_count": "3",
    "linkage.cashout_refund_pairs": "2",
    "linkage.cashout_refund_window_days": "30",
    "emergency.min_active_accounts": "1000",
}


def test_the_defaults_are_the_rulebook_table() -> None:
    assert DEFAULTS.version == 1
    defaults = DEFAULTS.as_text()
    assert {name: defaults[name] for name in RULEBOOK_DEFAULTS} == RULEBOOK_DEFAULTS
    # Parameters added later follow the same dotted form (DOMAIN.md §8).
    for name in set(defaults) - set(RULEBOOK_DEFAULTS):
        assert all(part.replace("_", "").isalnum() for part in name.split(".")), name


def test_every_parameter_is_documented() -> None:
    for name, (_, found) in definitions().items():
        assert found.doc.endswith("."), name


def test_a_change_makes_the_next_version_and_leaves_the_old_one_alone() -> None:
    after = DEFAULTS.changed(
        {"loan.penalty_multiplier": "2.0", "paylater.installment_fee_rates": {3: "0.02", 6: "0.04"}}
    )
    assert after.version == 2
    assert after.values.loan_penalty_multiplier == Decimal("2.0")
    assert after.values.paylater_installment_fee_rates == {3: Decimal("0.02"), 6: Decimal("0.04")}
    assert DEFAULTS.values.loan_penalty_multiplier == Decimal("1.5")
    assert [change.name for change in DEFAULTS.diff(after)] == [
        "paylater.installment_fee_rates",
        "loan.penalty_multiplier",
    ]


def test_stored_text_reads_back_to_the_same_set() -> None:
    changed = DEFAULTS.changed(
        {"linkage.essential_categories": ["grocery", "Pharmacy"], "loan.min_amount": "800.00"}
    )
    again = ParameterSet.from_text(changed.version, changed.as_text())
    assert again == changed
    assert again.values.loan_min_amount == 80_000


def test_an_unknown_parameter_is_named() -> None:
    # Looked up, it is not found; given as a change, it is invalid input naming it.
    with pytest.raises(UnknownParameter):
        DEFAULTS.get("linkage.watch_dpds")
    with pytest.raises(InvalidInput) as raised:
        DEFAULTS.changed({"linkage.watch_dpds": "2"})
    assert (raised.value.field, raised.value.rule) == ("linkage.watch_dpds", "UNKNOWN_PARAMETER")
    assert "did you mean linkage.watch_dpd" in raised.value.message  # the suggestion


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("paylater.statement_day", "29", "PARAMETER_RANGE"),
        ("paylater.statement_day", "x", "PARAMETER_FORMAT"),
        ("apr_cap", "1.5", "PARAMETER_RANGE"),
        ("apr_cap", "-0.1", "PARAMETER_FORMAT"),
        ("loan.min_amount", "0.001", "AMOUNT_SUB_FEN"),
        ("loan.terms", "3,abc", "PARAMETER_FORMAT"),
        ("paylater.installment_fee_rates", "3=0.02", "PARAMETER_FORMAT"),
        ("linkage.restrict_dpd", "40", "LINKAGE_ORDER"),
        ("write_off_dpd", True, "PARAMETER_FORMAT"),
        ("score.grade_bands", "A:500,B:640,C:600,D:560", "GRADE_BANDS_ORDER"),
        ("score.grade_bands", "A:680,B:640,C:640,D:560", "GRADE_BANDS_ORDER"),
        (
            "loan.daily_rate_by_grade",
            "A:0.0002,B:0.0003,C:0.0004,D:0.0005,E:0.001",
            "GRADE_HAS_BAND",
        ),
        ("limit.income_multiple_by_grade", "A:3,E:1", "GRADE_HAS_BAND"),
        ("paylater.installment_fee_rates", "3:0.025,5:0.1", "INSTALLMENT_PERIODS"),
        ("loan.terms", "3,7", "LOAN_TERMS"),
        ("paylater.min_payment_rate", "0.10", "PARAMETER_UNCHANGED"),
        (
            "paylater.blocked_categories",
            "gambling,securities,cryptocurrency,cash_withdrawal",
            "PARAMETER_UNCHANGED",
        ),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(name: str, value: object, rule: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        DEFAULTS.changed({name: value})
    assert raised.value.rule == rule
    assert raised.value.field.startswith(name.split(".")[0])  # type: ignore[union-attr]


def test_a_set_may_offer_fewer_plans_and_grades_but_never_price_a_grade_without_a_band() -> None:
    fewer = DEFAULTS.changed({"paylater.installment_fee_rates": "3:0.025,12:0.088"})
    assert list(fewer.values.paylater_installment_fee_rates) == [3, 12]
    with pytest.raises(InvalidInput) as raised:  # C and D would be below the lowest band
        DEFAULTS.changed({"score.grade_bands": "A:700,B:650"})
    assert (raised.value.rule, raised.value.field) == ("GRADE_HAS_BAND", "loan.daily_rate_by_grade")
    two = DEFAULTS.changed(
        {
            "score.grade_bands": "A:700,B:650",
            "loan.daily_rate_by_grade": "A:0.0002,B:0.0003",
            "limit.income_multiple_by_grade": "A:3.0,B:2.5",
            "limit.range_by_grade": "A:20000.00-100000.00,B:10000.00-50000.00",
        }
    )
    assert list(two.values.score_grade_bands) == ["A", "B"]


def test_an_equal_value_written_otherwise_keeps_the_text_in_force() -> None:
    after = DEFAULTS.changed({"paylater.min_payment_rate": "0.1000", "paylater.grace_days": "10"})
    assert [change.name for change in DEFAULTS.diff(after)] == ["paylater.grace_days"]
