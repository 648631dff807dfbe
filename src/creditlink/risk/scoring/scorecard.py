"""A points scorecard: optimal bins, a logistic regression with one coefficient per bin, and
points per bin on the scale of `scaling`.

Each feature's bins are ranked by their weight of evidence (WOE = ln(share of goods / share
of bads), with half a case added to each count: see `binning`), safest first. The
regression gives ln(odds bad:good) = b0 + Σ_features c_bin, with
each bin's coefficient the sum of non-negative steps down that ranking: c(safest) = 0 and
c(next) = c(previous) + d, d >= 0. So a bin that is safer on its own never scores fewer
points than a riskier bin of the same feature (which no risk officer would sign off), yet
each bin's weight is fitted jointly with the other features, not fixed at its WOE. On the
scale points = offset + factor × ln(odds good:bad) a bin is worth −factor × c_bin (0 for the
safest bin, negative for the others) and the intercept offset − factor × b0.

Features with an information value under `MIN_IV` are left out, and so is a feature whose
every step the regression holds at zero (it adds nothing given the others), with that reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from creditlink.risk.scoring.binning import all_bins, assign, fit_feature
from creditlink.risk.scoring.dataset import Column
from creditlink.risk.scoring.scaling import Scaling

MIN_IV = 0.001  # no information at all (one bin); weak features still add a little
POINTS_DECIMALS = 4
C = 0.3  # inverse L2 strength on the steps between neighbouring bins of the ranking
# Training picks the form and strength from these by cross-validation.
CANDIDATES = (("woe", 1.0), *(("ordered", c) for c in (0.01, 0.03, 0.1, 0.3, 1.0)))


def bin_features(frame: Any, y: Any, columns: Sequence[Column]) -> list[dict[str, Any]]:
    return [
        fit_feature(frame[c.name], y, name=c.name, numeric=c.type == "numeric") for c in columns
    ]


def _ranks(spec: dict[str, Any]) -> Any:
    """Each bin's place in the feature's ranking by WOE, safest (highest WOE) first; ties keep
    the bins' own order."""
    import numpy as np

    woe = np.array([b["woe"] for b in all_bins(spec)], dtype=float)
    order = np.argsort(-woe, kind="stable")
    rank = np.empty(len(woe), dtype=np.intp)
    rank[order] = np.arange(len(woe))
    return rank


def _woe_matrix(frame: Any, specs: Sequence[dict[str, Any]]) -> Any:
    import numpy as np

    columns = []
    for spec in specs:
        woe = np.array([b["woe"] for b in all_bins(spec)], dtype=float)
        columns.append(woe[assign(frame[spec["name"]], spec)])
    return np.column_stack(columns) if columns else np.zeros((len(frame), 0))


def _step_matrix(frame: Any, specs: Sequence[dict[str, Any]]) -> tuple[Any, list[int]]:
    """Rows × steps: column k of a feature is 1 where the row's bin ranks k or lower (riskier)
    than the safest bin. Also the number of steps per feature."""
    import numpy as np

    columns = []
    widths = []
    for spec in specs:
        rank = _ranks(spec)[assign(frame[spec["name"]], spec)]
        steps = len(all_bins(spec)) - 1
        columns += [(rank >= k).astype(float) for k in range(1, steps + 1)]
        widths.append(steps)
    matrix = np.column_stack(columns) if columns else np.zeros((len(frame), 0))
    return matrix, widths


def _regression(w: Any, y: Any, c: float = C, *, sign: float = 1.0) -> tuple[float, Any]:
    """L2-penalised logistic regression of bad on the columns, every coefficient held on the
    side of zero that `sign` gives (L-BFGS-B with bounds). Minimises Σ log-loss + ‖d‖² / (2C)."""
    import numpy as np
    from scipy.optimize import minimize
    from scipy.special import expit

    y = np.asarray(y, dtype=float)
    k = w.shape[1]

    def loss_and_gradient(theta: Any) -> tuple[float, Any]:
        z = theta[0] + w @ theta[1:]
        loss = float(np.sum(np.logaddexp(0.0, z) - y * z) + theta[1:] @ theta[1:] / (2 * c))
        residual = expit(z) - y
        gradient = np.concatenate([[residual.sum()], w.T @ residual + theta[1:] / c])
        return loss, gradient

    start = np.zeros(k + 1)
    start[0] = np.log(y.mean() / (1 - y.mean()))
    fit = minimize(
        loss_and_gradient,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(None, None)] + [(0.0, None) if sign > 0 else (None, 0.0)] * k,
        options={"maxiter": 5000},
    )
    return float(fit.x[0]), fit.x[1:]


def fit_scorecard(
    frame: Any,
    y: Any,
    *,
    specs: Sequence[dict[str, Any]],
    scaling: Scaling,
    c: float = C,
    form: str = "ordered",
) -> dict[str, Any]:
    """The scorecard part of the artefact: `features` (bins with points), `intercept_points`,
    `excluded_features` and the regression's coefficient per bin.

    `form` "ordered" fits a weight per bin (see the module docstring); "woe" fits one
    coefficient per feature on its WOE, held at or below zero (a bin's weight is then the
    coefficient × its WOE): fewer parameters, which small files may prefer."""
    import numpy as np

    chosen = [s for s in specs if s["iv"] >= MIN_IV]
    excluded = [
        {"name": s["name"], "reason": f"information value {s['iv']:.4f} < {MIN_IV}"}
        for s in specs
        if s["iv"] < MIN_IV
    ]
    if not chosen:  # nothing predictive: keep the strongest so that the card still scores
        chosen = sorted(specs, key=lambda s: -s["iv"])[:1]
        excluded = [e for e in excluded if e["name"] != chosen[0]["name"]]
    if form == "woe":
        intercept, betas = _regression(_woe_matrix(frame, chosen), y, c, sign=-1.0)
        per_feature = [
            np.array([b["woe"] for b in all_bins(spec)], dtype=float) * beta
            for spec, beta in zip(chosen, betas, strict=True)
        ]
    else:
        matrix, widths = _step_matrix(frame, chosen)
        intercept, steps = _regression(matrix, y, c)
        per_feature, at = [], 0
        for spec, width in zip(chosen, widths, strict=True):
            own = np.concatenate([[0.0], np.cumsum(steps[at : at + width])])
            at += width
            per_feature.append(own[_ranks(spec)])
    features = []
    coefficients: dict[str, list[float]] = {}
    for spec, per_bin in zip(chosen, per_feature, strict=True):
        if len(chosen) > 1 and not np.any(per_bin != 0):
            excluded.append({"name": spec["name"], "reason": "coefficients held at zero"})
            continue
        card = _copy(spec)
        for slot, weight in zip(all_bins(card), per_bin, strict=True):
            slot["points"] = round(-scaling.factor * float(weight), POINTS_DECIMALS) + 0.0
        features.append(card)
        coefficients[spec["name"]] = [float(weight) for weight in per_bin]
    return {
        "features": features,
        "intercept_points": round(scaling.offset - scaling.factor * intercept, POINTS_DECIMALS),
        "excluded_features": excluded,
        "regression": {
            "intercept": intercept,
            "coefficients_per_bin": coefficients,
            "form": form,
            "C": c,
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
