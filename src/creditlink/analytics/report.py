"""The twin's report: one self-contained HTML page from the figures in `metrics.json`.

A risk officer reads it, so it is built for reading, not for a browser's tricks: inline CSS,
charts as inline SVG drawn here (no scripts, no fonts or images fetched), native SVG
`<title>` tooltips for exact values, and tables for every figure a chart summarises.

Three rules hold throughout, because the metrics come from a run that may be partial:

- any value may be null, missing or of the wrong type: it renders as "n/a", never raises;
- every piece of text from the metrics is escaped (policy names are user input);
- the output depends on the metrics alone: the same metrics give the same bytes (no clock).

Money arrives in integer fen and is shown in yuan with two places and thousands separators;
rates arrive as floats and are shown as percentages. Definitions follow docs/TWIN.md.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final

from creditlink.analytics.metrics import MIN_BADS
from creditlink.domain.money import FEN_PER_YUAN

__all__ = ["CHART_NAMES", "render_report"]

NA: Final = "n/a"
_CREDIBLE_MAX: Final = 1e18

# The figures the report always draws, in page order; tests and readers rely on the names.
CHART_NAMES: Final = (
    "losses_approvals",
    "dpd_buckets",
    "roll_rates",
    "vintages",
    "contagion",
    "utilisation",
    "score_distribution",
)

PRODUCT_LABELS: Final = {"paylater": "PayLater", "loan": "Cash Loan", "joint": "Both products"}
PERIOD_LABELS: Final = {"before_shock": "Before shock", "after_shock": "From shock", "all": "All"}
BUCKET_ORDER: Final = ("C", "M1", "M2", "M3", "M4+")
BUCKET_COLOURS: Final = {
    "C": "#9ecae1",
    "M1": "#fdd49e",
    "M2": "#fc8d59",
    "M3": "#d7301f",
    "M4+": "#7f0000",
    "WO": "#4d4d4d",  # written off, should the twin report it as a bucket of its own
}
# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale
# print when paired with the markers and dashes below.
_OKABE_ITO: Final = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
_POLICY_COLOURS: Final = {"linked": "#0072B2", "siloed": "#E69F00"}
_PRODUCT_COLOURS: Final = {"paylater": "#009E73", "loan": "#CC79A7", "joint": "#333333"}
_TRANSITION_COLOURS: Final = ("#56B4E9", "#E69F00", "#D55E00", "#7f0000", "#000000")
_SHOCK_FILL: Final = "#f6e7e4"

# TWIN.md's reference ranges for the linked book in normal months: (label, low, high, text).
CALIBRATION_REFERENCES: Final[Mapping[str, tuple[str, float, float, str]]] = {
    "rate_30_plus_normal_months": (
        "30+ DPD, share of balances, normal months",
        0.01,
        0.03,
        "1–3%",
    ),
    "paylater_utilisation": ("PayLater utilisation (balance over limit)", 0.30, 0.50, "30–50%"),
    "statements_paid_in_full": ("Statements paid in full", 0.50, 1.0, "most (over 50%)"),
}


# ---------------------------------------------------------------------------------------------
# Reading the metrics: tolerant of nulls and wrong types, because a partial run is still worth
# a report, and a crash would hide every figure that was computed.


def _at(obj: Any, *path: str | int) -> Any:
    """The value at `path`, or None where any step is missing or of the wrong type."""
    for key in path:
        if isinstance(key, str) and isinstance(obj, Mapping):
            obj = obj.get(key)
        elif isinstance(key, int) and isinstance(obj, list | tuple) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def _mapping(obj: Any) -> Mapping[str, Any]:
    return obj if isinstance(obj, Mapping) else {}


def _items(obj: Any) -> list[Any]:
    return list(obj) if isinstance(obj, list | tuple) else []


def _num(obj: Any) -> float | None:
    """A finite number, or None (bools are not numbers here, and NaN is not computable)."""
    if isinstance(obj, bool) or not isinstance(obj, int | float):
        return None
    if isinstance(obj, int) and abs(obj) > _CREDIBLE_MAX:
        return None  # before float(), which raises on an int beyond a float's range
    value = float(obj)
    # A billion billion fen is no figure a book produces: treat it, like NaN, as not computed,
    # rather than let it overflow the arithmetic of a chart's scale.
    return value if math.isfinite(value) and abs(value) <= _CREDIBLE_MAX else None


def _fen(obj: Any) -> int | None:
    """An amount in fen; a float amount (not expected) is rounded to the nearest fen."""
    if isinstance(obj, bool):
        return None
    if isinstance(obj, int):
        return obj if abs(obj) <= _CREDIBLE_MAX else None
    value = _num(obj)
    return round(value) if value is not None else None


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------------------------------------
# Formatting: one function per kind of figure, each returning "n/a" for a missing value.


def yuan(fen: Any, *, signed: bool = False) -> str:
    """`123456789` fen → `"1,234,567.89"`: exact integer arithmetic, no float on the way."""
    amount = _fen(fen)
    if amount is None:
        return NA
    sign = "-" if amount < 0 else ("+" if signed and amount > 0 else "")
    whole, part = divmod(abs(amount), FEN_PER_YUAN)
    return f"{sign}{whole:,}.{part:02d}"


def percent(rate: Any, *, places: int = 2) -> str:
    value = _num(rate)
    return NA if value is None else f"{value * 100:.{places}f}%"


def points(difference: Any) -> str:
    """A difference of two rates in percentage points, always signed."""
    value = _num(difference)
    return NA if value is None else f"{value * 100:+.2f} pp"


def count(value: Any) -> str:
    number = _num(value)
    if number is None:
        return NA
    return f"{round(number):,}" if number == round(number) else f"{number:,.2f}"


def ratio(value: Any, *, places: int = 3, suffix: str = "") -> str:
    number = _num(value)
    return NA if number is None else f"{number:.{places}f}{suffix}"


def _product_label(product: str) -> str:
    return PRODUCT_LABELS.get(product, product)


def _pair_label(pair: str) -> str:
    """`"paylater->loan"` → `"PayLater → Cash Loan"`."""
    return " → ".join(_product_label(part) for part in pair.split("->"))


# ---------------------------------------------------------------------------------------------
# SVG charts. Each panel is its own <svg> with a viewBox, so it scales with the page; panels of
# one figure share their y scale, so linked and siloed are compared by eye without tricks.

_W: Final = 480
_H: Final = 270
_LEFT: Final = 62
_RIGHT: Final = 14
_TOP: Final = 44
_BOTTOM: Final = 40
_PLOT_W: Final = _W - _LEFT - _RIGHT
_PLOT_BOTTOM: Final = _H - _BOTTOM
_PLOT_H: Final = _PLOT_BOTTOM - _TOP
_SERIES_MAX: Final = 64  # a limit on every loop over series: a bigger input is cut, not drawn


def _f(value: float) -> str:
    """A coordinate: one decimal place is finer than a pixel and keeps the bytes stable."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


@dataclass(frozen=True)
class Scale:
    """A linear y scale from `low` to `high` with the ticks drawn on it."""

    low: float
    high: float
    ticks: tuple[float, ...]
    step: float

    def y(self, value: float) -> float:
        span = self.high - self.low
        return _PLOT_BOTTOM - (value - self.low) / span * _PLOT_H


def nice_scale(values: Iterable[float | None], *, minimum_high: float) -> Scale:
    """A scale from min(0, values) to a round number above them, with about five ticks."""
    present = [v for v in values if v is not None]
    low = min([0.0, *present])
    high = max([minimum_high, *present])
    raw_step = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    ticks = tuple(k * step for k in range(first, last + 1))
    assert len(ticks) >= 2
    return Scale(low=ticks[0], high=ticks[-1], ticks=ticks, step=step)


def _places_for(step: float) -> int:
    """The fewest decimal places that show every multiple of `step` exactly."""
    for places in range(5):
        if abs(round(step, places) - step) < 1e-9 * max(1.0, abs(step)):
            return places
    return 5


@dataclass(frozen=True)
class Formats:
    """How a chart writes its values: short on the axis, exact in labels and tooltips."""

    tick: Callable[[float], str]
    exact: Callable[[float], str]


def percent_axis(scale: Scale) -> Formats:
    places = _places_for(scale.step * 100)
    return Formats(
        tick=lambda value: "0" if value == 0 else f"{value * 100:.{places}f}%",
        exact=percent,
    )


def yuan_axis(scale: Scale) -> Formats:
    """Ticks in yuan, compact (k, m, bn) because tick labels have little room."""
    top_yuan = max(abs(scale.low), abs(scale.high)) / FEN_PER_YUAN
    units = ((1e9, "bn"), (1e6, "m"), (1e3, "k"))
    unit, suffix = next(((u, s) for u, s in units if top_yuan >= u), (1.0, ""))
    places = _places_for(scale.step / FEN_PER_YUAN / unit)
    return Formats(
        tick=lambda v: "0" if v == 0 else f"¥{v / FEN_PER_YUAN / unit:,.{places}f}{suffix}",
        exact=lambda value: f"¥{yuan(value)}",
    )


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: tuple[float | None, ...]
    dashed: bool = False


@dataclass(frozen=True)
class Panel:
    """One small chart: a title, categories along x, and the axis it shares with its row."""

    title: str
    categories: tuple[str, ...]
    x_title: str
    y_title: str
    shock_index: int | None = None


def _svg_open(panel: Panel, label: str) -> list[str]:
    return [
        f'<svg viewBox="0 0 {_W} {_H}" role="img" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{_esc(label)}</title>",
        f'<text class="t" x="8" y="18">{_esc(panel.title)}</text>',
        f'<text class="u" x="8" y="34">{_esc(panel.y_title)}</text>',
    ]


def _empty_panel(panel: Panel, why: str) -> str:
    parts = _svg_open(panel, f"{panel.title}: {why}")
    parts += [
        f'<rect class="frame" x="{_LEFT}" y="{_TOP}" width="{_PLOT_W}" height="{_PLOT_H}"/>',
        f'<text class="na" x="{_f(_LEFT + _PLOT_W / 2)}" y="{_f(_TOP + _PLOT_H / 2)}">'
        f"{NA}: {_esc(why)}</text>",
        "</svg>",
    ]
    return "".join(parts)


def _band(panel: Panel) -> float:
    return _PLOT_W / max(1, len(panel.categories))


def _x_centre(panel: Panel, index: int) -> float:
    return _LEFT + _band(panel) * (index + 0.5)


def _axes(panel: Panel, scale: Scale, fmt: Formats) -> list[str]:
    """Shock band, gridlines with y labels, category labels and the x title."""
    parts: list[str] = []
    if panel.shock_index is not None and 0 <= panel.shock_index < len(panel.categories):
        x = _LEFT + _band(panel) * panel.shock_index
        parts.append(
            f'<rect class="shock" x="{_f(x)}" y="{_TOP}" width="{_f(_LEFT + _PLOT_W - x)}" '
            f'height="{_PLOT_H}" fill="{_SHOCK_FILL}"><title>macro shock</title></rect>'
            f'<text class="s" x="{_f(x + 4)}" y="{_TOP + 11}">shock</text>'
        )
    for tick in scale.ticks:
        y = _f(scale.y(tick))
        grid = "axis" if tick == 0 else "grid"
        parts.append(
            f'<line class="{grid}" x1="{_LEFT}" x2="{_LEFT + _PLOT_W}" y1="{y}" y2="{y}"/>'
            f'<text class="yl" x="{_LEFT - 6}" y="{y}">{_esc(fmt.tick(tick))}</text>'
        )
    # Thin the labels of long category axes so that they never overlap.
    every = max(1, math.ceil(len(panel.categories) * 34 / _PLOT_W))
    for index, category in enumerate(panel.categories):
        if index % every == 0:
            parts.append(
                f'<text class="xl" x="{_f(_x_centre(panel, index))}" y="{_PLOT_BOTTOM + 14}">'
                f"{_esc(category)}</text>"
            )
    parts.append(
        f'<text class="xt" x="{_f(_LEFT + _PLOT_W / 2)}" y="{_H - 6}">{_esc(panel.x_title)}</text>'
    )
    return parts


def line_panel(
    panel: Panel,
    series: Sequence[Series],
    scale: Scale,
    fmt: Formats,
) -> str:
    """Lines through the category centres; a null value breaks its line (no invented points)."""
    if not panel.categories or all(v is None for s in series for v in s.values):
        return _empty_panel(panel, "no values")
    parts = _svg_open(panel, panel.title)
    parts += _axes(panel, scale, fmt)
    for line in series[:_SERIES_MAX]:
        dash = ' stroke-dasharray="6 3"' if line.dashed else ""
        run: list[str] = []
        segments: list[list[str]] = [run]
        for index, value in enumerate(line.values[: len(panel.categories)]):
            if value is None:
                run = []
                segments.append(run)
                continue
            run.append(f"{_f(_x_centre(panel, index))},{_f(scale.y(value))}")
        for segment in segments:
            if len(segment) > 1:
                parts.append(
                    f'<polyline class="line" points="{" ".join(segment)}" '
                    f'stroke="{line.colour}"{dash}/>'
                )
        for index, value in enumerate(line.values[: len(panel.categories)]):
            if value is not None:
                tip = f"{line.name} · {panel.x_title} {panel.categories[index]}: {fmt.exact(value)}"
                parts.append(
                    f'<circle cx="{_f(_x_centre(panel, index))}" cy="{_f(scale.y(value))}" r="2.6"'
                    f' fill="{line.colour}"><title>{_esc(tip)}</title></circle>'
                )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar_panel(
    panel: Panel,
    layers: Sequence[Series],
    scale: Scale,
    fmt: Formats,
) -> str:
    """One bar per category, its layers stacked bottom-up in the order given."""
    totals = [
        sum(max(0.0, layer.values[i] or 0.0) for layer in layers if i < len(layer.values))
        for i in range(len(panel.categories))
    ]
    if not any(totals):
        return _empty_panel(panel, "no balances")
    parts = _svg_open(panel, panel.title)
    parts += _axes(panel, scale, fmt)
    width = _band(panel) * 0.7
    for index, category in enumerate(panel.categories):
        base = 0.0
        x = _x_centre(panel, index) - width / 2
        for layer in layers[:_SERIES_MAX]:
            value = layer.values[index] if index < len(layer.values) else None
            if value is None or value <= 0:
                continue
            top, bottom = scale.y(base + value), scale.y(base)
            text = f"{layer.name} · {panel.x_title} {category}: {fmt.exact(value)}"
            parts.append(
                f'<rect x="{_f(x)}" y="{_f(top)}" width="{_f(width)}" '
                f'height="{_f(max(0.0, bottom - top))}" fill="{layer.colour}">'
                f"<title>{_esc(text)}</title></rect>"
            )
            base += value
    parts.append("</svg>")
    return "".join(parts)


def grouped_bar_panel(
    panel: Panel,
    series: Sequence[Series],
    scale: Scale,
    fmt: Formats,
    notes: Sequence[str] = (),
) -> str:
    """Bars side by side within each category; a null draws "n/a" where its bar would be."""
    if not panel.categories or all(v is None for s in series for v in s.values):
        return _empty_panel(panel, "no values")
    parts = _svg_open(panel, panel.title)
    parts += _axes(panel, scale, fmt)
    shown = series[:_SERIES_MAX]
    width = _band(panel) * 0.75 / max(1, len(shown))
    for index, category in enumerate(panel.categories):
        left = _x_centre(panel, index) - width * len(shown) / 2
        for position, bar in enumerate(shown):
            x = left + width * position
            value = bar.values[index] if index < len(bar.values) else None
            if value is None:
                parts.append(
                    f'<text class="nab" x="{_f(x + width / 2)}" y="{_f(scale.y(0) - 4)}">'
                    f"{NA}</text>"
                )
                continue
            top, bottom = sorted((scale.y(value), scale.y(0)))
            text = f"{bar.name} · {category}: {fmt.exact(value)}"
            parts.append(
                f'<rect x="{_f(x + 1)}" y="{_f(top)}" width="{_f(max(1.0, width - 2))}" '
                f'height="{_f(bottom - top)}" fill="{bar.colour}"><title>{_esc(text)}</title>'
                f"</rect>"
            )
            parts.append(
                f'<text class="bv" x="{_f(x + width / 2)}" y="{_f(top - 3)}">'
                f"{_esc(fmt.exact(value))}</text>"
            )
        if index < len(notes) and notes[index]:
            parts.append(
                f'<text class="note" x="{_f(_x_centre(panel, index))}" y="{_PLOT_BOTTOM + 27}">'
                f"{_esc(notes[index])}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def histogram_panel(
    title: str,
    edges: Sequence[float],
    series: Sequence[Series],
    scale: Scale,
) -> str:
    """Bins drawn to their edges, one translucent layer with a step outline per series."""
    panel = Panel(title=title, categories=(), x_title="score", y_title="share of scored accounts")
    bins = len(edges) - 1
    if bins < 1 or any(b <= a for a, b in pairwise(edges)) or not series:
        return _empty_panel(panel, "no score bins")
    low, high = edges[0], edges[-1]

    def x(edge: float) -> float:
        return _LEFT + (edge - low) / (high - low) * _PLOT_W

    fmt = percent_axis(scale)
    parts = _svg_open(panel, title)
    parts += _axes(panel, scale, fmt)
    every = max(1, math.ceil(len(edges) * 34 / _PLOT_W))
    for index, edge in enumerate(edges):
        if index % every == 0 or index == bins:
            parts.append(
                f'<text class="xl" x="{_f(x(edge))}" y="{_PLOT_BOTTOM + 14}">{count(edge)}</text>'
            )
    for layer in series[:_SERIES_MAX]:
        outline = [f"M{_f(x(low))},{_f(scale.y(0))}"]
        for index in range(bins):
            share = layer.values[index] if index < len(layer.values) else None
            height = share or 0.0
            left, right, top = x(edges[index]), x(edges[index + 1]), scale.y(height)
            outline.append(f"L{_f(left)},{_f(top)}L{_f(right)},{_f(top)}")
            text = f"{layer.name} · {count(edges[index])}–{count(edges[index + 1])}: "
            text += fmt.exact(share) if share is not None else NA
            parts.append(
                f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(right - left)}" '
                f'height="{_f(scale.y(0) - top)}" fill="{layer.colour}" fill-opacity="0.28">'
                f"<title>{_esc(text)}</title></rect>"
            )
        outline.append(f"L{_f(x(high))},{_f(scale.y(0))}")
        parts.append(f'<path class="step" d="{"".join(outline)}" stroke="{layer.colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def sequential_colours(n: int) -> list[str]:
    """`n` colours along viridis (dark to light, stopping short of its pale yellow end)."""
    stops = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (180, 222, 44))
    colours = []
    for index in range(n):
        t = 0.0 if n == 1 else index / (n - 1) * (len(stops) - 1)
        left = min(int(t), len(stops) - 2)
        frac = t - left
        rgb = (round(a + (b - a) * frac) for a, b in zip(stops[left], stops[left + 1], strict=True))
        colours.append("#" + "".join(f"{c:02x}" for c in rgb))
    return colours


# ---------------------------------------------------------------------------------------------
# The page's building blocks.


@dataclass(frozen=True)
class Key:
    """A legend entry: a line (for line charts) or a box (for bars)."""

    name: str
    colour: str
    line: bool = False
    dashed: bool = False


def _legend(keys: Sequence[Key]) -> str:
    if not keys:
        return ""
    items = []
    for key in keys:
        kind = "key line dashed" if key.dashed else ("key line" if key.line else "key")
        items.append(
            f'<li><span class="{kind}" style="--c:{key.colour}"></span>{_esc(key.name)}</li>'
        )
    return f'<ul class="legend">{"".join(items)}</ul>'


class _Page:
    """Numbers the figures and tables as they are added, so captions can refer to them."""

    def __init__(self) -> None:
        self.figures = 0

    def figure(self, name: str, caption: str, panels: Sequence[str], keys: Sequence[Key]) -> str:
        self.figures += 1
        if not panels:
            empty = Panel(title="No policy", categories=(), x_title="", y_title="")
            panels = [_empty_panel(empty, "no policies in the metrics")]
        body = "".join(f'<div class="panel">{svg}</div>' for svg in panels)
        return (
            f'<figure class="chart" data-chart="{_esc(name)}" id="figure-{_esc(name)}">'
            f'{_legend(keys)}<div class="panels">{body}</div>'
            f"<figcaption><strong>Figure {self.figures}.</strong> {caption}</figcaption></figure>"
        )


def _table(
    head: Sequence[str], rows: Iterable[Sequence[str]], *, caption: str = "", numeric_from: int = 1
) -> str:
    """A table of already-escaped cells; columns from `numeric_from` on are right-aligned."""
    cap = f"<caption>{caption}</caption>" if caption else ""
    heads = "".join(
        f'<th scope="col"{" class=num" if i >= numeric_from else ""}>{h}</th>'
        for i, h in enumerate(head)
    )
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if i == 0:
                cells.append(f'<th scope="row">{cell}</th>')
                continue
            classes = " ".join(
                c for c, on in (("num", i >= numeric_from), ("na", cell == NA)) if on
            )
            cells.append(f'<td class="{classes}">{cell}</td>' if classes else f"<td>{cell}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table>{cap}<thead><tr>{heads}</tr></thead><tbody>{''.join(body)}</tbody></table>"


@dataclass(frozen=True)
class _Context:
    """What every section needs: the metrics, the policies in order, and the run's calendar."""

    metrics: Mapping[str, Any]
    policies: tuple[str, ...]
    months: int | None
    shock_month: int | None

    def policy(self, name: str) -> Mapping[str, Any]:
        return _mapping(_at(self.metrics, "policies", name))

    def colour(self, name: str) -> str:
        if name in _POLICY_COLOURS:
            return _POLICY_COLOURS[name]
        others = [c for c in _OKABE_ITO if c not in _POLICY_COLOURS.values()]
        return others[self.policies.index(name) % len(others)] if name in self.policies else "#777"

    def period_label(self, period: str) -> str:
        base = PERIOD_LABELS.get(period, period)
        if self.shock_month is None or self.months is None:
            return base
        ranges = {
            "before_shock": (1, self.shock_month - 1),
            "after_shock": (self.shock_month, self.months),
            "all": (1, self.months),
        }
        if period not in ranges:
            return base
        first, last = ranges[period]
        return f"{base} (months {first}–{last})" if first < last else f"{base} (month {first})"


def _context(metrics: Mapping[str, Any]) -> _Context:
    names: list[str] = []
    sources = (
        _items(_at(metrics, "config", "policies")),
        list(_mapping(_at(metrics, "policies")).keys()),
        [_at(row, "policy") for row in _items(_at(metrics, "headline", "rows"))],
    )
    for source in sources:
        names += [n for n in source if isinstance(n, str) and n not in names]
    months, shock = (
        _num(_at(metrics, "config", "months")),
        _num(_at(metrics, "config", "shock_month")),
    )
    return _Context(
        metrics=metrics,
        policies=tuple(names[:_SERIES_MAX]),
        months=int(months) if months is not None else None,
        shock_month=int(shock) if shock is not None else None,
    )


# ---------------------------------------------------------------------------------------------
# Sections, in page order.


def _header(ctx: _Context) -> str:
    config = _mapping(_at(ctx.metrics, "config"))
    policies = ", ".join(ctx.policies) or NA
    facts = [
        ("Customers", count(config.get("customers"))),
        ("Months", count(config.get("months"))),
        ("Start", _esc(config["start"]) if isinstance(config.get("start"), str) else NA),
        (
            "Macro shock from month",
            "none"
            if "shock_month" in config and config["shock_month"] is None
            else count(config.get("shock_month")),
        ),
        ("Seed", count(config.get("seed"))),
        ("Policies", _esc(policies)),
    ]
    dl = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    return (
        "<header><h1>Digital twin: linked against siloed credit</h1>"
        '<p class="lede">A synthetic book driven through the platform\'s real use cases and '
        "close of day under each policy, on the same seeded customers and the same shocks.</p>"
        f'<dl class="facts">{dl}</dl>'
        '<p class="impartial"><strong>Impartiality.</strong> The twin is never tuned to favour '
        "linkage. Every policy sees the same customers and the same macro shock; only the "
        "credit decisions differ. The figures below are shown as computed, whichever policy "
        "they favour, and a figure that could not be computed reads “n/a”.</p>"
        f"{_policy_changes(config)}</header>"
    )


def _policy_changes(config: Mapping[str, Any]) -> str:
    """The parameters a candidate policy changes, so that a reader knows what was compared."""
    rows = [
        [_esc(policy), _esc(parameter), _esc(_plain(value))]
        for policy, changes in _mapping(config.get("policy_changes")).items()
        for parameter, value in _mapping(changes).items()
    ]
    if not rows:
        return ""
    return _table(
        ["Policy", "Parameter", "Value"],
        rows,
        caption="Parameters changed by candidate policies",
        numeric_from=2,
    )


def _plain(value: object) -> str:
    """A parameter value as text, the same text for the same value."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _contents() -> str:
    links = [
        ("headline", "Headline"),
        ("calibration", "Calibration"),
        ("losses", "Losses and approvals"),
        ("delinquency", "Delinquency"),
        ("contagion", "Contagion"),
        ("utilisation", "Utilisation"),
        ("ecl", "Expected credit loss"),
        ("scores", "Scores and model quality"),
        ("ledger", "Ledger verification"),
        ("monthly", "Monthly figures"),
    ]
    items = "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in links)
    return f'<nav aria-label="Contents"><ol>{items}</ol></nav>'


_HEADLINE_MEASURES: Final = (
    ("loss_rate", "Loss rate (annualised)", "rate"),
    ("rate_30_plus", "30+ DPD rate (balance)", "rate"),
    ("approval_rate", "Approval rate", "rate"),
    ("revenue_fen", "Revenue (yuan)", "money"),
)


def _headline_cells(ctx: _Context) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The headline rows by (policy, period); a row without both names cannot be placed."""
    cells: dict[tuple[str, str], Mapping[str, Any]] = {}
    for row in _items(_at(ctx.metrics, "headline", "rows")):
        policy, period = _at(row, "policy"), _at(row, "period")
        if isinstance(policy, str) and isinstance(period, str):
            cells[(policy, period)] = row
    return cells


def _headline(ctx: _Context) -> str:
    cells = _headline_cells(ctx)
    periods = [p for p in ("before_shock", "after_shock", "all") if any(k[1] == p for k in cells)]
    periods += [p for p in dict.fromkeys(k[1] for k in cells) if p not in periods]
    if not periods:
        periods = ["before_shock", "after_shock"]
    compare = "linked" in ctx.policies and "siloed" in ctx.policies
    head = ["Measure", "Period", *(_esc(p) for p in ctx.policies)]
    if compare:
        head.append("linked − siloed")
    body = []
    for key, title, kind in _HEADLINE_MEASURES:
        for period in periods:
            values = [_at(cells.get((p, period)), key) for p in ctx.policies]
            shown = [percent(v) if kind == "rate" else yuan(v) for v in values]
            row = [title, _esc(ctx.period_label(period)), *shown]
            if compare:
                a = _at(cells.get(("linked", period)), key)
                b = _at(cells.get(("siloed", period)), key)
                if kind == "rate":
                    na, nb = _num(a), _num(b)
                    row.append(points(na - nb) if na is not None and nb is not None else NA)
                else:
                    fa, fb = _fen(a), _fen(b)
                    row.append(
                        yuan(fa - fb, signed=True) if fa is not None and fb is not None else NA
                    )
            body.append(row)
    table = _table(head, body, numeric_from=2)
    return (
        '<section id="headline"><h2>Headline</h2>'
        "<p>Loss rate is principal written off less recoveries over average balance, "
        "annualised; the 30+ rate is the balance of accounts 30 or more days past due over total "
        "balance at month end; revenue is interest, fees and penalty income. The last column is "
        "a plain difference, not a judgement.</p>"
        "<p>An account is written off at 180 days past due, so a period's losses are accounts "
        "that went late about six months before it: losses after a shock late in the run "
        "come from before the shock, and the shock shows first in the 30+ rate, the roll "
        "rates and ECL. On a small book a few first-payment fraudsters, who max out both "
        "products and never pay, can make most of the write-offs.</p>"
        f"{table}</section>"
    )


def _calibration(ctx: _Context) -> str:
    calibration = _mapping(_at(ctx.metrics, "calibration"))
    body = []
    for policy, figures in calibration.items():
        figures = _mapping(figures)
        keys = [*CALIBRATION_REFERENCES, *(k for k in figures if k not in CALIBRATION_REFERENCES)]
        for key in keys:
            value = _num(figures.get(key))
            if key in CALIBRATION_REFERENCES:
                title, low, high, reference = CALIBRATION_REFERENCES[key]
                if value is None:
                    verdict = NA
                elif low <= value <= high:
                    verdict = '<span class="ok">within</span>'
                else:
                    verdict = '<span class="warn">outside</span>'
            else:
                title, reference, verdict = str(key), NA, NA
            body.append([_esc(policy), _esc(title), percent(value), reference, verdict])
    if not body:
        body.append([NA, "No calibration figures in the metrics", NA, NA, NA])
    table = _table(
        ["Policy", "Figure", "Twin", "Reference", "Against reference"], body, numeric_from=2
    )
    return (
        '<section id="calibration"><h2>Calibration</h2>'
        "<p>The baseline is calibrated so that the linked book looks like a real consumer-credit "
        "book in normal months (before the shock). For scale: Ant Group reported 30+ DPD of "
        "1.08%, 1.43% and 1.56% for 2017–2019, and 3.01% in May 2020 under stress. A figure "
        "outside its range is shown, not hidden: judge the twin by it.</p>"
        f"{table}</section>"
    )


def _losses_and_approvals(ctx: _Context, page: _Page) -> str:
    cells = _headline_cells(ctx)
    # Before and from the shock; a run without a shock has only the whole run to show.
    periods = tuple(p for p in ("before_shock", "after_shock") if any(k[1] == p for k in cells))
    periods = periods or ("all",)
    categories = tuple(ctx.period_label(p) for p in periods)

    def bars(key: str) -> list[Series]:
        return [
            Series(p, ctx.colour(p), tuple(_num(_at(cells.get((p, q)), key)) for q in periods))
            for p in ctx.policies
        ]

    loss, approval = bars("loss_rate"), bars("approval_rate")
    net = [
        Series(p, ctx.colour(p), (_num(_at(ctx.policy(p), "losses", "loss_fen")),))
        for p in ctx.policies
    ]
    loss_scale = nice_scale((v for s in loss for v in s.values), minimum_high=0.01)
    approval_scale = nice_scale((v for s in approval for v in s.values), minimum_high=1.0)
    net_scale = nice_scale((v for s in net for v in s.values), minimum_high=100.0)
    panels = [
        grouped_bar_panel(
            Panel("Loss rate (annualised)", categories, "period", "loss over average balance"),
            loss,
            loss_scale,
            percent_axis(loss_scale),
        ),
        grouped_bar_panel(
            Panel("Approval rate", categories, "period", "approved over requested"),
            approval,
            approval_scale,
            percent_axis(approval_scale),
        ),
        grouped_bar_panel(
            Panel("Net loss over the run", ("whole run",), "", "written off less recoveries"),
            net,
            net_scale,
            yuan_axis(net_scale),
        ),
    ]
    figure = page.figure(
        "losses_approvals",
        "Loss rate and approval rate by policy, "
        + ("before the macro shock and from it" if periods != ("all",) else "over the whole run")
        + ", and the net loss in yuan over the whole run. Bars of one measure share one scale.",
        panels,
        [Key(p, ctx.colour(p)) for p in ctx.policies],
    )
    loss_rows = []
    for p in ctx.policies:
        losses = _mapping(ctx.policy(p).get("losses"))
        loss_rows.append(
            [
                _esc(p),
                yuan(losses.get("written_off_fen")),
                yuan(losses.get("recovered_fen")),
                yuan(losses.get("loss_fen")),
                percent(losses.get("loss_rate")),
            ]
        )
    approval_rows = []
    for p in ctx.policies:
        for operation, figures in _mapping(ctx.policy(p).get("approvals")).items():
            requested, approved = _num(_at(figures, "requested")), _num(_at(figures, "approved"))
            rate = approved / requested if requested and approved is not None else None
            approval_rows.append(
                [
                    _esc(p),
                    _esc(str(operation).replace("_", " ")),
                    count(requested),
                    count(approved),
                    percent(rate),
                ]
            )
    return (
        '<section id="losses"><h2>Losses and approvals</h2>'
        f"{figure}"
        + _table(
            [
                "Policy",
                "Principal written off (yuan)",
                "Recovered (yuan)",
                "Net loss (yuan)",
                "Loss rate",
            ],
            loss_rows,
            caption="Losses over the whole run",
        )
        + _table(
            ["Policy", "Operation", "Requested", "Approved", "Approval rate"],
            approval_rows or [[NA, NA, NA, NA, NA]],
            numeric_from=2,
            caption="Approvals by operation over the whole run",
        )
        + "</section>"
    )


def _monthly(ctx: _Context, policy: str) -> list[Mapping[str, Any]]:
    return [_mapping(m) for m in _items(ctx.policy(policy).get("monthly"))]


def _month_axis(
    ctx: _Context, months: Sequence[Mapping[str, Any]]
) -> tuple[tuple[str, ...], int | None]:
    labels = tuple(count(m.get("month")) for m in months)
    shock = None
    if ctx.shock_month is not None:
        shock = next(
            (i for i, m in enumerate(months) if _num(m.get("month")) == ctx.shock_month), None
        )
    return labels, shock


def _dpd_buckets(ctx: _Context, page: _Page) -> str:
    """All buckets (the size of the book), then the delinquent ones alone (their mix)."""
    bucket_names = list(BUCKET_ORDER)
    for p in ctx.policies:
        for month in _monthly(ctx, p):
            bucket_names += [
                str(b)
                for b in _mapping(_at(month, "joint", "buckets"))
                if str(b) not in bucket_names
            ]
    bucket_names = bucket_names[:_SERIES_MAX]
    stacks: dict[str, tuple[tuple[str, ...], int | None, list[Series]]] = {}
    for p in ctx.policies:
        months = _monthly(ctx, p)
        labels, shock = _month_axis(ctx, months)
        layers = [
            Series(
                b,
                BUCKET_COLOURS.get(b, "#999999"),
                tuple(_num(_at(m, "joint", "buckets", b)) for m in months),
            )
            for b in bucket_names
        ]
        stacks[p] = (labels, shock, layers)

    def totals(layers: Sequence[Series], names: Sequence[str]) -> list[float]:
        chosen = [layer for layer in layers if layer.name in names]
        width = max((len(layer.values) for layer in chosen), default=0)
        return [sum(max(0.0, layer.values[i] or 0.0) for layer in chosen) for i in range(width)]

    late = [b for b in bucket_names if b != "C"]
    all_scale = nice_scale(
        (t for s in stacks.values() for t in totals(s[2], bucket_names)), minimum_high=100.0
    )
    late_scale = nice_scale(
        (t for s in stacks.values() for t in totals(s[2], late)), minimum_high=100.0
    )
    panels = []
    for p, (labels, shock, layers) in stacks.items():
        panels.append(
            stacked_bar_panel(
                Panel(f"{p} · all buckets", labels, "month", "balance, both products", shock),
                layers,
                all_scale,
                yuan_axis(all_scale),
            )
        )
        panels.append(
            stacked_bar_panel(
                Panel(f"{p} · delinquent buckets", labels, "month", "balance, M1 and later", shock),
                [layer for layer in layers if layer.name != "C"],
                late_scale,
                yuan_axis(late_scale),
            )
        )
    return page.figure(
        "dpd_buckets",
        "Balances by delinquency bucket at each month end (C current, M1 1–30 days past due, "
        "M2 31–60, M3 61–90, M4+ over 90), both products together. The second panel of each "
        "policy leaves out the current bucket so that the delinquent ones can be read. "
        + _shock_note(ctx),
        panels,
        [Key(b, BUCKET_COLOURS.get(b, "#999999")) for b in bucket_names],
    )


def _shock_note(ctx: _Context) -> str:
    if ctx.shock_month is None:
        return "This run has no macro shock."
    return f"The shaded months, from month {ctx.shock_month}, are under the macro shock."


def _delinquency(ctx: _Context, page: _Page) -> str:
    buckets = _dpd_buckets(ctx, page)
    roll_rates = _roll_rates(ctx, page)
    vintages = _vintages(ctx, page)
    return (
        f'<section id="delinquency"><h2>Delinquency</h2>{buckets}{roll_rates}{vintages}</section>'
    )


def _roll_rates(ctx: _Context, page: _Page) -> str:
    grids: list[tuple[str, str, tuple[str, ...], int | None, list[Series]]] = []
    transitions: list[str] = []
    for p in ctx.policies:
        for rows in _mapping(ctx.policy(p).get("roll_rates")).values():
            rows = [_mapping(r) for r in _items(rows)]
            transitions += [str(k) for r in rows for k in r if k != "month"]
    transitions = list(dict.fromkeys(transitions))[:_SERIES_MAX]
    colours = {
        t: _TRANSITION_COLOURS[i % len(_TRANSITION_COLOURS)] for i, t in enumerate(transitions)
    }
    for p in ctx.policies:
        for product, rows in _mapping(ctx.policy(p).get("roll_rates")).items():
            rows = [_mapping(r) for r in _items(rows)]
            labels, shock = _month_axis(ctx, rows)
            series = [
                Series(t.replace("->", " → "), colours[t], tuple(_num(r.get(t)) for r in rows))
                for t in transitions
            ]
            grids.append((p, str(product), labels, shock, series))
    scale = nice_scale((v for g in grids for s in g[4] for v in s.values), minimum_high=0.1)
    panels = [
        line_panel(
            Panel(
                f"{p} · {_product_label(product)}",
                labels,
                "month",
                "share of bucket balance rolling on",
                shock,
            ),
            series,
            scale,
            percent_axis(scale),
        )
        for p, product, labels, shock, series in grids
    ] or [_empty_panel(Panel("Roll rates", (), "month", ""), "no roll rates")]
    return page.figure(
        "roll_rates",
        "Roll rates: the share of balance in bucket X at month end m that is in bucket Y at month "
        "end m + 1, plotted at month m + 1. A gap is a month with no balance in bucket X. "
        + _shock_note(ctx),
        panels,
        [Key(t.replace("->", " → "), colours[t], line=True) for t in transitions],
    )


def _vintages(ctx: _Context, page: _Page) -> str:
    per_policy = {p: _mapping(ctx.policy(p).get("vintages")) for p in ctx.policies}
    names = sorted({str(v) for curves in per_policy.values() for v in curves})[:_SERIES_MAX]
    colours = dict(zip(names, sequential_colours(len(names)), strict=True))
    length = max(
        (len(_items(c)) for curves in per_policy.values() for c in curves.values()), default=0
    )
    # The twin counts months on book from 0, the month of onboarding.
    categories = tuple(str(i) for i in range(length))
    series = {
        p: [
            Series(str(v), colours[str(v)], tuple(_num(x) for x in _items(c)))
            for v, c in curves.items()
            if str(v) in colours
        ]
        for p, curves in per_policy.items()
    }
    scale = nice_scale(
        (v for s in series.values() for line in s for v in line.values), minimum_high=0.01
    )
    panels = [
        line_panel(
            Panel(p, categories, "months on book", "share ever 30+ DPD"),
            s,
            scale,
            percent_axis(scale),
        )
        for p, s in series.items()
    ]
    return page.figure(
        "vintages",
        "Vintage curves: for the customers onboarded in each month, the share ever 30 or more "
        "days past due, by months on book (0 is the end of the month of onboarding). Later "
        "vintages are shorter because they have been on book for less time.",
        panels,
        [Key(n, colours[n], line=True) for n in names],
    )


def _contagion(ctx: _Context, page: _Page) -> str:
    pairs: list[str] = []
    for p in ctx.policies:
        pairs += [str(k) for k in _mapping(ctx.policy(p).get("contagion")) if str(k) not in pairs]
    pairs = pairs[:_SERIES_MAX]
    categories = tuple(_pair_label(pair) for pair in pairs)
    per_policy = {}
    rows = []
    for p in ctx.policies:
        contagion = _mapping(ctx.policy(p).get("contagion"))
        conditional = tuple(_num(_at(contagion, pair, "conditional")) for pair in pairs)
        unconditional = tuple(_num(_at(contagion, pair, "unconditional")) for pair in pairs)
        lifts = [_at(contagion, pair, "lift") for pair in pairs]
        per_policy[p] = (
            conditional,
            unconditional,
            [f"lift {ratio(v, places=2, suffix='×')}" for v in lifts],
        )
        rows += [
            [
                _esc(p),
                _esc(_pair_label(pair)),
                percent(c),
                percent(u),
                ratio(lift, places=2, suffix="×"),
            ]
            for pair, c, u, lift in zip(pairs, conditional, unconditional, lifts, strict=True)
        ]
    scale = nice_scale((v for c, u, _ in per_policy.values() for v in (*c, *u)), minimum_high=0.05)
    panels = [
        grouped_bar_panel(
            Panel(p, categories, "", "probability of being late in the second product"),
            [
                Series("P(late in B | late in A)", "#D55E00", c),
                Series("P(late in B)", "#999999", u),
            ],
            scale,
            percent_axis(scale),
            notes,
        )
        for p, (c, u, notes) in per_policy.items()
    ]
    figure = page.figure(
        "contagion",
        "Contagion between the products over the run: for each ordered pair A → B, the chance of "
        "being late in B given late in A, against the chance of being late in B at all. Their "
        "ratio is the lift.",
        panels,
        [Key("P(late in B | late in A)", "#D55E00"), Key("P(late in B)", "#999999")],
    )
    table = _table(
        ["Policy", "A → B", "P(late in B | late in A)", "P(late in B)", "Lift"],
        rows or [[NA, NA, NA, NA, NA]],
        numeric_from=2,
    )
    return f'<section id="contagion"><h2>Contagion</h2>{figure}{table}</section>'


def _utilisation(ctx: _Context, page: _Page) -> str:
    products = ("paylater", "loan", "joint")
    per_policy = {}
    for p in ctx.policies:
        months = _monthly(ctx, p)
        labels, shock = _month_axis(ctx, months)
        series = [
            Series(
                _product_label(product),
                _PRODUCT_COLOURS[product],
                tuple(_num(_at(m, product, "utilisation")) for m in months),
                dashed=product == "joint",
            )
            for product in products
        ]
        per_policy[p] = (labels, shock, series)
    scale = nice_scale(
        (v for _, _, s in per_policy.values() for line in s for v in line.values), minimum_high=0.5
    )
    panels = [
        line_panel(
            Panel(p, labels, "month", "balance over limit", shock),
            series,
            scale,
            percent_axis(scale),
        )
        for p, (labels, shock, series) in per_policy.items()
    ]
    figure = page.figure(
        "utilisation",
        "Utilisation at each month end: balance over limit, by product and for both products "
        "together. The twin is calibrated to PayLater utilisation of roughly 30–50% in normal "
        "months. " + _shock_note(ctx),
        panels,
        [
            Key(_product_label(p), _PRODUCT_COLOURS[p], line=True, dashed=p == "joint")
            for p in products
        ],
    )
    return f'<section id="utilisation"><h2>Utilisation</h2>{figure}</section>'


def _sum_or_none(values: Iterable[float | None]) -> float | None:
    """The total, or None where any part is missing: a partial total would mislead."""
    parts = list(values)
    return None if not parts or None in parts else sum(p for p in parts if p is not None)


def _ecl(ctx: _Context) -> str:
    rows = []
    for p in ctx.policies:
        ecl = _mapping(ctx.policy(p).get("ecl"))
        stages = _mapping(ecl.get("stages"))
        names = list(dict.fromkeys(["1", "2", "3", *(str(s) for s in stages)]))
        figures = [_mapping(stages.get(stage)) for stage in names]
        for stage, stage_figures in zip(names, figures, strict=True):
            ead, loss = _num(stage_figures.get("ead_fen")), _num(stage_figures.get("ecl_fen"))
            rows.append(
                [
                    _esc(p),
                    _esc(f"Stage {stage}"),
                    count(stage_figures.get("accounts")),
                    yuan(stage_figures.get("ead_fen")),
                    yuan(stage_figures.get("ecl_fen")),
                    percent(loss / ead if ead and loss is not None else None),
                ]
            )
        accounts = _sum_or_none(_num(f.get("accounts")) for f in figures)
        ead_total = _sum_or_none(_num(f.get("ead_fen")) for f in figures)
        ecl_total = _num(ecl.get("total_ecl_fen"))
        coverage = ecl_total / ead_total if ead_total and ecl_total is not None else None
        rows.append(
            [
                _esc(p),
                "<strong>Total</strong>",
                count(accounts),
                yuan(ead_total),
                yuan(ecl.get("total_ecl_fen")),
                percent(coverage),
            ]
        )
    table = _table(
        ["Policy", "Stage", "Accounts", "EAD (yuan)", "ECL (yuan)", "Coverage"],
        rows or [[NA] * 6],
        numeric_from=2,
    )
    return (
        '<section id="ecl"><h2>Expected credit loss (IFRS 9)</h2>'
        "<p>Stage 1: current. Stage 2: significant increase in credit risk (30+ DPD, or the "
        "behaviour grade down two or more since onboarding). Stage 3: 90+ DPD or written off. "
        "ECL = PD × LGD × EAD, with a 12-month PD in stage 1, lifetime in stage 2 and 1 in stage "
        "3; EAD is drawn balance plus CCF × undrawn limit. Coverage is ECL over EAD.</p>"
        f"{table}</section>"
    )


def _compared_months(keys: Iterable[str], scored_at: Any) -> list[str]:
    """The months PSI compares: the one the model was scored at (else the first), and the last.

    Twelve overlaid histograms cannot be read; the two that the PSI figure is about can.
    """
    ordered = sorted(keys, key=_month_order)
    at = _num(scored_at)
    first = str(int(at)) if at is not None and str(int(at)) in ordered else None
    chosen = [first or (ordered[0] if ordered else None), ordered[-1] if ordered else None]
    return [m for m in dict.fromkeys(chosen) if m is not None]


def _occupied_bins(shares: Iterable[Sequence[float | None]]) -> tuple[int, int] | None:
    """The first and last bin holding any account, widened by one bin either side."""
    occupied = [i for values in shares for i, v in enumerate(values) if v]
    if not occupied:
        return None
    return max(0, min(occupied) - 1), max(occupied) + 1


def _scores(ctx: _Context, page: _Page) -> str:
    month_names: list[str] = []
    prepared = []
    for p in ctx.policies:
        scores = _mapping(ctx.policy(p).get("scores"))
        edges = [e for e in (_num(x) for x in _items(scores.get("edges"))) if e is not None]
        by_month = _mapping(scores.get("counts_by_month"))
        scored_at = _at(ctx.policy(p), "model_quality", "scored_at_month")
        series = []
        for key in _compared_months((str(k) for k in by_month), scored_at):
            counts = [_num(c) for c in _items(by_month[key])]
            total = sum(c for c in counts if c is not None)
            shares = tuple(c / total if c is not None and total else None for c in counts)
            series.append((f"month {key}", shares))
            month_names += [f"month {key}"] if f"month {key}" not in month_names else []
        prepared.append((p, edges, series))
    # One score range for every panel, cut to the bands with accounts in them, so that a
    # concentrated distribution is not a sliver in a wide empty axis.
    span = _occupied_bins(shares for _, _, s in prepared for _, shares in s)
    if span is not None:
        low, high = span
        prepared = [
            (p, edges[low : high + 2], [(n, v[low : high + 1]) for n, v in series])
            for p, edges, series in prepared
        ]
    colours = dict(zip(month_names, sequential_colours(len(month_names)), strict=True))
    scale = nice_scale(
        (v for _, _, s in prepared for _, shares in s for v in shares), minimum_high=0.05
    )
    panels = [
        histogram_panel(
            p, edges, [Series(name, colours[name], shares) for name, shares in series], scale
        )
        for p, edges, series in prepared
    ]
    figure = page.figure(
        "score_distribution",
        "Behaviour score distribution: the share of scored accounts in each score band, in the "
        "month the model was scored at and in the last month, the two months that PSI compares. "
        "The score axis covers the bands that hold accounts, and one band either side.",
        panels,
        [Key(name, colours[name]) for name in month_names],
    )
    rows = []
    qualities = {p: _mapping(ctx.policy(p).get("model_quality")) for p in ctx.policies}
    # Where the twin says what was scored against what, the table says it too.
    context = [
        (key, title)
        for key, title in (
            ("scored_at_month", "Scored at month"),
            ("outcome", "Outcome"),
            ("customers", "Customers"),
            ("bads", "Bads"),
        )
        if any(key in q for q in qualities.values())
    ]
    for p, quality in qualities.items():
        psi = _num(quality.get("psi"))
        reading = (
            NA
            if psi is None
            else "stable"
            if psi < 0.1
            else "moderate shift"
            if psi < 0.25
            else "significant shift"
        )
        rows.append(
            [
                _esc(p),
                ratio(quality.get("auc")),
                ratio(quality.get("ks")),
                ratio(quality.get("psi")),
                reading,
                *(
                    _esc(quality[key])
                    if isinstance(quality.get(key), str)
                    else count(quality.get(key))
                    for key, _ in context
                ),
            ]
        )
    table = _table(
        ["Policy", "AUC", "KS", "PSI", "PSI reading", *(title for _, title in context)],
        rows or [[NA] * 5],
        caption="Model quality on the twin (AUC and KS need at least "
        f"{MIN_BADS} bads among the customers scored; with fewer they are n/a)",
    )
    return (
        '<section id="scores"><h2>Scores and model quality</h2>'
        f"{figure}{table}"
        "<p>AUC and KS of the behaviour score at a month against 30+ DPD within the next six "
        "months; PSI of the score between months (conventionally below 0.1 stable, 0.1–0.25 a "
        "moderate shift, above 0.25 a significant one).</p></section>"
    )


def _month_order(key: object) -> tuple[int, int, str]:
    """Months numerically ("3" before "12"), anything else after them by name."""
    text = str(key)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _ledger(ctx: _Context) -> str:
    rows = []
    ledgers = _mapping(_at(ctx.metrics, "ledger"))
    for book, figures in ledgers.items():
        verified = _at(figures, "verified")
        status = (
            '<span class="ok">verified: balanced</span>'
            if verified is True
            else '<span class="warn">NOT verified</span>'
            if verified is False
            else NA
        )
        rows.append([_esc(book), status, count(_at(figures, "entries"))])
        if any("books" in _mapping(f) for f in ledgers.values()):
            rows[-1].append(count(_at(figures, "books")))
    head = ["Book", "Verification", "Entries"]
    if any("books" in _mapping(f) for f in ledgers.values()):
        head.append("Ledgers (partitions)")
    table = _table(head, rows or [[NA, NA, NA]], numeric_from=2)
    return (
        '<section id="ledger"><h2>Ledger verification</h2>'
        "<p>Each book's ledger is replayed after the run: every transfer balances and every "
        "account's balance equals the sum of its entries. Siloed runs keep one book per "
        "product.</p>"
        f"{table}</section>"
    )


_MONTHLY_COLUMNS: Final[tuple[tuple[str, str, Callable[[Any], str]], ...]] = (
    ("balance_fen", "Balance (yuan)", yuan),
    ("limit_fen", "Limit (yuan)", yuan),
    ("utilisation", "Utilisation", percent),
    ("accounts", "Accounts", count),
    ("rate_30_plus", "30+ (balance)", percent),
    ("rate_30_plus_count", "30+ (count)", percent),
    ("rate_90_plus", "90+ (balance)", percent),
    ("written_off_fen", "Principal written off (yuan)", yuan),
    ("recovered_fen", "Recovered (yuan)", yuan),
    ("revenue_fen", "Revenue (yuan)", yuan),
    ("requested", "Requested", count),
    ("approved", "Approved", count),
)


def _monthly_tables(ctx: _Context) -> str:
    blocks = []
    for p in ctx.policies:
        months = _monthly(ctx, p)
        for product in ("joint", "paylater", "loan"):
            rows = [
                [
                    count(m.get("month")),
                    _esc(m["end"]) if isinstance(m.get("end"), str) else NA,
                    *(fmt(_at(m, product, key)) for key, _, fmt in _MONTHLY_COLUMNS),
                ]
                for m in months
            ]
            table = _table(
                ["Month", "Month end", *(title for _, title, _ in _MONTHLY_COLUMNS)],
                rows or [[NA] * (len(_MONTHLY_COLUMNS) + 2)],
                numeric_from=2,
            )
            blocks.append(
                f"<details><summary>{_esc(p)} · {_esc(_product_label(product))}</summary>"
                f'<div class="scroll">{table}</div></details>'
            )
    return (
        '<section id="monthly"><h2>Monthly figures</h2>'
        "<p>The month-end figures behind the charts, per policy and product.</p>"
        f"{''.join(blocks)}</section>"
    )


_CSS: Final = """
:root{--ink:#1d2430;--muted:#5b6573;--rule:#d8dde4;--band:#f5f7fa;--ok:#1b7a3d;--warn:#b3261e}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);background:#fff;font:15px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,"PingFang SC","Noto Sans CJK SC",sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 64px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:40px 0 8px;padding-top:8px;
border-top:2px solid var(--ink)}
p{max-width:78ch}.lede{color:var(--muted);margin-top:0}
.facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:12px 0}.facts div{min-width:110px}
.facts dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.facts dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums}
.impartial{border-left:4px solid var(--ink);background:var(--band);padding:10px 14px;
max-width:none}
nav ol{display:flex;flex-wrap:wrap;gap:4px 22px;padding:0;list-style-position:inside;
font-size:14px}
table{border-collapse:collapse;margin:14px 0 22px;font-size:14px;min-width:50%}
caption{text-align:left;font-weight:600;padding-bottom:6px}
th,td{padding:5px 10px;border-bottom:1px solid var(--rule);text-align:left;vertical-align:top}
thead th{border-bottom:2px solid var(--ink);font-size:13px}
tbody th{font-weight:500}.num{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}
.na{color:var(--muted);font-style:italic}.ok{color:var(--ok);font-weight:600}
.warn{color:var(--warn);font-weight:600}
.scroll{overflow-x:auto}details{margin:6px 0}summary{cursor:pointer;font-weight:600}
figure.chart{margin:18px 0 26px;padding:12px 14px;border:1px solid var(--rule);
border-radius:6px;break-inside:avoid}
.panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:12px 20px}
.panel svg{display:block;width:100%;height:auto}
figcaption{font-size:13.5px;color:var(--muted);margin-top:8px;max-width:none}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 16px;margin:0 0 6px;padding:0;
font-size:13px}
.legend li{display:flex;align-items:center;gap:6px}
.key{display:inline-block;width:12px;height:12px;background:var(--c);
-webkit-print-color-adjust:exact;print-color-adjust:exact}
.key.line{height:0;width:18px;background:none;border-top:3px solid var(--c)}
.key.dashed{border-top-style:dashed}
svg text{font-family:inherit;fill:var(--ink)}
svg .t{font-size:14px;font-weight:600}svg .u,svg .xt{font-size:11px;fill:var(--muted)}
svg .yl{font-size:11px;text-anchor:end;dominant-baseline:middle;font-variant-numeric:tabular-nums}
svg .xl,svg .xt,svg .bv,svg .note,svg .nab,svg .na{text-anchor:middle}
svg .xl{font-size:11px}svg .bv{font-size:10.5px}svg .note{font-size:11.5px;font-weight:600}
svg .nab,svg .na{font-size:12px;fill:var(--muted);font-style:italic}
svg .s{font-size:10.5px;fill:#8a3b2f}
svg .grid{stroke:#e6e9ee;stroke-width:1}svg .axis{stroke:#7d8794;stroke-width:1}
svg .frame{fill:var(--band);stroke:var(--rule)}
svg .line{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
svg .step{fill:none;stroke-width:1.6}
@media print{main{padding:0}h2{break-after:avoid}a{color:inherit;text-decoration:none}
svg rect,.key{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def render_report(metrics: Mapping[str, Any]) -> str:
    """The whole report as one HTML document: no scripts, no external resources, no clock."""
    ctx = _context(metrics if isinstance(metrics, Mapping) else {})
    page = _Page()
    # Built one after another, in page order, because figures are numbered as they are added.
    sections = [
        _header(ctx),
        _contents(),
        _headline(ctx),
        _calibration(ctx),
        _losses_and_approvals(ctx, page),
        _delinquency(ctx, page),
        _contagion(ctx, page),
        _utilisation(ctx, page),
        _ecl(ctx),
        _scores(ctx, page),
        _ledger(ctx),
        _monthly_tables(ctx),
    ]
    body = "".join(sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        "<title>Digital twin report: linked against siloed</title>"
        f"<style>{_CSS}</style></head><body><main>{body}</main></body></html>\n"
    )
