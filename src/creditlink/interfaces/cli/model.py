"""`creditlink model …`: train, evaluate, score and monitor credit models on CSV files."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from creditlink.interfaces.cli.options import Json
from creditlink.interfaces.cli.output import console, print_json, table

if TYPE_CHECKING:
    from creditlink.risk.scoring.model import Evaluation, Stability, TrainedModel

app = typer.Typer(
    help="Credit models on any CSV file: train, evaluate, score in batch, monitor stability.",
    no_args_is_help=True,
)


class ModelKind(StrEnum):
    scorecard = "scorecard"
    gbdt = "gbdt"


ModelDir = Annotated[str, typer.Option("--model", help="The model folder written by train.")]


def _store() -> Any:
    from creditlink.adapters.model_files import FileModelStore

    return FileModelStore()


def _metric(value: float) -> str:
    return f"{value:.4f}"


@app.command("train")
def train(
    data: Annotated[str, typer.Option(help="Training CSV file (a header row, then one row each).")],
    target: Annotated[str, typer.Option(help="The column that says whether the row went bad.")],
    out: Annotated[
        str, typer.Option(help="Folder to write the model into (new or empty; see --replace).")
    ],
    bad_value: Annotated[
        str | None,
        typer.Option(
            help="The target value that means bad (default 1 for a numeric target, 'bad' when "
            "the values are bad/good)."
        ),
    ] = None,
    kind: Annotated[ModelKind, typer.Option(help="scorecard (points per bin) or gbdt.")] = (
        ModelKind.scorecard
    ),
    cv: Annotated[int, typer.Option(min=2, help="Stratified cross-validation folds.")] = 5,
    series: Annotated[
        bool,
        typer.Option(
            help="Add the max, mean and count of positives of column series (NAME1..NAMEk)."
        ),
    ] = True,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the model already in --out.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Train a model with cross-validation and write its versioned artefact folder."""
    from creditlink.adapters.clock import SystemClock
    from creditlink.application.models import train_model

    with console(stderr=True).status(f"training a {kind.value} on {data}…"):
        model = train_model(
            _store(),
            data=data,
            target=target,
            bad_value=bad_value,
            kind=kind.value,
            cv_folds=cv,
            out=out,
            trained_at=SystemClock().now(),
            series=series,
            replace=replace,
        )
    summary = _training_summary(model, out)
    if as_json:
        print_json(summary)
        return
    _print_training(summary)


def _training_summary(model: TrainedModel, out: str) -> dict[str, Any]:
    artefact = model.artefact
    cv = artefact["cv"]
    return {
        "version": model.version,
        "kind": model.kind,
        "out": out,
        "training": artefact["training"],
        "target": artefact["target"],
        "dropped_columns": artefact["dropped_columns"],
        "features": [f["name"] for f in artefact["features"]]
        if model.kind == "scorecard"
        else artefact["gbdt"]["feature_order"],
        "excluded_features": artefact.get("excluded_features", []),
        "cv": {k: v for k, v in cv.items() if k != "per_fold"},
    }


def _print_training(summary: dict[str, Any]) -> None:
    out = console()
    training, cv = summary["training"], summary["cv"]
    out.print(
        f"[bold]{summary['version']}[/] written to {summary['out']}: a {summary['kind']} on "
        f"{training['rows']:,} rows of {training['file']} ({training['bad_rate']:.2%} bad), "
        f"{len(summary['features'])} features"
    )
    for dropped in summary["dropped_columns"]:
        out.print(f"dropped {dropped['name']}: {dropped['reason']}")
    rows = [
        [label, _metric(cv[name]), _metric(cv[f"{name}_std"])]
        for name, label in (("auc", "AUC"), ("ks", "KS"), ("gini", "Gini"), ("brier", "Brier"))
    ]
    out.print(
        table(f"{cv['folds']}-fold stratified cross-validation", ["metric", "mean", "std"], rows)
    )


@app.command("evaluate")
def evaluate(
    model: ModelDir,
    data: Annotated[str, typer.Option(help="Labelled CSV file with the model's target column.")],
    as_json: Json = False,
) -> None:
    """AUC, KS, Gini, Brier, calibration by decile and score bands on a labelled file."""
    from creditlink.application.models import evaluate_model

    result = evaluate_model(_store(), model=model, data=data)
    if as_json:
        print_json(result.to_dict())
        return
    _print_evaluation(result)


def _print_evaluation(result: Evaluation) -> None:
    out = console()
    out.print(
        f"[bold]{result.model_version}[/] on {result.rows:,} rows ({result.bads / result.rows:.2%} "
        f"bad): AUC {_metric(result.auc)}, KS {_metric(result.ks)}, Gini {_metric(result.gini)}, "
        f"Brier {_metric(result.brier)}"
    )
    out.print(
        table(
            "Calibration by predicted-probability decile",
            ["decile", "count", "mean predicted", "observed bad rate"],
            [
                [
                    str(row["decile"]),
                    str(row["count"]),
                    f"{row['mean_predicted']:.4f}",
                    f"{row['observed_bad_rate']:.4f}",
                ]
                for row in result.calibration
            ],
        )
    )
    out.print(
        table(
            "Score bands",
            ["band", "count", "share", "observed bad rate", "mean predicted"],
            [
                [
                    str(row["band"]),
                    str(row["count"]),
                    f"{row['share']:.2%}",
                    f"{row['observed_bad_rate']:.4f}",
                    f"{row['mean_predicted']:.4f}",
                ]
                for row in result.score_bands
            ],
        )
    )


@app.command("score")
def score(
    model: ModelDir,
    data: Annotated[str, typer.Option(help="CSV file holding the columns the model needs.")],
    out: Annotated[str, typer.Option(help="CSV file to write: the input plus score columns.")],
    as_json: Json = False,
) -> None:
    """Add score (points), probability_bad and reason_1..reason_3 to every row of a file."""
    from creditlink.application.models import score_file

    result = score_file(_store(), model=model, data=data, out=out)
    if as_json:
        print_json(
            {
                "model": result.model_version,
                "rows": result.rows,
                "mean_score": result.mean_score,
                "mean_probability_bad": result.mean_probability_bad,
                "out": result.out,
            }
        )
        return
    console().print(
        f"Scored {result.rows:,} rows with [bold]{result.model_version}[/] into {result.out}: "
        f"mean score {result.mean_score:.1f}, mean probability of bad "
        f"{result.mean_probability_bad:.4f}"
    )


@app.command("monitor")
def monitor(
    model: ModelDir,
    baseline: Annotated[str, typer.Option(help="CSV of the population the model was built on.")],
    current: Annotated[str, typer.Option(help="CSV of the population scored now.")],
    as_json: Json = False,
) -> None:
    """PSI of every feature and of the score: stable < 0.10 ≤ watch < 0.25 ≤ unstable."""
    from creditlink.application.models import monitor_model

    result = monitor_model(_store(), model=model, baseline=baseline, current=current)
    if as_json:
        print_json(result.to_dict())
        return
    _print_stability(result)


def _print_stability(result: Stability) -> None:
    out = console()
    colours = {"stable": "green", "watch": "yellow", "unstable": "red"}
    rows = [
        [item.name, f"{item.psi:.4f}", f"[{colours[item.verdict]}]{item.verdict}[/]"]
        for item in (result.score, *result.features)
    ]
    out.print(table(f"Stability of {result.model_version}", ["item", "PSI", "verdict"], rows))
    moved = ", ".join(f.name for f in result.moved) or "none"
    out.print(
        f"Overall: [{colours[result.overall]}]{result.overall}[/] "
        f"({result.baseline_rows:,} baseline rows, {result.current_rows:,} current); "
        f"features that moved: {moved}"
    )
