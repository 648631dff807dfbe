"""Bad files get one clear sentence naming the field and the rule, and exit 1 at the CLI,
never a traceback."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from creditlink.adapters.model_files import FileModelStore, save_model
from creditlink.application.models import score_file, train_model
from creditlink.domain.errors import CreditlinkError, InvalidInput
from creditlink.risk.scoring.model import TrainedModel
from tests.risk.conftest import cli

GOOD_ROWS = "".join(f"{i},{20 + i % 40},{'ab'[i % 2]},{i % 3 == 0:d}\n" for i in range(60))


def _csv(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _train(data: str, out: str, *, target: str = "default", bad_value: str | None = None) -> None:
    train_model(
        FileModelStore(),
        data=data,
        target=target,
        bad_value=bad_value,
        kind="scorecard",
        cv_folds=2,
        out=out,
        trained_at=datetime(2026, 1, 5, tzinfo=UTC),
    )


CASES = {
    "missing target column": (
        "ID,age,kind,outcome\n" + GOOD_ROWS,
        {},
        ("target", "TARGET_PRESENT", "no column 'default'"),
    ),
    "one class only": (
        "ID,age,kind,default\n" + "".join(f"{i},{30 + i},a,0\n" for i in range(20)),
        {},
        ("target", "TARGET_TWO_CLASSES", "one class only"),
    ),
    "text target without a bad value": (
        "ID,age,kind,default\n" + "".join(f"{i},{30 + i},a,{'yn'[i % 2]}\n" for i in range(20)),
        {},
        ("bad_value", "BAD_VALUE_REQUIRED", "--bad-value"),
    ),
    "a bad value no row has": (
        "ID,age,kind,default\n" + GOOD_ROWS,
        {"bad_value": "7"},
        ("bad_value", "BAD_VALUE_PRESENT", "no row"),
    ),
    "unparseable cell in a mostly numeric column": (
        "ID,age,kind,default\n" + GOOD_ROWS.replace("\n7,27,", "\n7,twenty-seven,", 1),
        {},
        ("age", "NUMBER_VALID", "line 9 holds 'twenty-seven'"),
    ),
    "too few bad rows for the folds": (
        "ID,age,kind,default\n" + "".join(f"{i},{30 + i},a,{int(i == 3)}\n" for i in range(20)),
        {},
        ("cv", "CV_FOLDS_VALID", "the smaller class has 1 row"),
    ),
    "empty file": ("", {}, ("data", "FILE_NOT_EMPTY", "is empty")),
    "header without rows": (
        "ID,age,kind,default\n",
        {},
        ("data", "ROWS_PRESENT", "no rows"),
    ),
    "repeated column": (
        "age,age,default\n1,2,0\n",
        {},
        ("data", "CSV_VALID", "repeats the column 'age'"),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_training_file_is_refused_with_its_rule(case: str, tmp_path: Path) -> None:
    text, options, (field, rule, words) = CASES[case]
    with pytest.raises(CreditlinkError) as error:
        _train(_csv(tmp_path, text), str(tmp_path / "model"), **options)
    assert (error.value.field, error.value.rule) == (field, rule)
    assert words in str(error.value)
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("case", CASES)
def test_the_cli_says_what_is_wrong_in_one_line_and_exits_1(
    case: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text, options, (field, rule, words) = CASES[case]
    extra = ["--bad-value", options["bad_value"]] if "bad_value" in options else []
    code, _, err = cli(
        capsys,
        monkeypatch,
        "train",
        "--data",
        _csv(tmp_path, text),
        "--target",
        "default",
        "--cv",
        "2",
        "--out",
        str(tmp_path / "model"),
        *extra,
    )
    assert code == 1
    assert "Traceback" not in err
    assert err.startswith(f"error: {field}: ")
    assert f"({rule})" in err
    assert words in " ".join(err.split())


def test_a_missing_training_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(CreditlinkError) as error:
        _train(str(tmp_path / "nope.csv"), str(tmp_path / "model"))
    assert error.value.rule == "FILE_EXISTS"


@pytest.fixture
def model_dir(tmp_path: Path, german_scorecard: TrainedModel) -> str:
    return str(save_model(tmp_path / "german", german_scorecard))


def test_an_unknown_model_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _csv(tmp_path, "a,b\n1,2\n")
    for folder, words in ((tmp_path / "absent", "no model folder"), (tmp_path, "no model.json")):
        code, _, err = cli(
            capsys, monkeypatch, "score", "--model", str(folder), "--data", data,
            "--out", str(tmp_path / "out.csv"),
        )  # fmt: skip
        assert code == 1
        assert "Traceback" not in err
        assert "error: model: " in err
        assert words in err
        assert "(MODEL_EXISTS)" in err


def test_a_model_folder_edited_after_training_is_refused(model_dir: str, tmp_path: Path) -> None:
    document = Path(model_dir) / "model.json"
    document.write_text(document.read_text().replace('"points": ', '"points": 1', 1))
    with pytest.raises(CreditlinkError) as error:
        score_file(
            FileModelStore(),
            model=model_dir,
            data=_csv(tmp_path, "a\n1\n"),
            out=str(tmp_path / "o.csv"),
        )
    assert error.value.rule == "MODEL_INTACT"


def test_a_scoring_file_missing_a_feature_is_refused(
    model_dir: str,
    german: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "no_duration.csv"
    german.drop(columns=["duration_in_month"]).to_csv(data, index=False)
    code, _, err = cli(
        capsys, monkeypatch, "score", "--model", model_dir, "--data", str(data),
        "--out", str(tmp_path / "scored.csv"),
    )  # fmt: skip
    assert code == 1
    assert "Traceback" not in err
    assert "'duration_in_month'" in err
    assert "(FEATURE_PRESENT)" in err
    assert not (tmp_path / "scored.csv").exists()


def test_a_scoring_file_with_text_in_a_numeric_feature_is_refused(
    model_dir: str, german: Any, tmp_path: Path
) -> None:
    data = tmp_path / "typo.csv"
    typo = german.copy()
    typo.loc[4, "duration_in_month"] = "12 months"
    typo.to_csv(data, index=False)
    with pytest.raises(CreditlinkError) as error:
        score_file(FileModelStore(), model=model_dir, data=str(data), out=str(tmp_path / "o.csv"))
    assert (error.value.field, error.value.rule) == ("duration_in_month", "NUMBER_VALID")
    assert "line 6 holds '12 months'" in str(error.value)


def test_training_into_a_folder_of_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CreditlinkError) as error:
        _train(_csv(tmp_path, "ID,age,kind,default\n" + GOOD_ROWS, "x.csv"), str(tmp_path))
    assert error.value.rule == "OUT_FOLDER"


def test_a_model_in_use_is_replaced_only_when_asked(tmp_path: Path) -> None:
    """`train --out` names a folder that is new or empty: a model already there (perhaps the
    one in use) is refused before any training, unless --replace is given."""
    from creditlink.adapters.model_files import load_model

    data, out = _csv(tmp_path, "ID,age,kind,default\n" + GOOD_ROWS), str(tmp_path / "m")
    _train(data, out)
    first = (Path(out) / "model.json").read_text()
    with pytest.raises(InvalidInput) as raised:
        _train(data, out)
    assert (raised.value.field, raised.value.rule) == ("out", "OUT_FOLDER_HOLDS_MODEL")
    assert (Path(out) / "model.json").read_text() == first
    train_model(
        FileModelStore(),
        data=data,
        target="default",
        bad_value=None,
        kind="scorecard",
        cv_folds=2,
        out=out,
        trained_at=datetime(2026, 2, 5, tzinfo=UTC),
        replace=True,
    )
    assert load_model(out).artefact["trained_at"].startswith("2026-02-05")
