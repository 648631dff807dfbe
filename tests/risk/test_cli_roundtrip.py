"""train → evaluate → score → monitor through the command line, on a small file."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from creditlink.risk.scoring.scorer import load_scorecard
from tests.risk.conftest import TAIWAN_TARGET, cli


@pytest.mark.parametrize("kind", ["scorecard", "gbdt"])
def test_a_model_goes_from_training_to_monitoring(
    kind: str,
    taiwan: Any,
    taiwan_other: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    train_csv, other_csv = tmp_path / "train.csv", tmp_path / "other.csv"
    taiwan.head(2000).to_csv(train_csv, index=False)
    taiwan_other.head(1000).to_csv(other_csv, index=False)
    folder = tmp_path / "model"

    code, out, err = cli(
        capsys, monkeypatch, "train", "--data", str(train_csv), "--target", TAIWAN_TARGET,
        "--kind", kind, "--cv", "3", "--out", str(folder),
    )  # fmt: skip
    assert code == 0, err
    assert "3-fold stratified cross-validation" in out
    assert "dropped ID: identifier column" in out
    artefact = json.loads((folder / "model.json").read_text())
    assert (folder / "model.txt").exists() == (kind == "gbdt")
    assert not list(folder.glob("*.pkl"))
    assert artefact["kind"] == kind
    assert artefact["version"].startswith(f"{kind}-")
    assert artefact["training"]["sha256"] == hashlib.sha256(train_csv.read_bytes()).hexdigest()
    assert artefact["training"]["rows"] == 2000
    assert artefact["dropped_columns"] == [{"name": "ID", "reason": "identifier column (named ID)"}]
    assert artefact["cv"]["folds"] == 3
    assert len(artefact["cv"]["per_fold"]) == 3
    assert 0.6 < artefact["cv"]["auc"] < 0.9
    assert artefact["scaling"]["base_points"] == 600
    assert artefact["features"], "the bins of every feature are kept"

    code, out, err = cli(
        capsys, monkeypatch, "evaluate", "--model", str(folder), "--data", str(other_csv),
        "--json",
    )  # fmt: skip
    assert code == 0, err
    evaluation = json.loads(out)
    assert {"auc", "ks", "gini", "brier"} <= evaluation.keys()
    assert 0.65 < evaluation["auc"] < 0.9
    assert evaluation["gini"] == pytest.approx(2 * evaluation["auc"] - 1, abs=1e-5)
    assert len(evaluation["calibration"]) == 10
    assert sum(row["count"] for row in evaluation["calibration"]) == 1000
    assert sum(band["count"] for band in evaluation["score_bands"]) == 1000
    code, out, _ = cli(
        capsys, monkeypatch, "evaluate", "--model", str(folder), "--data", str(other_csv)
    )
    assert code == 0
    assert "Calibration by predicted-probability decile" in out

    scored = tmp_path / "scored.csv"
    code, out, err = cli(
        capsys, monkeypatch, "score", "--model", str(folder), "--data", str(other_csv),
        "--out", str(scored),
    )  # fmt: skip
    assert code == 0, err
    assert "Scored 1,000 rows" in out
    with scored.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1000
    added = ["score", "probability_bad", "reason_1", "reason_2", "reason_3"]
    assert list(rows[0])[-5:] == added
    assert list(rows[0])[:-5] == list(taiwan_other.columns)
    assert all(300 < int(row["score"]) < 900 for row in rows)
    if kind == "scorecard":  # the platform's fast scorer reads the same folder and agrees
        card = load_scorecard(artefact)
        for row in rows[:100]:
            one = card.score(row)
            assert one.points == int(row["score"])
            assert [r for r in (row["reason_1"], row["reason_2"], row["reason_3"]) if r] == list(
                one.reasons
            )

    code, out, err = cli(
        capsys, monkeypatch, "monitor", "--model", str(folder), "--baseline", str(train_csv),
        "--current", str(other_csv), "--json",
    )  # fmt: skip
    assert code == 0, err
    stability = json.loads(out)
    assert stability["overall"] in ("stable", "watch")
    assert stability["score"]["verdict"] == "stable"
    assert {f["name"] for f in stability["features"]} == {f["name"] for f in artefact["features"]}
    code, out, _ = cli(
        capsys, monkeypatch, "monitor", "--model", str(folder), "--baseline", str(train_csv),
        "--current", str(other_csv),
    )  # fmt: skip
    assert code == 0
    assert "Overall:" in out
