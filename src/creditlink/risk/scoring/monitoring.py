"""Population stability: how far a current population has moved from a baseline.

PSI = Σ (current share − baseline share) × ln(current share / baseline share) over the bins
of each feature (the model's own bins, missing and other included) and over the score
(baseline score deciles). Shares are floored at `SHARE_FLOOR` so that an empty bin counts as
a large move rather than an infinite one. Verdicts: stable below 0.10, watch from 0.10,
unstable from 0.25; the overall verdict is the worst of any item.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

WATCH = 0.10
UNSTABLE = 0.25
SHARE_FLOOR = 1e-4
VERDICTS = ("stable", "watch", "unstable")


def verdict(psi: float) -> str:
    if psi >= UNSTABLE:
        return "unstable"
    if psi >= WATCH:
        return "watch"
    return "stable"


def worst(verdicts: Sequence[str]) -> str:
    return max(verdicts, key=VERDICTS.index, default="stable")


def psi_of_counts(baseline: Sequence[float], current: Sequence[float]) -> float:
    base_total, cur_total = sum(baseline), sum(current)
    assert base_total > 0, "PSI needs baseline rows"
    assert cur_total > 0, "PSI needs current rows"
    total = 0.0
    for b, c in zip(baseline, current, strict=True):
        pb = max(b / base_total, SHARE_FLOOR)
        pc = max(c / cur_total, SHARE_FLOOR)
        total += (pc - pb) * math.log(pc / pb)
    return total


def psi_of_slots(baseline: Any, current: Any, slots: int) -> float:
    import numpy as np

    return psi_of_counts(
        np.bincount(baseline, minlength=slots).tolist(),
        np.bincount(current, minlength=slots).tolist(),
    )


def score_edges(baseline_scores: Any, *, groups: int = 10) -> list[float]:
    """Upper edges of the baseline score deciles (distinct), for `np.searchsorted(right)`."""
    import numpy as np

    quantiles = np.quantile(np.asarray(baseline_scores, dtype=float), np.linspace(0, 1, groups + 1))
    return sorted({float(q) for q in quantiles[1:-1]})
