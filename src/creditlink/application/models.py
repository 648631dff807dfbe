"""The model lifecycle a risk team runs on a tabular credit file: train a model with
cross-validation, evaluate it on labelled data, score a file in batch, and monitor the
stability of a population against a baseline.

Files go through a `ModelStore` (the adapter `adapters.model_files.FileModelStore` on local
files, a fake in tests). The modelling is `risk.scoring.model`; it is imported inside the use
cases so that importing the application stays quick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from creditlink.domain.errors import InvalidInput

if TYPE_CHECKING:
    from creditlink.risk.scoring.model import Evaluation, Stability, TrainedModel

SCORE_COLUMNS = ("score", "probability_bad", "reason_1", "reason_2", "reason_3")


@dataclass(frozen=True, slots=True)
class Table:
    """A CSV file read as text cells (a pandas DataFrame), its SHA-256 and its file name."""

    frame: Any
    sha256: str
    name: str


class ModelStore(Protocol):
    def read_table(self, path: str, *, field: str) -> Table:
        """The table at `path`; NotFound or InvalidInput naming `field` when unreadable."""
        ...

    def write_table(self, frame: Any, path: str, *, field: str) -> None: ...

    def save_model(self, directory: str, model: TrainedModel, *, field: str) -> None:
        """Write the model's folder; refuses a folder holding anything but a model."""
        ...

    def holds_model(self, directory: str) -> bool:
        """Whether `directory` holds a model already."""
        ...

    def load_model(self, directory: str, *, field: str) -> TrainedModel:
        """The model in `directory`; NotFound when it is not a model folder."""
        ...


@dataclass(frozen=True, slots=True)
class ScoredFile:
    model_version: str
    rows: int
    mean_score: float
    mean_probability_bad: float
    out: str


def train_model(
    store: ModelStore,
    *,
    data: str,
    target: str,
    bad_value: str | None,
    kind: str,
    cv_folds: int,
    out: str,
    trained_at: datetime,
    series: bool = True,
    replace: bool = False,
) -> TrainedModel:
    """Train a `kind` model ("scorecard" or "gbdt") on the file `data` and save it in `out`.
    A model already in `out` (perhaps one in use) is replaced only when asked: before any
    training, so a refusal costs nothing."""
    from creditlink.risk.scoring.model import parse_kind, train

    chosen = parse_kind(kind)
    if not replace and store.holds_model(out):
        raise InvalidInput(
            f"{out} already holds a model; choose a new or empty folder, or pass --replace "
            "to replace it",
            field="out",
            rule="OUT_FOLDER_HOLDS_MODEL",
        )
    table = store.read_table(data, field="data")
    model = train(
        table.frame,
        target=target,
        bad_value=bad_value,
        kind=chosen,
        cv_folds=cv_folds,
        trained_at=trained_at,
        data_sha256=table.sha256,
        data_name=table.name,
        series=series,
    )
    store.save_model(out, model, field="out")
    return model


def evaluate_model(store: ModelStore, *, model: str, data: str) -> Evaluation:
    """AUC, KS, Gini, Brier, calibration and score bands of the model on a labelled file."""
    from creditlink.risk.scoring.model import evaluate

    trained = store.load_model(model, field="model")
    return evaluate(trained, store.read_table(data, field="data").frame)


def score_file(store: ModelStore, *, model: str, data: str, out: str) -> ScoredFile:
    """Write `data` with score, probability_bad and reason_1..reason_3 added (replacing
    columns of those names) to `out`."""
    from creditlink.risk.scoring.model import REASONS, predict

    trained = store.load_model(model, field="model")
    frame = store.read_table(data, field="data").frame
    predictions = predict(trained, frame)
    scored = frame.drop(columns=[c for c in SCORE_COLUMNS if c in frame.columns])
    scored["score"] = predictions.scores
    scored["probability_bad"] = predictions.probability_bad.round(6)
    for k in range(REASONS):
        scored[f"reason_{k + 1}"] = [r[k] if k < len(r) else "" for r in predictions.reasons]
    store.write_table(scored, out, field="out")
    return ScoredFile(
        model_version=trained.version,
        rows=len(scored),
        mean_score=round(float(predictions.scores.mean()), 2),
        mean_probability_bad=round(float(predictions.probability_bad.mean()), 6),
        out=out,
    )


def monitor_model(store: ModelStore, *, model: str, baseline: str, current: str) -> Stability:
    """PSI of each feature and of the score, `current` against `baseline`, with verdicts."""
    from creditlink.risk.scoring.model import monitor

    trained = store.load_model(model, field="model")
    before = store.read_table(baseline, field="baseline").frame
    after = store.read_table(current, field="current").frame
    return monitor(trained, before, after)
