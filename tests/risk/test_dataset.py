"""From text cells to typed model inputs: target rules, identifier columns, column types."""

from __future__ import annotations

from typing import Any

import pandas as pd  # type: ignore[import-untyped,unused-ignore]
import pytest

from creditlink.domain.errors import InvalidInput
from creditlink.risk.scoring.dataset import prepare_training, typed


def _frame(**columns: list[Any]) -> Any:
    return pd.DataFrame({k: pd.Series(v, dtype="str") for k, v in columns.items()})


def test_a_numeric_target_is_bad_at_1_by_default_and_id_is_dropped() -> None:
    frame = _frame(ID=["1", "2", "3"], amount=["5", "6.5", None], default=["0", "1", "0"])
    prepared = prepare_training(frame, target="default", bad_value=None)
    assert prepared.y.tolist() == [0, 1, 0]
    assert prepared.target.bad_value == 1.0
    assert [c.name for c in prepared.columns] == ["amount"]
    assert prepared.dropped == ({"name": "ID", "reason": "identifier column (named ID)"},)
    assert prepared.features["amount"].isna().tolist() == [False, False, True]


def test_only_a_column_named_exactly_id_is_dropped() -> None:
    frame = _frame(customer_id=["1", "2"], Id=["a", "b"], y=["0", "1"])
    prepared = prepare_training(frame, target="y", bad_value=None)
    assert [c.name for c in prepared.columns] == ["customer_id", "Id"]
    assert prepared.dropped == ()


def test_bad_and_good_text_targets_need_no_bad_value() -> None:
    frame = _frame(x=["1", "2", "3"], creditability=["good", "bad", "good"])
    assert prepare_training(frame, target="creditability", bad_value=None).y.tolist() == [0, 1, 0]


def test_other_text_targets_take_the_bad_value_named() -> None:
    frame = _frame(x=["1", "2", "3"], status=["paid", "defaulted", "paid"])
    prepared = prepare_training(frame, target="status", bad_value="defaulted")
    assert prepared.y.tolist() == [0, 1, 0]
    assert prepared.target.good_value == "paid"


def test_a_numeric_target_takes_a_numeric_bad_value() -> None:
    frame = _frame(x=["1", "2", "3"], flag=["1", "2", "1"])
    assert prepare_training(frame, target="flag", bad_value="2").y.tolist() == [0, 1, 0]
    with pytest.raises(InvalidInput) as error:
        prepare_training(frame, target="flag", bad_value="yes")
    assert error.value.rule == "BAD_VALUE_PRESENT"


def test_a_target_with_three_values_or_an_empty_cell_is_refused() -> None:
    with pytest.raises(InvalidInput) as three:
        prepare_training(_frame(x=["1", "2", "3"], y=["0", "1", "2"]), target="y", bad_value=None)
    assert three.value.rule == "TARGET_TWO_CLASSES"
    with pytest.raises(InvalidInput) as empty:
        prepare_training(_frame(x=["1", "2", "3"], y=["0", None, "1"]), target="y", bad_value=None)
    assert empty.value.rule == "TARGET_FILLED"
    assert "line 3" in str(empty.value)


def test_mostly_text_columns_are_categorical_and_all_number_columns_numeric() -> None:
    frame = _frame(
        grade=["A", "B", "7", "A"], income=["1", "2.5", "-3", "1e3"], y=["0", "1", "0", "1"]
    )
    prepared = prepare_training(frame, target="y", bad_value=None)
    assert [(c.name, c.type) for c in prepared.columns] == [
        ("grade", "categorical"),
        ("income", "numeric"),
    ]
    assert prepared.features["income"].tolist() == [1.0, 2.5, -3.0, 1000.0]


def test_infinite_numbers_are_typos_in_a_numeric_column() -> None:
    cells = [str(i) for i in range(20)]
    cells[3] = "inf"
    frame = _frame(amount=cells, y=["0", "1"] * 10)
    with pytest.raises(InvalidInput) as error:
        prepare_training(frame, target="y", bad_value=None)
    assert error.value.field == "amount"
    assert "line 5 holds 'inf'" in str(error.value)


def test_scoring_needs_every_column_the_model_reads() -> None:
    from creditlink.risk.scoring.dataset import Column

    with pytest.raises(InvalidInput) as error:
        typed(_frame(a=["1"]), [Column("a", "numeric"), Column("b", "categorical")])
    assert error.value.rule == "FEATURE_PRESENT"
    assert "'b'" in str(error.value)
