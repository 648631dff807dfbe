"""Small samples of the public credit files, and models trained on them once per session."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer

from creditlink.adapters.model_files import read_table
from creditlink.risk.scoring.model import TrainedModel, train

ROOT = Path(__file__).resolve().parents[2]
TAIWAN = ROOT / "data" / "uci_taiwan_credit_card.csv"
GERMAN = ROOT / "data" / "german_credit.csv"
TAIWAN_TARGET = "default.payment.next.month"
GERMAN_TARGET = "creditability"
TRAINED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SAMPLE_ROWS = 3000


@pytest.fixture(scope="session")
def taiwan_all() -> Any:
    return read_table(TAIWAN).frame


@pytest.fixture(scope="session")
def taiwan(taiwan_all: Any) -> Any:
    """3,000 rows of the Taiwan file (text cells, as the reader gives them)."""
    return taiwan_all.sample(SAMPLE_ROWS, random_state=11).reset_index(drop=True)


@pytest.fixture(scope="session")
def taiwan_other(taiwan_all: Any, taiwan: Any) -> Any:
    """Another 3,000 rows, none of them in `taiwan`."""
    rest = taiwan_all[~taiwan_all["ID"].isin(set(taiwan["ID"]))]
    return rest.sample(SAMPLE_ROWS, random_state=12).reset_index(drop=True)


@pytest.fixture(scope="session")
def german() -> Any:
    return read_table(GERMAN).frame


def trained(frame: Any, *, target: str, kind: str, cv_folds: int = 3) -> TrainedModel:
    return train(
        frame,
        target=target,
        bad_value=None,
        kind="gbdt" if kind == "gbdt" else "scorecard",
        cv_folds=cv_folds,
        trained_at=TRAINED_AT,
        data_sha256="0" * 64,
        data_name="sample.csv",
    )


@pytest.fixture(scope="session")
def taiwan_scorecard(taiwan: Any) -> TrainedModel:
    return trained(taiwan, target=TAIWAN_TARGET, kind="scorecard")


@pytest.fixture(scope="session")
def taiwan_gbdt(taiwan: Any) -> TrainedModel:
    return trained(taiwan, target=TAIWAN_TARGET, kind="gbdt")


@pytest.fixture(scope="session")
def german_scorecard(german: Any) -> TrainedModel:
    return trained(german, target=GERMAN_TARGET, kind="scorecard")


def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    """Run `creditlink model ARGS` through the real entry point (`main.run`), with the model
    commands mounted under `model` as main.py mounts them."""
    from creditlink.interfaces.cli import main, model

    mounted = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    mounted.add_typer(model.app, name="model")
    monkeypatch.setattr(main, "app", mounted)
    monkeypatch.setattr(sys, "argv", ["creditlink", "model", *args])
    monkeypatch.setenv("COLUMNS", "200")
    try:
        main.run()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
