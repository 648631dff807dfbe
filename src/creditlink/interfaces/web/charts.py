"""The overview's charts as Plotly figures (plain JSON: `data` and `layout`), drawn in the
browser by the Plotly served from the installed package (`/ui/static/plotly.min.js`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from creditlink.application.overview import DPD_BANDS, LEVELS, PRODUCTS

PRODUCT_NAMES = {"paylater": "PayLater", "loan": "Cash Loan"}
BAND_COLOURS = ("#4c9a6a", "#e0c341", "#e8913a", "#d4573b", "#8e1f1f")
STAGE_COLOURS = {"1": "#4c9a6a", "2": "#e8913a", "3": "#8e1f1f"}


def _layout(title: str, *, y_title: str, stacked: bool = False) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 15}},
        "height": 320,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
        "barmode": "stack" if stacked else "group",
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.15},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }


def _yuan(fen: int) -> float:
    return fen / 100


def balances_by_bucket(figures: Mapping[str, Any]) -> dict[str, Any]:
    x = [PRODUCT_NAMES[p] for p in PRODUCTS]
    data = [
        {
            "type": "bar",
            "name": band,
            "x": x,
            "y": [
                _yuan(figures["products"][p]["dpd_buckets"][band]["balance_fen"]) for p in PRODUCTS
            ],
            "marker": {"color": colour},
        }
        for (band, _), colour in zip(DPD_BANDS, BAND_COLOURS, strict=True)
    ]
    return {"data": data, "layout": _layout("Balance by DPD bucket", y_title="yuan", stacked=True)}


def utilisation(figures: Mapping[str, Any]) -> dict[str, Any]:
    used = figures["utilisation"]
    names = ["joint", *PRODUCTS]
    data = [
        {
            "type": "bar",
            "name": "utilisation",
            "x": ["Joint limit", *(PRODUCT_NAMES[p] + " cap" for p in PRODUCTS)],
            "y": [round(float(used[n]) * 100, 2) if used[n] is not None else 0 for n in names],
            "marker": {"color": "#3b6ea8"},
        }
    ]
    return {"data": data, "layout": _layout("Utilisation", y_title="% of limit")}


def alerts_by_level(figures: Mapping[str, Any]) -> dict[str, Any]:
    queue = figures["alerts"]
    data = [
        {
            "type": "bar",
            "name": status,
            "x": list(LEVELS),
            "y": [queue[status]["by_level"][level] for level in LEVELS],
            "marker": {"color": colour},
        }
        for status, colour in (("open", "#d4573b"), ("escalated", "#8e1f1f"))
    ]
    return {"data": data, "layout": _layout("Alerts on the queue by level", y_title="alerts")}


def ecl_by_stage(ecl: Mapping[str, Any]) -> dict[str, Any]:
    x = [PRODUCT_NAMES[p] for p in PRODUCTS]
    data = [
        {
            "type": "bar",
            "name": f"stage {stage}",
            "x": x,
            "y": [
                _yuan(ecl.get(p, {}).get("stages", {}).get(stage, {}).get("ecl_fen", 0))
                for p in PRODUCTS
            ],
            "marker": {"color": colour},
        }
        for stage, colour in STAGE_COLOURS.items()
    ]
    return {
        "data": data,
        "layout": _layout("Expected credit loss by stage", y_title="yuan", stacked=True),
    }


def overview_charts(figures: Mapping[str, Any], ecl: Mapping[str, Any]) -> dict[str, Any]:
    """Chart name -> figure, in the order the overview shows them."""
    return {
        "balances": balances_by_bucket(figures),
        "utilisation": utilisation(figures),
        "alerts": alerts_by_level(figures),
        "ecl": ecl_by_stage(ecl),
    }
