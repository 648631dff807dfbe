"""How well predicted probabilities of bad rank and match what happened.

AUC (area under the ROC curve), KS (largest gap between the cumulative shares of bads and
goods), Gini = 2 × AUC − 1, Brier (mean squared error of the probability), a calibration
table by predicted-probability decile and a table of score bands (one band per `pdo` points,
so each band up the scale halves the odds of bad).
"""

from __future__ import annotations

import math
from typing import Any

DECILES = 10


def discrimination(y: Any, p: Any) -> dict[str, float]:
    """AUC, KS, Gini and Brier of probabilities `p` against bad flags `y` (both classes)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score, roc_curve

    y = np.asarray(y)
    p = np.asarray(p, dtype=float)
    assert 0 < y.sum() < len(y), "discrimination needs good and bad rows"
    fpr, tpr, _ = roc_curve(y, p)
    auc = float(roc_auc_score(y, p))
    return {
        "auc": round(auc, 6),
        "ks": round(float(np.max(tpr - fpr)), 6),
        "gini": round(2 * auc - 1, 6),
        "brier": round(float(np.mean((p - y) ** 2)), 6),
    }


def calibration(y: Any, p: Any, *, groups: int = DECILES) -> list[dict[str, Any]]:
    """Rows sorted by predicted probability, cut into `groups` groups of (nearly) equal size."""
    import numpy as np

    order = np.argsort(np.asarray(p, dtype=float), kind="stable")
    rows = []
    for k, part in enumerate(np.array_split(order, min(groups, len(order)))):
        if len(part) == 0:
            continue
        predicted = np.asarray(p, dtype=float)[part]
        rows.append(
            {
                "decile": k + 1,
                "count": len(part),
                "probability_min": round(float(predicted.min()), 6),
                "probability_max": round(float(predicted.max()), 6),
                "mean_predicted": round(float(predicted.mean()), 6),
                "observed_bad_rate": round(float(np.asarray(y)[part].mean()), 6),
            }
        )
    return rows


def score_bands(
    y: Any, scores: Any, p: Any, *, width: float, anchor: float
) -> list[dict[str, Any]]:
    """Bands of `width` points aligned on `anchor` (600), lowest first, empty bands left out."""
    import numpy as np

    scores = np.asarray(scores, dtype=float)
    low = np.floor((scores - anchor) / width) * width + anchor
    rows = []
    for start in np.unique(low):
        inside = low == start
        count = int(inside.sum())
        rows.append(
            {
                "band": f"{_num(start)}–{_num(start + width)}",
                "from": _num(start),
                "to": _num(start + width),
                "count": count,
                "share": round(count / len(scores), 6),
                "bads": int(np.asarray(y)[inside].sum()),
                "observed_bad_rate": round(float(np.asarray(y)[inside].mean()), 6),
                "mean_predicted": round(float(np.asarray(p, dtype=float)[inside].mean()), 6),
            }
        )
    return rows


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(float(x), 2)


def mean_and_spread(folds: list[dict[str, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("auc", "ks", "gini", "brier"):
        values = [f[key] for f in folds]
        mean = sum(values) / len(values)
        spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        out[key] = round(mean, 6)
        out[f"{key}_std"] = round(spread, 6)
    return out
