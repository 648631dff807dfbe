"""Training with cross-validation, batch prediction, evaluation and stability monitoring.

A `TrainedModel` is the artefact as a JSON-ready dict plus, for a GBDT, the LightGBM model
as text. The artefact holds everything needed to score and to audit: the columns the model
reads and their types, the derived features, the bins of every feature (with points for a
scorecard), the scale, the training file's SHA-256, and the cross-validated metrics. Its
`version` is a hash of its content, so the same data trained the same way gives the same
version, and any change to bins, points or trees gives a new one.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from creditlink.domain.errors import InvalidInput
from creditlink.risk.scoring import gbdt as gb
from creditlink.risk.scoring.binning import FEW_VALUES, all_bins, assign
from creditlink.risk.scoring.dataset import Column, Target, prepare_training, target_flags, typed
from creditlink.risk.scoring.derived import Derived, add_derived, find_series
from creditlink.risk.scoring.metrics import (
    calibration,
    discrimination,
    mean_and_spread,
    score_bands,
)
from creditlink.risk.scoring.monitoring import (
    UNSTABLE,
    WATCH,
    psi_of_slots,
    score_edges,
    verdict,
    worst,
)
from creditlink.risk.scoring.scaling import Scaling
from creditlink.risk.scoring.scorecard import CANDIDATES, bin_features, card_points, fit_scorecard

FORMAT = "creditlink.model/1"
Kind = Literal["scorecard", "gbdt"]
KINDS: tuple[Kind, ...] = ("scorecard", "gbdt")
CV_SEED = 42
REASONS = 3


@dataclass(frozen=True, slots=True)
class TrainedModel:
    artefact: dict[str, Any]
    booster: str | None = None  # LightGBM model text (GBDT only)

    def __post_init__(self) -> None:
        assert self.artefact.get("format") == FORMAT, "not a creditlink model artefact"
        assert (self.booster is not None) == (self.kind == "gbdt"), "GBDT needs its trees"

    @property
    def kind(self) -> Kind:
        kind: Kind = self.artefact["kind"]
        return kind

    @property
    def version(self) -> str:
        return str(self.artefact["version"])


@dataclass(frozen=True, slots=True)
class Predictions:
    points: Any  # float array, unrounded
    scores: Any  # int array: points rounded half up
    probability_bad: Any  # float array
    reasons: list[tuple[str, ...]]  # up to REASONS per row, most points lost first


def parse_kind(text: str) -> Kind:
    for kind in KINDS:
        if text == kind:
            return kind
    raise InvalidInput(
        f"the model kind must be scorecard or gbdt, not {text!r}", field="kind", rule="KIND_KNOWN"
    )


def content_version(kind: str, artefact: dict[str, Any], booster: str | None) -> str:
    body = {k: v for k, v in artefact.items() if k not in ("version", "trained_at", "training")}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode())
    digest.update((artefact.get("training") or {}).get("sha256", "").encode())
    if booster is not None:
        digest.update(booster.encode())
    return f"{kind}-{digest.hexdigest()[:12]}"


# -- training ---------------------------------------------------------------------------------


def train(
    frame: Any,
    *,
    target: str,
    bad_value: str | None,
    kind: Kind,
    cv_folds: int,
    trained_at: datetime,
    data_sha256: str,
    data_name: str,
    series: bool = True,
    scaling: Scaling | None = None,
) -> TrainedModel:
    """Train a `kind` model on a frame of text cells, with `cv_folds`-fold stratified CV."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    scale = scaling or Scaling()
    prepared = prepare_training(frame, target=target, bad_value=bad_value)
    y = prepared.y
    smaller = int(min(y.sum(), len(y) - y.sum()))
    if cv_folds < 2:
        raise InvalidInput(
            "cross-validation needs at least 2 folds", field="cv", rule="CV_FOLDS_VALID"
        )
    if cv_folds > smaller:
        raise InvalidInput(
            f"{cv_folds}-fold cross-validation needs at least {cv_folds} rows of each class; "
            f"the smaller class has {smaller} row{'' if smaller == 1 else 's'}",
            field="cv",
            rule="CV_FOLDS_VALID",
        )
    taken = {*map(str, frame.columns)}
    numeric = [c.name for c in prepared.columns if c.type == "numeric"]
    amounts = [c for c in numeric if prepared.features[c].nunique() > FEW_VALUES]
    derived = find_series(numeric, taken=taken, amounts=amounts) if series else []
    x = add_derived(prepared.features, derived)
    columns = [*prepared.columns, *(Column(d.name, "numeric") for d in derived)]
    splitter = StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=CV_SEED)
    folds = list(splitter.split(np.zeros(len(y)), y))

    booster: str | None = None
    if kind == "scorecard":
        body, oof = _train_scorecard(x, y, columns, folds, scale)
        used = {f["name"] for f in body["features"]}
    else:
        body, oof, booster = _train_gbdt(x, y, columns, folds, scale, derived)
        used = set(body["gbdt"]["feature_order"])
    kept = [d for d in derived if d.name in used]
    needed = used | {c for d in kept for c in d.columns}
    artefact: dict[str, Any] = {
        "format": FORMAT,
        "kind": kind,
        "version": "",
        "trained_at": trained_at.isoformat(),
        "target": prepared.target.to_dict(),
        "training": {
            "file": data_name,
            "sha256": data_sha256,
            "rows": len(y),
            "bads": int(y.sum()),
            "bad_rate": round(float(y.mean()), 6),
        },
        "dropped_columns": list(prepared.dropped),
        "inputs": [c.to_dict() for c in prepared.columns if c.name in needed],
        "series_features": series,
        "derived": [d.to_dict() for d in kept],
        "scaling": scale.to_dict(),
        **body,
        "cv": _cv_block(y, oof, folds),
    }
    artefact["version"] = content_version(kind, artefact, booster)
    return TrainedModel(artefact, booster)


def _cv_block(y: Any, oof: Any, folds: Sequence[tuple[Any, Any]]) -> dict[str, Any]:
    per_fold = []
    for k, (_, held_out) in enumerate(folds):
        metrics = discrimination(y[held_out], oof[held_out])
        per_fold.append({"fold": k + 1, "rows": len(held_out), **metrics})
    return {
        "folds": len(folds),
        "stratified": True,
        "shuffle_seed": CV_SEED,
        **mean_and_spread(per_fold),
        "per_fold": per_fold,
    }


def _train_scorecard(
    x: Any, y: Any, columns: list[Column], folds: Sequence[tuple[Any, Any]], scale: Scaling
) -> tuple[dict[str, Any], Any]:
    """Bins per fold once; the regression form and strength with the best out-of-fold AUC;
    the card fitted on everything with them."""
    import numpy as np

    binned = [
        (fitted_on, held_out, bin_features(x.iloc[fitted_on], y[fitted_on], columns))
        for fitted_on, held_out in folds
    ]
    # The simpler WOE form stands unless a per-bin form beats it by more than the sampling
    # noise of an AUC on this many bads (about 0.05 / sqrt(bads): 0.003 on 250 bads,
    # 0.0008 on 4,000), so small files keep the card with fewer parameters.
    margin = 0.05 / math.sqrt(max(1.0, float(np.sum(y))))
    best: tuple[float, tuple[str, float], Any] | None = None
    for form, c in CANDIDATES:
        oof = np.empty(len(y))
        for fitted_on, held_out, specs in binned:
            card = fit_scorecard(
                x.iloc[fitted_on], y[fitted_on], specs=specs, scaling=scale, c=c, form=form
            )
            oof[held_out] = _card_probability(card, x.iloc[held_out], scale)
        auc = float(discrimination(y, oof)["auc"]) - (margin if form != "woe" else 0.0)
        if best is None or auc > best[0]:
            best = (auc, (form, c), oof)
    assert best is not None
    _, chosen, oof = best
    card = fit_scorecard(
        x, y, specs=bin_features(x, y, columns), scaling=scale, c=chosen[1], form=chosen[0]
    )
    return card, oof


def _card_probability(card: dict[str, Any], x: Any, scale: Scaling) -> Any:
    points, _ = card_points(x, card["features"])
    return _probability(_total(card.get("intercept_points", 0.0), points), scale)


def _total(intercept: float, points: Any) -> Any:
    """Intercept, then each feature in order: the fast scorer adds in the same order."""
    import numpy as np

    total = np.full(points.shape[0], float(intercept))
    for j in range(points.shape[1]):
        total = total + points[:, j]
    return total


def _probability(points: Any, scale: Scaling) -> Any:
    from scipy.special import expit

    return expit(-(points - scale.offset) / scale.factor)


def _train_gbdt(
    x: Any,
    y: Any,
    columns: list[Column],
    folds: Sequence[tuple[Any, Any]],
    scale: Scaling,
    derived: Sequence[Derived],
) -> tuple[dict[str, Any], Any, str]:
    from scipy.special import expit

    specs = bin_features(x, y, columns)
    monotone, left_out = gb.monotone_in_inputs(
        [c.name for c in columns], gb.constraints(specs), derived, x
    )
    specs = [spec for spec in specs if spec["name"] not in left_out]
    columns = [c for c in columns if c.name not in left_out]
    order = [c.name for c in columns]
    codes = gb.encodings(x, columns)
    categorical = [j for j, c in enumerate(columns) if c.type == "categorical"]
    matrix = gb.matrix(x, order, codes)
    booster, margins, block = gb.fit_gbdt(
        matrix, y, monotone=monotone, categorical=categorical, folds=folds
    )
    a, b = block["calibration"]["a"], block["calibration"]["b"]
    body = {
        "features": specs,
        "gbdt": {
            "feature_order": order,
            "encodings": codes,
            "monotone_constraints": dict(zip(order, monotone, strict=True)),
            # Derived features that no constraint keeps monotone in the columns they read.
            "left_out_for_monotonicity": sorted(left_out),
            **block,
        },
    }
    return body, expit(a * margins + b), booster


# -- prediction ---------------------------------------------------------------------------


def model_inputs(model: TrainedModel, frame: Any) -> Any:
    """The typed features (derived ones added) a model reads from a frame of text cells."""
    columns = [Column(c["name"], c["type"]) for c in model.artefact["inputs"]]
    derived = [Derived.from_dict(d) for d in model.artefact["derived"]]
    return add_derived(typed(frame, columns), derived)


def predict(model: TrainedModel, frame: Any) -> Predictions:
    """Points, scores, probabilities of bad and reason codes for every row of `frame`."""
    import numpy as np

    scale = Scaling.from_dict(model.artefact["scaling"])
    x = model_inputs(model, frame)
    if model.kind == "scorecard":
        features = model.artefact["features"]
        points_each, lost = card_points(x, features)
        points = _total(model.artefact.get("intercept_points", 0.0), points_each)
        probability = _probability(points, scale)
        names = [f.get("reason") or f["name"] for f in features]
        reasons = _top(lost, names)
    else:
        assert model.booster is not None
        block = model.artefact["gbdt"]
        matrix = gb.matrix(x, block["feature_order"], block["encodings"])
        margins, contributions = gb.margins_and_contributions(gb.booster(model.booster), matrix)
        log_odds_bad = block["calibration"]["a"] * margins + block["calibration"]["b"]
        points = scale.offset - scale.factor * log_odds_bad
        probability = _probability(points, scale)
        reasons = _top(contributions, block["feature_order"])
    scores = np.floor(points + 0.5).astype(np.int64)
    return Predictions(points, scores, probability, reasons)


def _top(weights: Any, names: Sequence[str]) -> list[tuple[str, ...]]:
    """For each row, the names of the (up to REASONS) largest positive weights, largest first;
    ties keep the features' order."""
    import numpy as np

    order = np.argsort(-weights, axis=1, kind="stable")[:, :REASONS]
    out = []
    for row, picks in zip(weights, order, strict=True):
        out.append(tuple(names[j] for j in picks if row[j] > 0))
    return out


# -- evaluation and monitoring --------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    model_version: str
    kind: Kind
    rows: int
    bads: int
    auc: float
    ks: float
    gini: float
    brier: float
    calibration: tuple[dict[str, Any], ...]  # by predicted-probability decile
    score_bands: tuple[dict[str, Any], ...]  # one per `pdo` points, lowest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_version,
            "kind": self.kind,
            "rows": self.rows,
            "bads": self.bads,
            "bad_rate": round(self.bads / self.rows, 6),
            "auc": self.auc,
            "ks": self.ks,
            "gini": self.gini,
            "brier": self.brier,
            "calibration": list(self.calibration),
            "score_bands": list(self.score_bands),
        }


def evaluate(model: TrainedModel, frame: Any) -> Evaluation:
    """AUC, KS, Gini, Brier, calibration by decile and score bands on a labelled file."""
    if len(frame) == 0:
        raise InvalidInput("the file has a header but no rows", field="data", rule="ROWS_PRESENT")
    y = target_flags(frame, Target.from_dict(model.artefact["target"]))
    predictions = predict(model, frame)
    scale = Scaling.from_dict(model.artefact["scaling"])
    metrics = discrimination(y, predictions.probability_bad)
    return Evaluation(
        model_version=model.version,
        kind=model.kind,
        rows=len(y),
        bads=int(y.sum()),
        auc=metrics["auc"],
        ks=metrics["ks"],
        gini=metrics["gini"],
        brier=metrics["brier"],
        calibration=tuple(calibration(y, predictions.probability_bad)),
        score_bands=tuple(
            score_bands(
                y,
                predictions.scores,
                predictions.probability_bad,
                width=scale.pdo,
                anchor=scale.base_points,
            )
        ),
    )


@dataclass(frozen=True, slots=True)
class Drift:
    name: str
    psi: float
    verdict: str  # stable, watch or unstable

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "psi": self.psi, "verdict": self.verdict}


@dataclass(frozen=True, slots=True, kw_only=True)
class Stability:
    model_version: str
    kind: Kind
    baseline_rows: int
    current_rows: int
    score: Drift
    features: tuple[Drift, ...]

    @property
    def overall(self) -> str:
        """The worst verdict of the score and every feature."""
        return worst([self.score.verdict, *(f.verdict for f in self.features)])

    @property
    def moved(self) -> tuple[Drift, ...]:
        """Features at watch or unstable, largest PSI first."""
        return tuple(
            sorted((f for f in self.features if f.verdict != "stable"), key=lambda f: -f.psi)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_version,
            "kind": self.kind,
            "rows": {"baseline": self.baseline_rows, "current": self.current_rows},
            "thresholds": {"watch": WATCH, "unstable": UNSTABLE},
            "overall": self.overall,
            "score": self.score.to_dict(),
            "features": [f.to_dict() for f in self.features],
            "moved": [f.name for f in self.moved],
        }


def monitor(model: TrainedModel, baseline: Any, current: Any) -> Stability:
    """PSI of every binned feature and of the score, current against baseline."""
    import numpy as np

    for name, frame in (("baseline", baseline), ("current", current)):
        if len(frame) == 0:
            raise InvalidInput("the file has a header but no rows", field=name, rule="ROWS_PRESENT")
    before, after = model_inputs(model, baseline), model_inputs(model, current)
    features = []
    for spec in model.artefact["features"]:
        slots = len(all_bins(spec))
        psi = psi_of_slots(
            assign(before[spec["name"]], spec), assign(after[spec["name"]], spec), slots
        )
        features.append(Drift(spec["name"], round(psi, 6), verdict(psi)))
    base_scores = predict(model, baseline).scores
    edges = score_edges(base_scores)
    score_psi = psi_of_slots(
        np.searchsorted(edges, base_scores, side="right"),
        np.searchsorted(edges, predict(model, current).scores, side="right"),
        len(edges) + 1,
    )
    return Stability(
        model_version=model.version,
        kind=model.kind,
        baseline_rows=len(baseline),
        current_rows=len(current),
        score=Drift("score", round(score_psi, 6), verdict(score_psi)),
        features=tuple(features),
    )
