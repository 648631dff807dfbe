"""A monotone GBDT is monotone in what the customer gives, not only in the features it reads:
a column that also feeds derived features (a ratio, a series' mean) must not turn the promise
round through them (a validator found a larger PAY_AMT1 or LIMIT_BAL raising P(bad))."""

from __future__ import annotations

from typing import Any

import numpy as np

from creditlink.risk.scoring.model import TrainedModel, predict


def test_probability_of_bad_moves_one_way_in_each_constrained_input(
    taiwan_gbdt: TrainedModel, taiwan: Any
) -> None:
    block = taiwan_gbdt.artefact["gbdt"]
    inputs = {c["name"] for c in taiwan_gbdt.artefact["inputs"]}
    constrained = {
        name: sign for name, sign in block["monotone_constraints"].items()
        if sign and name in inputs
    }  # fmt: skip
    assert {"LIMIT_BAL", "PAY_AMT1"} <= set(constrained)
    rows = taiwan.sample(25, random_state=5).reset_index(drop=True)
    for column, sign in sorted(constrained.items()):
        values = np.unique(np.quantile(taiwan[column].astype(float), np.linspace(0, 1, 15)))
        sweep = rows.loc[rows.index.repeat(len(values))].reset_index(drop=True)
        sweep[column] = [f"{v:g}" for v in np.tile(values, len(rows))]
        bad = predict(taiwan_gbdt, sweep).probability_bad.reshape(len(rows), len(values))
        steps = np.diff(bad, axis=1) * sign  # should never fall
        assert steps.min() >= -1e-9, (column, float(steps.min()))
