"""Model folders on disk: JSON and LightGBM text, read back as they were written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from creditlink.adapters.model_files import load_model, read_table, save_model
from creditlink.domain.errors import InvalidInput
from creditlink.risk.scoring.model import TrainedModel, predict


@pytest.mark.parametrize("kind", ["scorecard", "gbdt"])
def test_a_saved_model_scores_the_same_after_loading(
    kind: str, request: pytest.FixtureRequest, taiwan: Any, tmp_path: Path
) -> None:
    model: TrainedModel = request.getfixturevalue(f"taiwan_{kind}")
    folder = save_model(tmp_path / kind, model)
    assert sorted(p.name for p in folder.iterdir()) == (
        ["model.json", "model.txt"] if kind == "gbdt" else ["model.json"]
    )
    loaded = load_model(folder)
    assert loaded.version == model.version
    before, after = predict(model, taiwan.head(300)), predict(loaded, taiwan.head(300))
    assert np.array_equal(before.scores, after.scores)
    assert before.reasons == after.reasons


def test_changed_trees_are_refused(taiwan_gbdt: TrainedModel, tmp_path: Path) -> None:
    folder = save_model(tmp_path / "gbdt", taiwan_gbdt)
    trees = folder / "model.txt"
    trees.write_text(trees.read_text().replace("learning_rate", "learning_rate ", 1))
    with pytest.raises(InvalidInput) as error:
        load_model(folder)
    assert error.value.rule == "MODEL_INTACT"


def test_a_folder_of_another_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text(json.dumps({"format": "something/2"}))
    with pytest.raises(InvalidInput) as error:
        load_model(tmp_path)
    assert error.value.rule == "MODEL_VALID"


def test_a_model_can_replace_the_model_in_its_folder(
    taiwan_gbdt: TrainedModel, taiwan_scorecard: TrainedModel, tmp_path: Path
) -> None:
    save_model(tmp_path / "m", taiwan_gbdt)
    save_model(tmp_path / "m", taiwan_scorecard)
    assert not (tmp_path / "m" / "model.txt").exists()
    assert load_model(tmp_path / "m").kind == "scorecard"


def test_cells_are_read_as_text_with_the_missing_markers(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n007,NA\n,x\n")
    table = read_table(path)
    assert table.frame["a"].tolist()[0] == "007"
    assert table.frame["a"].isna().tolist() == [False, True]
    assert table.frame["b"].isna().tolist() == [True, False]
    assert table.name == "t.csv"
    assert len(table.sha256) == 64
