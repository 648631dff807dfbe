"""Optimal binning of one feature (optbinning), kept as a JSON-ready dict.

A numeric feature's bins are given by their upper edges: a value goes to the first bin whose
`upper` is greater than the value, the last bin (`upper` None) takes the rest; so the bins
are [previous upper, upper). A categorical feature's bins are groups of categories. Every
feature has a `missing` bin, and a categorical one an `other` bin for categories never seen
in training. Each bin carries its training `count`, `bads` and weight of evidence
`woe` = ln((goods + ½) / (all goods + ½)) − ln((bads + ½) / (all bads + ½)): the share of
goods over the share of bads, with half a case added to each count (`SMOOTHING`) so that a
bin with no goods or no bads has a finite WOE (positive: safer than average; 0 for an empty
bin). A validator recomputing it from counts must add the same half; without it a bin of 84
goods and 10 bads out of 700 and 300 gives 1.2809 instead of 1.2390. A feature's information
value is Σ (share of goods − share of bads) × WOE over its bins, with those WOEs.

Numeric features with more than `FEW_VALUES` distinct values get bins with a monotonic bad
rate (ascending or descending, chosen by optbinning), which is what a risk officer expects of
amounts, limits and ages. Features with few values are codes or counts (a payment status
from -2 to 8, months late): their bins are optimal without a trend constraint, because such
codes are rarely monotone (Taiwan's "paid duly" is riskier than "revolving").

`trend` says whether the bins show a monotonic trend *found* in the data ("ascending" when
the bad rate rises with the value, "descending", or "none"); the GBDT takes its monotone
constraints from it. For a code, its free bins must be monotone. For an amount, the
monotonic bins must keep at least `MONOTONIC_SHARE` (90 %) of the information value of free
bins; otherwise (bill amounts, age: risk is U-shaped or noisy) the monotone shape was imposed,
not found, and the trend is "none".
"""

from __future__ import annotations

import itertools
import math
from typing import Any

FEW_VALUES = 12
MONOTONIC_SHARE = 0.9
SMOOTHING = 0.5  # added to good and bad counts so that a pure bin has a finite WOE
MONOTONIC = "auto_asc_desc"


def _woe(goods: float, bads: float, goods_total: float, bads_total: float) -> float:
    if goods + bads == 0:
        return 0.0
    return math.log((goods + SMOOTHING) / (goods_total + SMOOTHING)) - math.log(
        (bads + SMOOTHING) / (bads_total + SMOOTHING)
    )


def _optimal(values: Any, y: Any, *, name: str, dtype: str, trend: str | None) -> list[Any]:
    from optbinning import OptimalBinning

    binning = OptimalBinning(name=name, dtype=dtype, monotonic_trend=trend)
    binning.fit(values, y)
    return list(binning.splits)


def _iv_of_edges(x: Any, y: Any, uppers: list[float]) -> float:
    import numpy as np

    filled = ~np.isnan(x)
    slot = np.searchsorted(np.asarray(uppers, dtype=float), x[filled], side="right")
    counts = np.bincount(slot, minlength=len(uppers) + 1)
    bads = np.bincount(slot, weights=y[filled], minlength=len(uppers) + 1)
    bads_total, goods_total = float(y.sum()), float(len(y) - y.sum())
    return float(
        sum(
            ((n - b) / goods_total - b / bads_total) * _woe(n - b, b, goods_total, bads_total)
            for n, b in zip(counts.tolist(), bads.tolist(), strict=True)
            if n
        )
    )


def _numeric_bins(x: Any, y: Any, *, name: str) -> tuple[list[float], bool]:
    """(upper edges, whether their trend is a finding): see the module docstring."""
    import numpy as np

    distinct = len(np.unique(x[~np.isnan(x)]))
    if distinct < 2:
        return [], False
    free = sorted(float(s) for s in _optimal(x, y, name=name, dtype="numerical", trend=None))
    if distinct <= FEW_VALUES:
        return free, True
    monotonic = sorted(
        float(s) for s in _optimal(x, y, name=name, dtype="numerical", trend=MONOTONIC)
    )
    return monotonic, _iv_of_edges(x, y, monotonic) >= MONOTONIC_SHARE * _iv_of_edges(x, y, free)


def _missing_mask(values: Any, *, numeric: bool) -> Any:
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    if numeric:
        return np.isnan(values)
    return pd.isna(values)


def fit_feature(values: Any, y: Any, *, name: str, numeric: bool) -> dict[str, Any]:
    """The binned feature (see the module docstring) fitted on `values` and bad flags `y`."""
    import numpy as np

    if numeric:
        values = np.asarray(values, dtype=float)
        uppers, found = _numeric_bins(values, y, name=name)
        bins: list[dict[str, Any]] = [{"upper": u} for u in uppers] + [{"upper": None}]
        spec: dict[str, Any] = {"name": name, "type": "numeric", "bins": bins, "missing": {}}
    else:
        values = np.asarray(values, dtype=object)
        found = False
        filled = values[~_missing_mask(values, numeric=False)]
        groups = (
            _optimal(values, y, name=name, dtype="categorical", trend="auto")
            if len({str(v) for v in filled}) > 1
            else []
        )
        cats = [sorted(str(c) for c in group) for group in groups]
        seen = {c for group in cats for c in group}
        rest = sorted({str(v) for v in values[~_missing_mask(values, numeric=False)]} - seen)
        if not cats and rest:  # one category only, or the solver found nothing: one bin
            cats, rest = [rest], []
        bins = [{"categories": group} for group in cats]
        spec = {"name": name, "type": "categorical", "bins": bins, "missing": {}, "other": {}}
    slot = assign(values, spec)
    slots = all_bins(spec)
    counts = np.bincount(slot, minlength=len(slots))
    bads = np.bincount(slot, weights=y, minlength=len(slots))
    bads_total, goods_total = float(y.sum()), float(len(y) - y.sum())
    iv = 0.0
    for i, target in enumerate(slots):
        n, b = int(counts[i]), round(float(bads[i]))
        woe = _woe(n - b, b, goods_total, bads_total)
        target.update({"count": n, "bads": b, "woe": round(woe, 10)})
        if n:
            iv += ((n - b) / goods_total - b / bads_total) * woe
    if not numeric and rest:
        spec["other"]["seen"] = rest  # categories too rare to bin, scored with `other`
    spec["iv"] = round(iv, 10)
    spec["trend"] = trend_of(spec) if numeric and found else "none"
    return spec


def all_bins(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The regular bins, then `missing`, then `other` (categorical features)."""
    slots = [*spec["bins"], spec["missing"]]
    if spec["type"] == "categorical":
        slots.append(spec["other"])
    return slots


def trend_of(spec: dict[str, Any]) -> str:
    if spec["type"] != "numeric":
        return "none"
    rates = [b["bads"] / b["count"] for b in spec["bins"] if b["count"]]
    if len(rates) < 2:
        return "none"
    steps = [later - earlier for earlier, later in itertools.pairwise(rates)]
    if all(s >= 0 for s in steps):
        return "ascending"
    if all(s <= 0 for s in steps):
        return "descending"
    return "none"


def assign(values: Any, spec: dict[str, Any]) -> Any:
    """The bin of each value: 0..n-1 the regular bins, n missing, n+1 other."""
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    n = len(spec["bins"])
    if spec["type"] == "numeric":
        x = np.asarray(values, dtype=float)
        uppers = np.array([b["upper"] for b in spec["bins"][:-1]], dtype=float)
        slot = np.searchsorted(uppers, x, side="right")
        slot[np.isnan(x)] = n
        return slot.astype(np.intp)
    lookup = {c: i for i, b in enumerate(spec["bins"]) for c in b["categories"]}
    cells = pd.Series(np.asarray(values, dtype=object))
    # A copy: under pandas' copy-on-write, to_numpy may hand back a read-only view.
    slot = np.array(cells.map(lookup).to_numpy(dtype=float, na_value=np.nan), copy=True)
    missing = cells.isna().to_numpy()
    slot[np.isnan(slot)] = n + 1
    slot[missing] = n
    return slot.astype(np.intp)
