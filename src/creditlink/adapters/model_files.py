"""Model files: CSV tables in and out, and model artefact folders.

A model folder holds `model.json` (the artefact: format, kind, version, inputs, bins, points
or trees' settings, scale, training file hash, cross-validated metrics) and, for a GBDT,
`model.txt` (LightGBM's own text format). Nothing is ever pickled: both files are text a
person can read and diff. The version in `model.json` is a hash of the content of both
files, checked on every load, so a folder edited by hand after training is refused.

CSV cells are read as text, with exactly the missing markers of `risk.scoring.values`, so
that typing is decided by the model code and not guessed by the reader.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

from creditlink.application.models import Table
from creditlink.domain.errors import InvalidInput, NotFound
from creditlink.risk.scoring.model import FORMAT, TrainedModel, content_version
from creditlink.risk.scoring.values import MISSING_TEXT

MODEL_FILE = "model.json"
BOOSTER_FILE = "model.txt"


def read_table(path: str | Path, *, field: str = "data") -> Table:
    """The CSV at `path` as text cells, with its SHA-256; refuses what is not a table."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    source = Path(path)
    if not source.is_file():
        what = "is a folder, not a CSV file" if source.is_dir() else "does not exist"
        raise NotFound(f"{source} {what}", field=field, rule="FILE_EXISTS")
    raw = source.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{source} is not UTF-8 text", field=field, rule="CSV_VALID") from None
    if not text.strip():
        raise InvalidInput(f"{source} is empty", field=field, rule="FILE_NOT_EMPTY")
    header = next(csv.reader(io.StringIO(text)), [])
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InvalidInput(
            f"{source} repeats the column {repeated[0]!r} in its header",
            field=field,
            rule="CSV_VALID",
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            na_values=sorted(MISSING_TEXT),
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
        raise InvalidInput(
            f"{source} is not a readable CSV table: {reason}", field=field, rule="CSV_VALID"
        ) from None
    if len(frame) == 0:
        raise InvalidInput(f"{source} has a header but no rows", field=field, rule="ROWS_PRESENT")
    return Table(frame=frame, sha256=digest, name=source.name)


def write_table(frame: Any, path: str | Path, *, field: str = "out") -> None:
    """Write `frame` as CSV (missing values as empty cells), replacing the file atomically."""
    target = Path(path)
    if not target.parent.is_dir():
        raise NotFound(
            f"the folder {target.parent} does not exist", field=field, rule="FOLDER_EXISTS"
        )
    if target.is_dir():
        raise InvalidInput(f"{target} is a folder", field=field, rule="FILE_PATH")
    partial = target.with_name(f".{target.name}.partial")
    frame.to_csv(partial, index=False, na_rep="")
    os.replace(partial, target)


def save_model(directory: str | Path, model: TrainedModel, *, field: str = "out") -> Path:
    """Write the artefact folder; a folder that holds anything but a model is refused."""
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{folder} is a file, not a folder", field=field, rule="OUT_FOLDER")
    if folder.is_dir():
        others = sorted(
            p.name for p in folder.iterdir() if p.name not in (MODEL_FILE, BOOSTER_FILE)
        )
        if others:
            raise InvalidInput(
                f"{folder} already holds other files ({', '.join(others[:3])}); choose a new "
                "or empty folder",
                field=field,
                rule="OUT_FOLDER",
            )
    folder.mkdir(parents=True, exist_ok=True)
    booster = folder / BOOSTER_FILE
    if model.booster is not None:
        _write_text(booster, model.booster)
    elif booster.exists():
        booster.unlink()  # a scorecard replacing a GBDT leaves no stale trees behind
    _write_text(folder / MODEL_FILE, json.dumps(model.artefact, indent=2, ensure_ascii=False))
    return folder


def _write_text(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def load_model(directory: str | Path, *, field: str = "model") -> TrainedModel:
    """The model in `directory`; refuses a folder that is not an intact creditlink model."""
    folder = Path(directory)
    if not folder.is_dir():
        raise NotFound(f"there is no model folder {folder}", field=field, rule="MODEL_EXISTS")
    document = folder / MODEL_FILE
    if not document.is_file():
        raise NotFound(
            f"{folder} is not a creditlink model folder (it has no {MODEL_FILE})",
            field=field,
            rule="MODEL_EXISTS",
        )
    try:
        artefact = json.loads(document.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(
            f"{document} is not valid JSON ({error})", field=field, rule="MODEL_VALID"
        ) from None
    if not isinstance(artefact, dict) or artefact.get("format") != FORMAT:
        raise InvalidInput(
            f"{document} is not a creditlink model (format {FORMAT!r} expected)",
            field=field,
            rule="MODEL_VALID",
        )
    kind = artefact.get("kind")
    if kind not in ("scorecard", "gbdt"):
        raise InvalidInput(
            f"{document} has an unknown kind {kind!r}", field=field, rule="MODEL_VALID"
        )
    booster: str | None = None
    if kind == "gbdt":
        trees = folder / BOOSTER_FILE
        if not trees.is_file():
            raise InvalidInput(
                f"{folder} holds a GBDT without its {BOOSTER_FILE}", field=field, rule="MODEL_VALID"
            )
        booster = trees.read_text(encoding="utf-8")
    if content_version(kind, artefact, booster) != artefact.get("version"):
        raise InvalidInput(
            f"{folder} was changed after training: its content no longer matches version "
            f"{artefact.get('version')!r}; retrain it",
            field=field,
            rule="MODEL_INTACT",
        )
    return TrainedModel(artefact, booster)


class FileModelStore:
    """The model store of the use cases (`application.models.ModelStore`) on local files."""

    def read_table(self, path: str, *, field: str) -> Table:
        return read_table(path, field=field)

    def write_table(self, frame: Any, path: str, *, field: str) -> None:
        write_table(frame, path, field=field)

    def save_model(self, directory: str, model: TrainedModel, *, field: str) -> None:
        save_model(directory, model, field=field)

    def load_model(self, directory: str, *, field: str) -> TrainedModel:
        return load_model(directory, field=field)

    def holds_model(self, directory: str) -> bool:
        return (Path(directory) / MODEL_FILE).is_file()
