"""Model quality and scoring speed on the public credit files, beside default baselines.

    uv run python benchmarks/models.py [--inner-cv K] [--only taiwan|german]

Prints one JSON object:

- `cross_validation`: 5-fold stratified CV (seed 2026) on each file. Each fold trains our
  scorecard and our GBDT exactly as `creditlink model train` does (their own inner K-fold CV
  on the training part only, for the GBDT's number of trees and calibration), and beside them
  optbinning's default Scorecard (default BinningProcess + LogisticRegression) and a default
  LightGBM, on the same folds and the same columns. Mean AUC per model.
- `holdout_70_30`: one random 70/30 split with another seed (7), the same four models: a
  check that nothing was tuned to the CV folds.
- `speed`: one record at a time through the fast scorer (`risk.scoring.scorer`, p50/p99 µs)
  and batch scoring rows/s (`risk.scoring.model.predict`), on the Taiwan hold-out.
- `goals` (issue 5): Taiwan scorecard AUC >= 0.775 and GBDT >= 0.785, German scorecard
  >= 0.78, on both checks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from creditlink.adapters.model_files import read_table
from creditlink.risk.scoring.dataset import prepare_training
from creditlink.risk.scoring.model import TrainedModel, predict, train
from creditlink.risk.scoring.scorer import load_scorecard

ROOT = Path(__file__).resolve().parents[1]
DATA = {
    "taiwan": (ROOT / "data" / "uci_taiwan_credit_card.csv", "default.payment.next.month", None),
    "german": (ROOT / "data" / "german_credit.csv", "creditability", "bad"),
}
CV_SEED = 2026
HOLDOUT_SEED = 7
GOALS = {("taiwan", "scorecard"): 0.775, ("taiwan", "gbdt"): 0.785, ("german", "scorecard"): 0.78}
TRAINED_AT = datetime(2026, 1, 5, tzinfo=UTC)


def auc(y: Any, p: Any) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, p)), 4)


def ours(frame: Any, kind: str, target: str, bad: str | None, inner_cv: int) -> TrainedModel:
    return train(
        frame.reset_index(drop=True),
        target=target,
        bad_value=bad,
        kind="gbdt" if kind == "gbdt" else "scorecard",
        cv_folds=inner_cv,
        trained_at=TRAINED_AT,
        data_sha256="",
        data_name="benchmark",
    )


def default_scorecard(x: Any, y: Any, categorical: list[str]) -> Any:
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    process = BinningProcess(variable_names=list(x.columns), categorical_variables=categorical)
    card = Scorecard(binning_process=process, estimator=LogisticRegression())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        card.fit(x, y)
    return card


def default_lightgbm(x: Any, y: Any) -> Any:
    import lightgbm as lgb

    return lgb.LGBMClassifier(verbose=-1).fit(x, y)


def for_lightgbm(x: Any, categorical: list[str]) -> Any:
    out = x.copy()
    for name in categorical:
        out[name] = out[name].astype("category")
    return out


def evaluate_split(
    name: str, frame: Any, fit_rows: Any, test_rows: Any, inner_cv: int, typed: Any, y: Any
) -> tuple[dict[str, float], dict[str, TrainedModel]]:
    _, target, bad = DATA[name]
    categorical = [c for c in typed.columns if typed[c].dtype != float]
    test = frame.iloc[test_rows].reset_index(drop=True)
    result: dict[str, float] = {}
    models: dict[str, TrainedModel] = {}
    for kind in ("scorecard", "gbdt"):
        model = ours(frame.iloc[fit_rows], kind, target, bad, inner_cv)
        models[kind] = model
        result[kind] = auc(y[test_rows], predict(model, test).probability_bad)
    card = default_scorecard(typed.iloc[fit_rows], y[fit_rows], categorical)
    result["optbinning_default"] = auc(
        y[test_rows], card.predict_proba(typed.iloc[test_rows])[:, 1]
    )
    lgb_x = for_lightgbm(typed, categorical)
    booster = default_lightgbm(lgb_x.iloc[fit_rows], y[fit_rows])
    result["lightgbm_default"] = auc(
        y[test_rows], booster.predict_proba(lgb_x.iloc[test_rows])[:, 1]
    )
    return result, models


def extra_splits(
    name: str, frame: Any, typed: Any, y: Any, count: int, inner_cv: int
) -> dict[str, Any]:
    """Our scorecard and the default one on `count` more random 70/30 splits."""
    from sklearn.model_selection import train_test_split

    _, target, bad = DATA[name]
    categorical = [c for c in typed.columns if typed[c].dtype != float]
    rows: dict[str, list[float]] = {"scorecard": [], "optbinning_default": []}
    for seed in range(1, count + 1):
        fit_rows, test_rows = train_test_split(np.arange(len(y)), test_size=0.3, random_state=seed)
        test = frame.iloc[test_rows].reset_index(drop=True)
        model = ours(frame.iloc[fit_rows], "scorecard", target, bad, inner_cv)
        rows["scorecard"].append(auc(y[test_rows], predict(model, test).probability_bad))
        card = default_scorecard(typed.iloc[fit_rows], y[fit_rows], categorical)
        rows["optbinning_default"].append(
            auc(y[test_rows], card.predict_proba(typed.iloc[test_rows])[:, 1])
        )
        print(f"{name} split {seed}: {rows['scorecard'][-1]}", file=sys.stderr, flush=True)
    return {
        model: {
            "per_split": values,
            "mean": round(float(np.mean(values)), 4),
            "min": min(values),
        }
        for model, values in rows.items()
    }


def speed(model: TrainedModel, gbdt: TrainedModel, test: Any) -> dict[str, Any]:
    card = load_scorecard(model.artefact)
    records = test.to_dict("records")
    for record in records[:200]:  # warm up
        card.score(record)
    samples = []
    for record in records:
        start = time.perf_counter_ns()
        card.score(record)
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    out: dict[str, Any] = {
        "fast_scorer_records": len(samples),
        "fast_scorer_p50_us": round(samples[len(samples) // 2], 1),
        "fast_scorer_p99_us": round(samples[int(len(samples) * 0.99)], 1),
    }
    for kind, trained in (("scorecard", model), ("gbdt", gbdt)):
        began = time.perf_counter()
        predict(trained, test)
        out[f"batch_{kind}_rows_per_s"] = round(len(test) / (time.perf_counter() - began))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inner-cv", type=int, default=5, help="folds of our own training CV")
    parser.add_argument("--only", choices=sorted(DATA), default=None)
    parser.add_argument(
        "--extra-splits",
        type=int,
        default=0,
        help="also score our scorecard and the default one on this many more random 70/30 "
        "splits (seeds 1..N) of each file, to see the spread a single split hides",
    )
    args = parser.parse_args()
    from sklearn.model_selection import StratifiedKFold, train_test_split

    began = time.perf_counter()
    report: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cross_validation": {"folds": 5, "seed": CV_SEED},
        "holdout_70_30": {"seed": HOLDOUT_SEED},
    }
    goals: dict[str, Any] = {}
    for name in [args.only] if args.only else list(DATA):
        path, target, bad = DATA[name]
        frame = read_table(path).frame
        prepared = prepare_training(frame, target=target, bad_value=bad)
        typed, y = prepared.features, prepared.y
        folds = StratifiedKFold(5, shuffle=True, random_state=CV_SEED).split(np.zeros(len(y)), y)
        per_fold: dict[str, list[float]] = {}
        for fit_rows, test_rows in folds:
            result, _ = evaluate_split(name, frame, fit_rows, test_rows, args.inner_cv, typed, y)
            for model, value in result.items():
                per_fold.setdefault(model, []).append(value)
            print(f"{name} fold: {result}", file=sys.stderr, flush=True)
        report["cross_validation"][name] = {
            model: {"auc": round(float(np.mean(values)), 4), "per_fold": values}
            for model, values in per_fold.items()
        }
        fit_rows, test_rows = train_test_split(
            np.arange(len(y)), test_size=0.3, random_state=HOLDOUT_SEED
        )
        holdout, models = evaluate_split(name, frame, fit_rows, test_rows, args.inner_cv, typed, y)
        report["holdout_70_30"][name] = holdout
        print(f"{name} 70/30: {holdout}", file=sys.stderr, flush=True)
        for (data, kind), goal in GOALS.items():
            if data == name:
                cv = report["cross_validation"][name][kind]["auc"]
                goals[f"{name} {kind} AUC >= {goal}"] = {
                    "cv": cv,
                    "holdout": holdout[kind],
                    "met": cv >= goal and holdout[kind] >= goal,
                }
        if args.extra_splits:
            report.setdefault("extra_splits_70_30", {})[name] = extra_splits(
                name, frame, typed, y, args.extra_splits, args.inner_cv
            )
        if name == "taiwan":
            test = frame.iloc[test_rows].reset_index(drop=True)
            report["speed"] = speed(models["scorecard"], models["gbdt"], test)
    report["goals"] = goals
    report["seconds"] = round(time.perf_counter() - began, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
