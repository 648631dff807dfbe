"""The twin's HTML report: every figure drawn, nulls shown as n/a, same bytes, text escaped."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditlink.analytics.report import CHART_NAMES, percent, render_report, yuan
from tests.analytics.html_shape import DRAWN, Shape, shape_of
from tests.analytics.metrics_fixture import build_metrics

Path = tuple[str | int, ...]


def paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every path into a metrics document, containers and leaves alike."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from paths(value, (*prefix, index))


def set_at(document: Any, path: Path, value: Any) -> None:
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value


def null_leaves(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: null_leaves(value) for key, value in node.items()}
    if isinstance(node, list):
        return [null_leaves(value) for value in node]
    return None


ALL_PATHS = list(paths(build_metrics()))


def assert_every_chart_is_drawn(page: str) -> Shape:
    shape = shape_of(page)
    assert sorted(shape.figures) == sorted(CHART_NAMES)
    for name, figure in shape.figures.items():
        assert figure.svgs, f"{name} has no svg"
        for svg in figure.svgs:
            assert DRAWN & set(svg), f"{name} has an svg with nothing drawn"
        assert figure.caption.strip(), f"{name} has no caption"
    return shape


def test_every_chart_is_a_figure_with_a_drawn_svg_and_a_caption(metrics: dict[str, Any]) -> None:
    assert_every_chart_is_drawn(render_report(metrics))


def test_the_page_is_well_formed_and_self_contained(metrics: dict[str, Any]) -> None:
    page = render_report(metrics)
    shape = shape_of(page)
    assert shape.mismatched == []
    assert shape.stack == []
    assert "script" not in shape.tags
    assert not {"img", "link", "iframe", "object", "embed"} & set(shape.tags)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}


def test_the_same_metrics_render_to_the_same_bytes(metrics: dict[str, Any]) -> None:
    first = render_report(metrics)
    assert render_report(copy.deepcopy(metrics)) == first
    assert render_report(json.loads(json.dumps(metrics))) == first


def test_money_is_shown_in_yuan_and_rates_as_percentages(metrics: dict[str, Any]) -> None:
    assert yuan(123_456_789) == "1,234,567.89"
    assert yuan(-5) == "-0.05"
    assert yuan(7, signed=True) == "+0.07"
    assert percent(0.018) == "1.80%"
    page = render_report(metrics)
    revenue = metrics["headline"]["rows"][2]["revenue_fen"]  # linked, all
    assert yuan(revenue) in page
    assert "1.80%" in page  # the calibration's 30+ rate


def test_the_headline_compares_linked_with_siloed_before_and_after_the_shock(
    metrics: dict[str, Any],
) -> None:
    page = render_report(metrics)
    headline = page[page.index('id="headline"') : page.index('id="calibration"')]
    assert "Before shock (months 1–8)" in headline
    assert "From shock (months 9–12)" in headline
    assert "linked − siloed" in headline
    for title in ("Loss rate", "30+ DPD rate", "Approval rate", "Revenue (yuan)"):
        assert title in headline
    # A reader is told why losses after a late shock do not move with it.
    assert "written off at 180 days past due" in headline


def test_calibration_figures_are_judged_against_the_reference_ranges(
    metrics: dict[str, Any],
) -> None:
    metrics["calibration"]["linked"]["paylater_utilisation"] = 0.62
    page = render_report(metrics)
    calibration = page[page.index('id="calibration"') : page.index('id="losses"')]
    assert calibration.count(">within<") == 2
    assert calibration.count(">outside<") == 1
    assert "1–3%" in calibration
    assert "30–50%" in calibration


def test_the_report_says_the_twin_is_never_tuned_to_favour_linkage(
    metrics: dict[str, Any],
) -> None:
    assert "never tuned to favour linkage" in render_report(metrics)


def test_ledger_books_are_listed_as_the_metrics_name_them(metrics: dict[str, Any]) -> None:
    metrics["ledger"]["siloed/loan"]["verified"] = False
    page = render_report(metrics)
    ledger = page[page.index('id="ledger"') : page.index('id="monthly"')]
    assert "siloed/paylater" in ledger
    assert "1,284,337" in ledger
    assert ledger.count("verified: balanced") == 2
    assert "NOT verified" in ledger


def test_a_null_figure_renders_as_n_a(metrics: dict[str, Any]) -> None:
    metrics["policies"]["linked"]["model_quality"]["auc"] = None
    metrics["policies"]["siloed"]["ecl"]["total_ecl_fen"] = None
    page = render_report(metrics)
    quality = page[page.index("Model quality on the twin") :]
    assert '<th scope="row">linked</th><td class="num na">n/a</td>' in quality
    ecl = page[page.index('id="ecl"') : page.index('id="scores"')]
    assert '<td class="num na">n/a</td>' in ecl


def test_a_document_of_nulls_renders_every_figure_as_n_a() -> None:
    page = render_report(null_leaves(build_metrics()))
    shape = assert_every_chart_is_drawn(page)
    assert page.count("n/a") > 100
    assert shape.mismatched == []


@pytest.mark.parametrize("metrics_document", [{}, {"policies": None}, {"config": []}])
def test_an_empty_or_malformed_document_still_renders(metrics_document: dict[str, Any]) -> None:
    assert_every_chart_is_drawn(render_report(metrics_document))


@given(
    st.lists(st.sampled_from(ALL_PATHS), min_size=1, max_size=6),
    st.sampled_from([None, "x", -1, 0, 1e308, 10**400, float("nan"), True, [], {}]),
)
def test_any_value_may_be_null_or_odd_without_breaking_the_page(
    chosen: list[Path], odd: Any
) -> None:
    metrics = build_metrics()
    for path in sorted(chosen, key=len, reverse=True):
        try:
            set_at(metrics, path, odd)
        except (KeyError, IndexError, TypeError):
            continue  # an outer replacement already removed this path
    page = render_report(metrics)
    # A quick look rather than a full parse, so that many examples fit in the time: each chart's
    # figure still has an svg with something drawn in it.
    for name in CHART_NAMES:
        start = page.index(f'<figure class="chart" data-chart="{name}"')
        figure = page[start : page.index("</figure>", start)]
        assert re.search(r"<svg\b", figure), name
        assert re.search(r"<(rect|path|polyline|circle|line)\b", figure), name


def test_policy_names_and_keys_are_escaped(metrics: dict[str, Any]) -> None:
    hostile = '<b>"x"&'
    metrics["config"]["policies"] = [hostile, "siloed"]
    metrics["policies"][hostile] = metrics["policies"].pop("linked")
    metrics["calibration"] = {hostile: metrics["calibration"]["linked"]}
    metrics["ledger"][hostile] = metrics["ledger"].pop("linked")
    for row in metrics["headline"]["rows"]:
        if row["policy"] == "linked":
            row["policy"] = hostile
    metrics["policies"]["siloed"]["vintages"]["<script>"] = [0.0, 0.01]
    page = render_report(metrics)
    assert "<b>" not in page
    assert "<script>" not in page
    assert "&lt;b&gt;&quot;x&quot;&amp;" in page
    shape = assert_every_chart_is_drawn(page)
    assert shape.mismatched == []
    assert "b" not in shape.tags


def test_a_run_without_a_shock_compares_the_whole_run(metrics: dict[str, Any]) -> None:
    metrics["config"]["shock_month"] = None
    metrics["headline"]["rows"] = [r for r in metrics["headline"]["rows"] if r["period"] == "all"]
    page = render_report(metrics)
    losses = page[page.index('data-chart="losses_approvals"') : page.index('id="delinquency"')]
    assert "n/a: no values" not in losses
    assert "over the whole run" in losses
    assert "This run has no macro shock." in page
    assert 'class="shock"' not in page
    assert "<dd>none</dd>" in page


def test_a_candidate_policy_is_drawn_beside_linked_and_siloed(metrics: dict[str, Any]) -> None:
    metrics["config"]["policies"].append("cautious")
    metrics["config"]["policy_changes"] = {"cautious": {"joint_limit_fen_max": 1_000_000}}
    metrics["policies"]["cautious"] = copy.deepcopy(metrics["policies"]["linked"])
    page = render_report(metrics)
    shape = assert_every_chart_is_drawn(page)
    assert len(shape.figures["utilisation"].svgs) == 3
    assert len(shape.figures["contagion"].svgs) == 3
    assert "Parameters changed by candidate policies" in page
    assert "joint_limit_fen_max" in page


def test_the_score_histogram_shows_the_months_that_psi_compares(
    metrics: dict[str, Any],
) -> None:
    for policy in metrics["policies"].values():
        counts = policy["scores"]["counts_by_month"]
        for month in range(1, 13):
            counts.setdefault(str(month), counts["3"])
        policy["model_quality"]["scored_at_month"] = 3
    page = render_report(metrics)
    figure = page[page.index('data-chart="score_distribution"') :]
    figure = figure[: figure.index("</figure>")]
    assert "month 3" in figure
    assert "month 12" in figure
    assert "month 7" not in figure


def test_the_twin_s_extra_figures_are_shown(metrics: dict[str, Any]) -> None:
    for policy in metrics["policies"].values():
        policy["model_quality"].update(
            {
                "scored_at_month": 3,
                "outcome": "30+ DPD in months 4 to 9",
                "customers": 9_512,
                "bads": 1_234,
            }
        )
    for book in metrics["ledger"].values():
        book["books"] = 4
    page = render_report(metrics)
    assert "30+ DPD in months 4 to 9" in page
    assert "9,512" in page
    assert ">Bads</th>" in page
    assert "1,234" in page
    assert "Ledgers (partitions)" in page
