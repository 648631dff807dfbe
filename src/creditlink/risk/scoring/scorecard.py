"""A points scorecard: optimal bins, a logistic regression on their weights of evidence, and
points per bin on the scale of `scaling`.

With WOE = ln(share of goods / share of bads), the regression gives
ln(odds bad:good) = b0 + Σ b_j × WOE_j, so on the scale points = offset + factor × ln(odds
good:bad) a bin is worth −factor × b_j × WOE and the intercept offset − factor × b0.
Features with an information value under `MIN_IV` are left out. The regression holds every
coefficient at or below zero, so that a safer bin never scores fewer points (which no risk
officer signs off); a feature held at zero is left out of the card, with that reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from creditlink.risk.scoring.binning import all_bins, assign, fit_feature
from creditlink.risk.scoring.dataset import Column
from creditlink.risk.scoring.scaling import Scaling

MIN_IV = 0.001  # no information at all (one bin); weak features still add a little
POINTS_DECIMALS = 4
C = 1.0  # inverse L2 strength; WOE inputs are on one scale already


def bin_features(frame: Any, y: Any, columns: Sequence[Column]) -> list[dict[str, Any]]:
    return [
        fit_feature(frame[c.name], y, name=c.name, numeric=c.type == "numeric") for c in columns
    ]


def _woe_matrix(frame: Any, specs: Sequence[dict[str, Any]]) -> Any:
    import numpy as np

    columns = []
    for spec in specs:
        woe = np.array([b["woe"] for b in all_bins(spec)], dtype=float)
        columns.append(woe[assign(frame[spec["name"]], spec)])
    return np.column_stack(columns) if columns else np.zeros((len(frame), 0))


def _regression(w: Any, y: Any) -> tuple[float, Any]:
    """L2-penalised logistic regression of bad on the WOE columns, every coefficient held at
    or below zero (L-BFGS-B with bounds): a higher WOE (a safer bin) can never raise the risk.
    Minimises Σ log-loss + ‖b‖² / (2C), as scikit-learn's LogisticRegression does."""
    import numpy as np
    from scipy.optimize import minimize
    from scipy.special import expit

    y = np.asarray(y, dtype=float)
    k = w.shape[1]

    def loss_and_gradient(theta: Any) -> tuple[float, Any]:
        z = theta[0] + w @ theta[1:]
        loss = float(np.sum(np.logaddexp(0.0, z) - y * z) + theta[1:] @ theta[1:] / (2 * C))
        residual = expit(z) - y
        gradient = np.concatenate([[residual.sum()], w.T @ residual + theta[1:] / C])
        return loss, gradient

    start = np.zeros(k + 1)
    start[0] = np.log(y.mean() / (1 - y.mean()))
    fit = minimize(
        loss_and_gradient,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(None, None)] + [(None, 0.0)] * k,
        options={"maxiter": 2000},
    )
    return float(fit.x[0]), fit.x[1:]


def fit_scorecard(
    frame: Any,
    y: Any,
    *,
    specs: Sequence[dict[str, Any]],
    scaling: Scaling,
) -> dict[str, Any]:
    """The scorecard part of the artefact: `features` (bins with points), `intercept_points`,
    `excluded_features` and the regression's coefficients."""
    chosen = [s for s in specs if s["iv"] >= MIN_IV]
    excluded = [
        {"name": s["name"], "reason": f"information value {s['iv']:.4f} < {MIN_IV}"}
        for s in specs
        if s["iv"] < MIN_IV
    ]
    if not chosen:  # nothing predictive: keep the strongest so that the card still scores
        chosen = sorted(specs, key=lambda s: -s["iv"])[:1]
        excluded = [e for e in excluded if e["name"] != chosen[0]["name"]]
    intercept, coefficients = _regression(_woe_matrix(frame, chosen), y)
    held = [s for s, b in zip(chosen, coefficients, strict=True) if b >= 0]
    if held and len(held) < len(chosen):
        # held at zero: the data would rather reverse this feature's bins given the others
        excluded += [{"name": s["name"], "reason": "coefficient held at zero"} for s in held]
        coefficients = [b for b in coefficients if b < 0]
        chosen = [s for s in chosen if s not in held]
    features = []
    for spec, b in zip(chosen, coefficients, strict=True):
        card = _copy(spec)
        for slot in all_bins(card):
            slot["points"] = round(-scaling.factor * float(b) * slot["woe"], POINTS_DECIMALS)
        features.append(card)
    return {
        "features": features,
        "intercept_points": round(scaling.offset - scaling.factor * intercept, POINTS_DECIMALS),
        "excluded_features": excluded,
        "regression": {
            "intercept": intercept,
            "coefficients": {
                s["name"]: float(b) for s, b in zip(chosen, coefficients, strict=True)
            },
            "C": C,
        },
    }


def _copy(spec: dict[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(spec)


def card_points(frame: Any, features: Sequence[dict[str, Any]]) -> tuple[Any, Any]:
    """(points per feature, points lost against each feature's best bin), rows × features.
    `frame` holds the features (derived ones included) typed."""
    import numpy as np

    points = np.zeros((len(frame), len(features)))
    lost = np.zeros((len(frame), len(features)))
    for j, spec in enumerate(features):
        table = np.array([b["points"] for b in all_bins(spec)], dtype=float)
        points[:, j] = table[assign(frame[spec["name"]], spec)]
        lost[:, j] = table.max() - points[:, j]
    return points, lost
