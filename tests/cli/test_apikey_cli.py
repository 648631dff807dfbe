"""`creditlink apikey`: the key printed once, listed without it, refused when ill-formed."""

from __future__ import annotations

import json

import pytest

from creditlink.application.apikeys import authenticate
from creditlink.bootstrap import open_book
from tests.cli.test_cli import add, cli, db  # noqa: F401  (db is a fixture)


def test_a_key_is_printed_once_and_works(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: str,  # noqa: F811
) -> None:
    code, out, err = cli(
        capsys, monkeypatch, "apikey", "create", "--role", "operator", "--label", "ops", "--db", db
    )
    assert code == 0, err
    key = out.strip()
    assert key.startswith("cl_")
    assert "not shown again" in err
    book = open_book(db)
    principal = authenticate(book.store.reader(), key)
    book.store.dispose()
    assert principal is not None
    assert principal.role == "operator"
    code, listed, _ = cli(capsys, monkeypatch, "apikey", "list", "--db", db, "--json")
    assert code == 0
    [row] = json.loads(listed)
    assert (row["key_id"], row["role"], row["label"]) == (principal.key_id, "operator", "ops")
    assert key not in listed


def test_a_customer_key_names_its_customer(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: str,  # noqa: F811
) -> None:
    code, _, err = cli(capsys, monkeypatch, "apikey", "create", "--role", "customer", "--db", db)
    assert code == 1
    assert "CUSTOMER_KEY_NAMES_CUSTOMER" in err
    assert add(capsys, monkeypatch, db, "c1")[0] == 0
    code, out, err = cli(
        capsys,
        monkeypatch,
        "apikey",
        "create",
        "--role",
        "customer",
        "--customer",
        "c1",
        "--db",
        db,
        "--json",
    )
    assert code == 0, err
    made = json.loads(out)
    assert (made["role"], made["customer_id"]) == ("customer", "c1")
    code, _, err = cli(
        capsys, monkeypatch, "apikey", "revoke", str(made["key_id"]), "--reason", "gone", "--db", db
    )
    assert code == 0, err
    book = open_book(db)
    assert authenticate(book.store.reader(), made["key"]) is None
    book.store.dispose()


def test_an_unknown_role_is_refused(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: str,  # noqa: F811
) -> None:
    code, out, err = cli(capsys, monkeypatch, "apikey", "create", "--role", "root", "--db", db)
    assert code == 1
    assert "ROLE_KNOWN" in err
    assert out == ""


def test_service_forget_answers_refuses_no_retention_and_reports_what_it_dropped(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: str,  # noqa: F811
) -> None:
    assert cli(capsys, monkeypatch, "init", "--db", db)[0] == 0
    code, _, err = cli(
        capsys, monkeypatch, "service", "forget-answers", "--older-than-days", "0", "--db", db
    )
    assert code == 1
    assert "older_than_days" in err
    assert "ANSWERS_KEPT_DAYS_MIN" in err
    code, out, err = cli(capsys, monkeypatch, "service", "forget-answers", "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out) == {"forgotten": 0, "older_than_days": 30}
