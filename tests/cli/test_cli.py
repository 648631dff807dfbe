"""The command line as a user runs it: exit codes, messages, JSON, and no tracebacks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from creditlink.bootstrap import open_book
from creditlink.interfaces.cli.main import app, run
from tests.conftest import national_id

ROOT = Path(__file__).resolve().parents[2]


def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    """Run `creditlink ARGS` in this process through the real entry point."""
    monkeypatch.setattr(sys, "argv", ["creditlink", *args])
    monkeypatch.setenv("COLUMNS", "200")
    try:
        run()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _new_book(path: Path) -> str:
    """A new, empty book at `path` (commands that only read refuse a path with none)."""
    url = f"sqlite:///{path}"
    open_book(url).store.dispose()
    return url


@pytest.fixture
def db(tmp_path: Path) -> str:
    return _new_book(tmp_path / "cli.db")


def add(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: str,
    customer_id: str = "c1",
    *extra: str,
) -> tuple[int, str, str]:
    return cli(
        capsys,
        monkeypatch,
        "customer",
        "add",
        "--id",
        customer_id,
        "--name",
        "Wang Fang",
        "--national-id",
        national_id(7),
        "--mobile",
        "13800138000",
        "--joint-limit",
        "20000.00",
        "--cap-paylater",
        "15000",
        "--on",
        "2026-01-05",
        "--db",
        db,
        *extra,
    )


def test_help_lists_the_commands(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(capsys, monkeypatch, "--help")
    assert code == 0
    for command in ("init", "demo", "customer", "ledger", "params"):
        assert command in out


def test_a_command_help_wraps_at_the_terminal_not_at_the_source(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(capsys, monkeypatch, "ledger", "verify", "--help")  # 200 columns
    assert code == 0
    # The docstring breaks this sentence twice at 100 columns of source.
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert any(
        "each account's stored balance equal to the sum of its entries, and each customer's"
        " receivables equal" in line
        for line in lines
    ), out


def test_help_does_not_load_the_database_libraries() -> None:
    probe = (
        "import sys\n"
        "from creditlink.interfaces.cli.main import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'alembic', 'psycopg') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in result.stdout


def test_init_creates_the_book_and_is_safe_to_repeat(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'new.db'}"  # no book there yet
    code, out, _ = cli(capsys, monkeypatch, "init", "--db", db)
    assert code == 0
    assert "created or migrated" in out
    code, out, _ = cli(capsys, monkeypatch, "init", "--db", db)
    assert code == 0
    assert "already up to date" in out
    assert "parameter set version 1" in out


def test_init_warns_when_the_book_keeps_its_own_national_id_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without CREDITLINK_ID_KEY the key of the national-ID hashes is kept in the book, and
    a copy of the database gives the IDs back: say so; with it, say nothing."""
    monkeypatch.delenv("CREDITLINK_ID_KEY", raising=False)
    code, _, err = cli(capsys, monkeypatch, "init", "--db", f"sqlite:///{tmp_path / 'a.db'}")
    assert code == 0
    assert "CREDITLINK_ID_KEY" in err
    monkeypatch.setenv("CREDITLINK_ID_KEY", "from-the-secret-store")
    code, _, err = cli(capsys, monkeypatch, "init", "--db", f"sqlite:///{tmp_path / 'b.db'}")
    assert code == 0
    assert "CREDITLINK_ID_KEY" not in err


def test_a_customer_is_added_and_shown_as_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    code, out, err = add(capsys, monkeypatch, db, "c1", "--json")
    assert code == 0, err
    added = json.loads(out)
    assert added["limits"]["joint_limit"] == "20000.00"
    assert added["limits"]["cap_paylater"] == "15000.00"
    assert added["limits"]["cap_loan"] == "20000.00"
    assert added["national_id"].count("*") == 8
    assert national_id(7) not in out
    code, out, _ = cli(
        capsys, monkeypatch, "customer", "show", "c1", "--on", "2026-01-06", "--json", "--db", db
    )
    assert code == 0
    shown = json.loads(out)
    assert shown["limits"]["available_paylater"] == "15000.00"
    assert shown["as_of"] == "2026-01-06"
    code, out, _ = cli(capsys, monkeypatch, "customer", "show", "c1", "--db", db)
    assert code == 0
    assert "Wang Fang" in out
    assert "15000.00" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--national-id", "110105199001010011"), "check digit"),
        (("--joint-limit", "12.345"), "two decimal places"),
        (("--joint-limit", "-5"), "joint_limit"),
        (("--cap-paylater", "30000.00"), "above the joint limit"),
        (("--mobile", "555"), "mobile"),
    ],
)
def test_bad_input_is_one_clear_sentence_exit_1_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: str,
    args: tuple[str, str],
    message: str,
) -> None:
    code, out, err = add(capsys, monkeypatch, db, "c1", *args)
    assert code == 1
    assert message in err
    assert "Traceback" not in err + out
    code, out, _ = cli(capsys, monkeypatch, "customer", "list", "--json", "--db", db)
    assert json.loads(out) == []


def test_an_unknown_customer_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    code, _, err = cli(capsys, monkeypatch, "customer", "show", "ghost", "--db", db)
    assert code == 1
    assert "ghost" in err


def test_a_usage_error_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, _ = cli(capsys, monkeypatch, "customer", "add", "--name", "x")
    assert code == 2


def test_limits_change_from_the_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    add(capsys, monkeypatch, db)
    code, out, err = cli(
        capsys,
        monkeypatch,
        "customer",
        "set-limit",
        "c1",
        "--joint-limit",
        "25000",
        "--cap-loan",
        "10000",
        "--reason",
        "review",
        "--on",
        "2026-01-10",
        "--json",
        "--db",
        db,
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["limits"]["cap_loan"] == "10000.00"
    assert data["limits"]["pending_increase"]["effective_on"] == "2026-01-17"
    code, out, err = cli(
        capsys,
        monkeypatch,
        "customer",
        "temp-limit",
        "c1",
        "--amount",
        "1000",
        "--expires-on",
        "2026-01-31",
        "--reason",
        "holiday",
        "--on",
        "2026-01-10",
        "--json",
        "--db",
        db,
    )
    assert code == 0, err
    assert json.loads(out)["limits"]["available_paylater"] == "16000.00"


def test_ledger_verify_fails_and_names_a_tampered_entry(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out_dir = tmp_path / "tour"
    code, out, err = cli(capsys, monkeypatch, "tour", "--out", str(out_dir))
    assert code == 0, err
    db = f"sqlite:///{out_dir / 'book.db'}"
    code, out, _ = cli(capsys, monkeypatch, "ledger", "verify", "--db", db)
    assert code == 0
    assert "The ledger verifies" in out
    import sqlite3

    with sqlite3.connect(out_dir / "book.db") as connection:
        connection.execute(
            "UPDATE journal_lines SET amount_fen = amount_fen + 1 "
            "WHERE entry_id = 2 AND line_no = 2"
        )
    code, out, _ = cli(capsys, monkeypatch, "ledger", "verify", "--db", db)
    assert code == 1
    assert "entry 2" in out
    code, out, _ = cli(capsys, monkeypatch, "ledger", "verify", "--json", "--db", db)
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert {"check": "balanced", "subject": "entry 2"} in [
        {"check": p["check"], "subject": p["subject"]} for p in report["problems"]
    ]


def test_the_tour_shows_the_joint_limit_and_a_verified_ledger(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out, err = cli(capsys, monkeypatch, "tour", "--out", str(tmp_path / "d"))
    assert code == 0, err
    assert "LIMIT_EXCEEDED" in out
    assert "replayed entry 1" in out
    assert re.search(r"trial balance\s*│\s*0\.00", out)
    # Run twice: the book is made afresh, so the numbers are the same.
    code, again, _ = cli(capsys, monkeypatch, "tour", "--out", str(tmp_path / "d"))
    assert code == 0
    assert again == out


def test_the_demo_runs_the_twin_and_writes_its_report(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out_dir = tmp_path / "demo"
    code, out, err = cli(
        capsys, monkeypatch, "demo", "--out", str(out_dir), "--customers", "40", "--months", "2",
        "--workers", "1",
    )  # fmt: skip
    assert code == 0, err
    assert "Linked against siloed" in out
    assert "all verified" in out
    metrics = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["config"]["customers"] == 40
    assert "<svg" in (out_dir / "report.html").read_text(encoding="utf-8")
    code, _, err = cli(
        capsys, monkeypatch, "simulate", "--out", str(out_dir), "--customers", "10",
        "--months", "2", "--shock", "3",
    )  # fmt: skip
    assert code == 1
    assert "shock" in err


def test_parameters_are_shown_changed_and_compared(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    code, out, _ = cli(capsys, monkeypatch, "params", "show", "--json", "--db", db)
    assert json.loads(out)["parameters"]["linkage.freeze_dpd"] == "31"
    code, out, err = cli(
        capsys,
        monkeypatch,
        "params",
        "set",
        "linkage.freeze_dpd",
        "45",
        "--reason",
        "pilot",
        "--db",
        db,
    )
    assert code == 0, err
    assert "Version 2" in out
    code, out, _ = cli(capsys, monkeypatch, "params", "diff", "1", "2", "--json", "--db", db)
    assert json.loads(out) == [{"name": "linkage.freeze_dpd", "before": "31", "after": "45"}]
    code, out, _ = cli(capsys, monkeypatch, "params", "history", "--json", "--db", db)
    assert [row["reason"] for row in json.loads(out)] == ["initial defaults", "pilot"]
    code, _, err = cli(
        capsys,
        monkeypatch,
        "params",
        "set",
        "linkage.frozen_dpd",
        "45",
        "--reason",
        "x",
        "--db",
        db,
    )
    assert code == 1
    assert "unknown parameter" in err


def test_the_console_script_never_prints_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "creditlink",
            "customer",
            "show",
            "nobody",
            "--db",
            _new_book(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "nobody" in result.stderr
    assert "Traceback" not in result.stderr


def _commands(group: object, prefix: str) -> list[str]:
    names = []
    for name, command in getattr(group, "commands", {}).items():
        if hasattr(command, "commands"):
            names.extend(_commands(command, f"{prefix} {name}"))
        else:
            names.append(f"{prefix} {name}")
    return names


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = _commands(typer.main.get_group(app), "creditlink")
    assert len(commands) >= 10
    missing = [command for command in commands if command not in readme]
    assert missing == []


def test_a_loan_quote_shows_the_schedule_and_the_apr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    code, out, err = cli(
        capsys,
        monkeypatch,
        "loan",
        "quote",
        "--amount",
        "12000.00",
        "--term",
        "12",
        "--method",
        "equal_installment",
        "--rate",
        "0.0005",
        "--date",
        "2026-01-15",
        "--json",
        "--db",
        db,
    )
    assert code == 0, err
    offer = json.loads(out)
    # The shared example: r = 0.015, first part 920.16, 12,000 × 0.0005 × 31 days = 186.00.
    assert offer["apr"] == "0.1825"
    assert offer["installments"][0] == {
        "k": 1,
        "due_date": "2026-02-15",
        "principal": "920.16",
        "interest": "186.00",
        "total": "1106.16",
    }
    assert offer["installments"][11]["principal"] == "1083.93"
    code, _, err = cli(
        capsys,
        monkeypatch,
        "loan",
        "quote",
        "--amount",
        "12000.00",
        "--term",
        "12",
        "--method",
        "equal_installment",
        "--rate",
        "0.0007",
        "--date",
        "2026-01-15",
        "--db",
        db,
    )
    assert code == 1
    assert "APR_CAP_EXCEEDED" in err
    code, _, err = cli(
        capsys,
        monkeypatch,
        "loan",
        "quote",
        "--amount",
        "12000.00",
        "--term",
        "5",
        "--method",
        "equal_installment",
        "--rate",
        "0.0005",
        "--date",
        "2026-01-15",
        "--db",
        db,
    )
    assert code == 1
    assert "term_months" in err


def test_eod_closes_dates_in_order(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    code, out, err = cli(
        capsys,
        monkeypatch,
        "eod",
        "--date",
        "2026-01-01",
        "--through",
        "2026-01-03",
        "--json",
        "--db",
        db,
    )
    assert code == 0, err
    assert [row["date"] for row in json.loads(out)] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    code, out, _ = cli(capsys, monkeypatch, "eod", "--date", "2026-01-03", "--json", "--db", db)
    assert json.loads(out)[0]["already_closed"] is True
    code, _, err = cli(capsys, monkeypatch, "eod", "--date", "2026-01-05", "--db", db)
    assert code == 1
    assert "2026-01-04" in err


def test_a_scored_customer_gets_limits_and_price_from_the_grade(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    # Born 31 Dec 1989: age 36 on 5 Jan 2026 (+15); 8,000.00 a month (+12): 617, grade C.
    code, out, err = cli(
        capsys,
        monkeypatch,
        "customer",
        "add",
        "--id",
        "s1",
        "--name",
        "S",
        "--national-id",
        national_id(5, "19891231"),
        "--mobile",
        "13800138000",
        "--income",
        "8000.00",
        "--on",
        "2026-01-05",
        "--json",
        "--db",
        db,
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["decision"] == {
        "outcome": "APPROVE",
        "reasons": [],
        "model_version": "expert-application-1",
    }
    assert data["score"]["grade"] == "C"
    assert data["limits"]["joint_limit"] == "16000.00"
    assert data["loan_daily_rate"] == "0.0004"
    assert data["pricing_pinned"] is False
    code, _, err = cli(
        capsys,
        monkeypatch,
        "customer",
        "add",
        "--name",
        "S",
        "--national-id",
        national_id(6),
        "--mobile",
        "13800138000",
        "--db",
        db,
    )
    assert code == 1
    assert "--income" in err


def test_shadow_backtest_and_incidents_from_the_command_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: str,
    tmp_path: Path,
) -> None:
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text("parameters:\n  linkage.restrict_dpd: 2\n", encoding="utf-8")
    code, out, err = cli(
        capsys, monkeypatch, "params", "shadow", "start", "--candidate", str(candidate),
        "--reason", "earlier restriction", "--db", db, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["candidate"] == 1
    code, out, _ = cli(capsys, monkeypatch, "params", "shadow-report", "--json", "--db", db)
    report = json.loads(out)
    assert (report["candidate"], report["running"], report["decisions"]) == (1, True, 0)
    code, out, err = cli(
        capsys, monkeypatch, "params", "backtest", "--candidate", str(candidate),
        "--from", "2026-01-01", "--to", "2026-01-31", "--db", db, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["changes"] == {"linkage.restrict_dpd": {"live": "4", "candidate": "2"}}
    code, _, err = cli(
        capsys, monkeypatch, "params", "backtest", "--candidate", str(tmp_path / "nope.yaml"),
        "--from", "2026-01-01", "--to", "2026-01-31", "--db", db,
    )  # fmt: skip
    assert code == 1
    assert "candidate" in err
    assert "cannot read" in err
    code, _, err = cli(
        capsys, monkeypatch, "params", "backtest", "--candidate", str(candidate),
        "--from", "2026-02-01", "--to", "2026-01-31", "--db", db,
    )  # fmt: skip
    assert code == 1
    assert "before --from" in err
    code, out, _ = cli(capsys, monkeypatch, "params", "incidents", "--json", "--db", db)
    assert json.loads(out) == []
    code, _, err = cli(
        capsys, monkeypatch, "params", "restore", "--incident", "9", "--reason", "x", "--db", db
    )
    assert code != 0
    assert "no incident 9" in err
    code, out, err = cli(
        capsys, monkeypatch, "params", "shadow", "stop", "--reason", "done", "--db", db
    )
    assert code == 0, err
    assert "Candidate 1 stopped" in out


def test_refusals_found_by_review_name_the_option_and_the_rule(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: str, tmp_path: Path
) -> None:
    # A negative value reaches the parameter's rule instead of being read as an option.
    code, _, err = cli(
        capsys,
        monkeypatch,
        "params",
        "set",
        "linkage.restrict_dpd",
        "-3",
        "--reason",
        "x",
        "--db",
        db,
    )
    assert code == 1
    assert "linkage.restrict_dpd" in err
    assert "PARAMETER_RANGE" in err
    # A quote below the smallest loan (500.00 by default) would be a draw declined.
    code, _, err = cli(
        capsys,
        monkeypatch,
        "loan",
        "quote",
        "--amount",
        "100.00",
        "--term",
        "3",
        "--method",
        "equal_installment",
        "--rate",
        "0.0005",
        "--date",
        "2026-01-15",
        "--db",
        db,
    )
    assert code == 1
    assert "amount" in err
    assert "BELOW_LOAN_MINIMUM" in err
    # A lines file that cannot be written is the user's to fix, not an internal error.
    nowhere = str(tmp_path / "no" / "such" / "lines.csv")
    code, _, err = cli(capsys, monkeypatch, "portfolio", "ecl", "--lines", nowhere, "--db", db)
    assert code == 1
    assert "lines" in err
    assert "FILE_WRITABLE" in err
    # The twin's policy file is named as the option it came with.
    code, _, err = cli(
        capsys,
        monkeypatch,
        "simulate",
        "--out",
        str(tmp_path / "twin"),
        "--customers",
        "10",
        "--months",
        "1",
        "--policy",
        str(tmp_path / "nope.yaml"),
    )
    assert code == 1
    assert "policy" in err
    assert "FILE_READABLE" in err


def test_a_read_of_a_book_that_is_not_there_is_refused_and_makes_none(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "typo" / "book.db"
    quote = ["loan", "quote", "--amount", "1000.00", "--term", "3", "--method"]
    quote += ["equal_principal", "--rate", "0.0005", "--date", "2026-01-01"]
    for args in (["ledger", "verify"], ["params", "history"], ["customer", "list"], quote):
        code, out, err = cli(capsys, monkeypatch, *args, "--db", f"sqlite:///{missing}")
        assert code == 1, out
        assert "BOOK_EXISTS" in err
        assert str(missing) in err
    assert not missing.parent.exists()


def test_a_bad_batch_size_for_the_close_is_refused_before_any_date_closes(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: str,
) -> None:
    """0 accounts a batch closed every date without closing any account, for good."""
    for bad in ("0", "abc", "-1", "100001"):
        monkeypatch.setenv("CREDITLINK_EOD_BATCH_SIZE", bad)
        code, _, err = cli(capsys, monkeypatch, "eod", "--date", "2026-01-01", "--db", db)
        assert code == 1, bad
        assert "CREDITLINK_EOD_BATCH_SIZE" in err
        assert "BATCH_SIZE_RANGE" in err
    book = open_book(db)
    with book.store.reader() as uow:
        assert uow.eod.latest() is None
    book.store.dispose()


def test_forget_answers_refuses_a_retention_past_the_calendar(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: str,
) -> None:
    for days in ("1000000", "99999999999"):
        code, _, err = cli(
            capsys, monkeypatch, "service", "forget-answers", "--older-than-days", days, "--db", db
        )
        assert code == 1, err
        assert "ANSWERS_KEPT_DAYS_MAX" in err


def test_an_unchanged_parameter_is_named_once(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: str,
) -> None:
    code, _, err = cli(
        capsys,
        monkeypatch,
        "params",
        "set",
        "linkage.restrict_dpd",
        "4",
        "--reason",
        "x",
        "--db",
        db,
    )
    assert code == 1
    assert "PARAMETER_UNCHANGED" in err
    assert err.count("linkage.restrict_dpd") == 1, err


def test_a_range_refused_partway_lists_the_dates_it_closed_then_the_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db: str,
) -> None:
    """Another close taking the book after the first date: the first stays closed, and the
    output says so before the refusal (exit 1)."""
    import creditlink.application.close_of_day as close_of_day
    from creditlink.domain.errors import Conflict

    real = close_of_day.close_day

    def second_refused(store: object, *, on: object, **kwargs: object) -> object:
        if str(on) == "2026-01-02":
            raise Conflict("another close of day is running", field="date", rule="EOD_RUNNING")
        return real(store, on=on, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(close_of_day, "close_day", second_refused)
    code, out, err = cli(
        capsys, monkeypatch, "eod", "--date", "2026-01-01", "--through", "2026-01-03",
        "--db", db, "--json",
    )  # fmt: skip
    assert code == 1
    assert [row["date"] for row in json.loads(out)] == ["2026-01-01"]
    assert "EOD_RUNNING" in err


def test_the_audit_log_is_read_and_filtered_from_the_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    monkeypatch.setenv("CREDITLINK_ACTOR", "risk.officer")
    assert add(capsys, monkeypatch, db, "c1")[0] == 0
    code, _, err = cli(
        capsys, monkeypatch, "params", "set", "paylater.grace_days", "12", "--db", db,
        "--reason", "align with the card product",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, "audit", "--db", db, "--action", "parameters",
                         "--json")  # fmt: skip
    assert code == 0, err
    [record] = json.loads(out)
    assert (record["action"], record["actor"], record["reason"]) == (
        "parameters.set",
        "risk.officer",
        "align with the card product",
    )
    assert record["details"]["diff"] == {"paylater.grace_days": {"before": "9", "after": "12"}}
    code, out, _ = cli(capsys, monkeypatch, "audit", "--db", db, "--subject", "c1", "--json")
    assert [r["action"] for r in json.loads(out)] == ["customer.onboard"]
    code, _, err = cli(capsys, monkeypatch, "audit", "--db", db, "--actor", " ")
    assert code == 1
    assert "AUDIT_FILTER_NOT_BLANK" in err


@pytest.mark.parametrize(
    ("args", "field", "rule"),
    [
        (["--seed", "-1"], "seed", "SEED_RANGE"),
        (["--partition-size", "0"], "partition_size", "PARTITION_SIZE_POSITIVE"),
        (["--partition-size", "-5"], "partition_size", "PARTITION_SIZE_POSITIVE"),
        (["--workers", "0"], "workers", "WORKERS_POSITIVE"),
        (["--workers", "-1"], "workers", "WORKERS_POSITIVE"),
        (["--customers", "0"], "customers", "CUSTOMERS_POSITIVE"),
        (["--policy", "linked.yaml"], "policy", "POLICY_UNIQUE"),
    ],
)
def test_a_twin_run_that_would_be_refused_is_refused_before_it_makes_its_folder(
    args: list[str],
    field: str,
    rule: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """These were internal errors (exit 70), or ran with a silent default; and every refusal
    left an empty --out folder behind."""
    monkeypatch.chdir(tmp_path)
    Path("linked.yaml").write_text("linkage.restrict_dpd: 2\n")
    out = tmp_path / "twin"
    code, _, err = cli(capsys, monkeypatch, "simulate", "--out", str(out), "--months", "1",
                       "--customers", "5", *args)  # fmt: skip
    assert code == 1, err
    assert err.startswith(f"error: {field}: ")
    assert f"({rule})" in err
    assert "'linked'" in err or rule != "POLICY_UNIQUE"
    assert not out.exists()


@pytest.mark.parametrize("where", ["a-file", "a-file/sub", "metrics-is-a-folder"])
def test_a_twin_folder_that_cannot_be_written_is_refused_before_the_run(
    where: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Once an internal error, at the start or only after the whole run."""
    (tmp_path / "a-file").write_text("")
    (tmp_path / "metrics-is-a-folder" / "metrics.json").mkdir(parents=True)
    code, _, err = cli(capsys, monkeypatch, "simulate", "--out", str(tmp_path / where),
                       "--months", "1", "--customers", "5")  # fmt: skip
    assert code == 1, err
    assert "(OUT_FOLDER_WRITABLE)" in err
    assert err.startswith("error: out: ")
    assert not (tmp_path / "metrics-is-a-folder" / "metrics.json.partial").exists()


def test_a_close_run_from_the_command_line_is_in_the_audit_log(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    """An auditor asked who closed which date: closed_days kept the date, not the person."""
    monkeypatch.setenv("CREDITLINK_ACTOR", "ops.night")
    assert add(capsys, monkeypatch, db, "c1", "--on", "2026-01-05")[0] == 0
    code, _, err = cli(capsys, monkeypatch, "eod", "--date", "2026-01-05", "--db", db)
    assert code == 0, err
    code, out, _ = cli(capsys, monkeypatch, "audit", "--action", "eod", "--json", "--db", db)
    [record] = json.loads(out)
    assert (record["action"], record["actor"], record["subject"]) == (
        "eod.close",
        "ops.night",
        "2026-01-05",
    )
    assert "statements" in record["details"]
