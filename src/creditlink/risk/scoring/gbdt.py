"""A gradient-boosted model (LightGBM) with monotone constraints and calibrated probabilities.

- Each numeric feature whose optimal bins show a monotonic bad rate is constrained to move
  the prediction the same way, so that a customer is never penalised for a better value.
- The number of trees is chosen by early stopping on the cross-validation folds (mean
  held-out log loss), and the out-of-fold margins of those folds calibrate the final model
  with Platt scaling: P(bad) = 1 / (1 + exp(−(a × margin + b))). Platt keeps the order of
  the margins, so calibration never changes AUC, KS or Gini.
- Reason codes are the features with the largest positive contributions (`pred_contrib`) to
  the margin: those that raised the predicted risk most.

Categorical features are coded as their position in the sorted list of training categories
(kept in the artefact); a category never seen in training is treated as missing. LightGBM
sees the features as `f0`, `f1`… so that any column name is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from creditlink.risk.scoring.dataset import Column
from creditlink.risk.scoring.derived import Derived

ROUNDS_MAX = 5000
EARLY_STOPPING_ROUNDS = 100
SEED = 7


def params(rows: int) -> dict[str, Any]:
    """Tuned once on cross-validation of the training part only (see benchmarks/models.py):
    slow learning, small trees, large leaves and L2, feature and row subsampling."""
    return {
        "objective": "binary",
        "learning_rate": 0.02,
        "num_leaves": 15,
        "min_child_samples": max(20, min(100, rows // 200)),
        "lambda_l2": 5.0,
        "feature_fraction": 0.7,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "monotone_constraints_method": "intermediate",
        "seed": SEED,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }


def encodings(frame: Any, columns: Sequence[Column]) -> dict[str, list[str]]:
    return {
        c.name: sorted({str(v) for v in frame[c.name].dropna()})
        for c in columns
        if c.type == "categorical"
    }


def matrix(frame: Any, features: Sequence[str], codes: dict[str, list[str]]) -> Any:
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    out = np.empty((len(frame), len(features)), dtype=float)
    for j, name in enumerate(features):
        if name in codes:
            lookup = {c: float(i) for i, c in enumerate(codes[name])}
            cells = pd.Series(frame[name].to_numpy(dtype=object))
            out[:, j] = cells.map(lookup).to_numpy(dtype=float, na_value=np.nan)
        else:
            out[:, j] = frame[name].to_numpy(dtype=float)
    return out


def constraints(specs: Sequence[dict[str, Any]]) -> list[int]:
    return [{"ascending": 1, "descending": -1}.get(s["trend"], 0) for s in specs]


def monotone_in_inputs(
    order: Sequence[str], monotone: Sequence[int], derived: Sequence[Derived], x: Any
) -> tuple[list[int], set[str]]:
    """Constraints under which the model stays monotone in each constrained input column,
    not only in each feature it reads: a derived feature moves with the columns it is made
    of (a series' max, mean and count of positives rise with each item; a ratio rises with
    its numerator and falls with its denominator), so it must be constrained the way those
    columns are. A derived feature that cannot be (its columns ask opposite directions, or a
    ratio whose numerator can be negative, over a constrained denominator) is left out.
    Returns the constraints, in `order`, and the names left out."""
    import numpy as np

    by_name = dict(zip(order, monotone, strict=True))
    left_out: set[str] = set()
    for feature in derived:
        if feature.name not in by_name:
            continue
        rising, denominator = feature.rises_with, feature.denominator
        needs = {by_name[c] for c in rising if by_name.get(c)}
        if denominator is not None and by_name.get(denominator):
            numerators = x[list(rising)].to_numpy(dtype=float)
            if np.nanmin(numerators, initial=0.0) < 0:
                left_out.add(feature.name)
                continue
            needs.add(-by_name[denominator])
        if len(needs) > 1:
            left_out.add(feature.name)
        elif needs:
            by_name[feature.name] = needs.pop()
    return [by_name[name] for name in order if name not in left_out], left_out


def _dataset(x: Any, y: Any, categorical: list[int]) -> Any:
    import lightgbm as lgb

    return lgb.Dataset(
        x,
        label=y,
        feature_name=[f"f{j}" for j in range(x.shape[1])],
        categorical_feature=categorical,
        free_raw_data=False,
    )


def fit_gbdt(
    x: Any,
    y: Any,
    *,
    monotone: list[int],
    categorical: list[int],
    folds: Sequence[tuple[Any, Any]],
) -> tuple[str, Any, dict[str, Any]]:
    """(model text, out-of-fold margins, the `gbdt` block of the artefact)."""
    import lightgbm as lgb
    import numpy as np

    settings = params(len(y)) | {"monotone_constraints": monotone}
    history = lgb.cv(
        settings,
        _dataset(x, y, categorical),
        num_boost_round=ROUNDS_MAX,
        folds=list(folds),
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
        return_cvbooster=True,
    )
    losses: list[float] = history["valid binary_logloss-mean"]  # type: ignore[assignment]
    rounds = len(losses)
    boosters = history["cvbooster"].boosters  # type: ignore[union-attr]
    margins = np.empty(len(y))
    for booster, (_, held_out) in zip(boosters, folds, strict=True):
        margins[held_out] = booster.predict(x[held_out], raw_score=True, num_iteration=rounds)
    final = lgb.train(settings, _dataset(x, y, categorical), num_boost_round=rounds)
    a, b = platt(margins, y)
    block = {
        "params": {k: v for k, v in settings.items() if k != "monotone_constraints"},
        "rounds": rounds,
        "calibration": {"method": "platt", "a": a, "b": b},
    }
    return final.model_to_string(), margins, block


def platt(margins: Any, y: Any) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=1000).fit(margins.reshape(-1, 1), y)
    return float(model.coef_[0][0]), float(model.intercept_[0])


def booster(text: str) -> Any:
    import lightgbm as lgb

    return lgb.Booster(model_str=text)


def margins_and_contributions(model: Any, x: Any) -> tuple[Any, Any]:
    """Raw margins and per-feature contributions (rows × features, bias dropped)."""
    contributions = model.predict(x, pred_contrib=True)
    return contributions.sum(axis=1), contributions[:, :-1]
