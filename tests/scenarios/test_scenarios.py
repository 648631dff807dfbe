"""Scenario files: the project's hand-worked examples hold, and malformed files are named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from creditlink.simulation.scenario.loader import ScenarioError, load
from creditlink.simulation.scenario.runner import run

HERE = Path(__file__).parent
SHARED = HERE.parents[1].parent / "shared" / "scenarios"
# Every scenario of the project, and the shared examples.
READY = sorted(HERE.glob("*/*.yaml"))


@pytest.mark.parametrize("path", READY, ids=lambda p: p.stem)
def test_every_hand_worked_scenario_holds(path: Path) -> None:
    outcome = run(load(path))
    assert outcome.failures == []
    assert outcome.result["ledger"]["balanced"] is True
    assert outcome.result["ledger"]["verified"] is True


def test_the_shared_examples_are_copied_as_published() -> None:
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is not beside this checkout")
    for published in SHARED.glob("*.yaml"):
        assert published.read_text() == (HERE / "shared" / published.name).read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


GOOD = """\
name: t
start: 2026-01-01
end: 2026-01-10
customers:
  - id: c1
    joint_limit: "20000.00"
events:
  - {on: 2026-01-05, customer: c1, op: purchase, ref: p1, amount: "100.00", merchant: m1}
expect:
  customers.c1.limits.used_paylater: "100.00"
"""


@pytest.mark.parametrize(
    ("change", "line", "field"),
    [
        (('amount: "100.00"', "amount: 100.5"), 8, "amount"),
        (('amount: "100.00"', 'amount: "1.001"'), 8, "amount"),
        (("op: purchase", "op: buy"), 8, "op"),
        (("customer: c1, op", "customer: c9, op"), 8, "customer"),
        (("on: 2026-01-05", "on: 2026-02-30"), 8, "on"),
        (("on: 2026-01-05", "on: 2026-03-05"), 8, "on"),
        (('joint_limit: "20000.00"', 'joint_limit: "20,000"'), 6, "joint_limit"),
        (("end: 2026-01-10", "end: 2025-01-10"), 3, "end"),
        ((", merchant: m1}", "}"), 8, None),
        (("name: t\n", "name: t\nbogus: 1\n"), 2, "bogus"),
        # A cap above the joint limit is the file's fault: once exit 1 with no line.
        (
            ('joint_limit: "20000.00"', 'joint_limit: "100.00"\n    cap_paylater: "200.00"'),
            7,
            "cap_paylater",
        ),
    ],
)
def test_a_malformed_file_names_its_line_and_field(
    tmp_path: Path, change: tuple[str, str], line: int, field: str | None
) -> None:
    with pytest.raises(ScenarioError) as raised:
        load(write(tmp_path, GOOD.replace(*change)))
    assert raised.value.line == line, str(raised.value)
    if field is not None:
        assert raised.value.field == field, str(raised.value)
    assert f"s.yaml:{line}:" in str(raised.value)


def test_invalid_yaml_is_named_too(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as raised:
        load(write(tmp_path, GOOD + "  - [unclosed\n"))
    assert raised.value.line is not None


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "creditlink", "scenario", "run", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_exit_codes_are_0_when_expectations_hold_1_when_not_2_when_malformed(
    tmp_path: Path,
) -> None:
    good = cli(str(write(tmp_path, GOOD)))
    assert good.returncode == 0, good.stderr
    result = json.loads(good.stdout)
    assert result["customers"]["c1"]["limits"]["used_paylater"] == "100.00"
    assert result["decisions"][0]["outcome"] == "APPROVE"
    wrong = cli(
        str(write(tmp_path, GOOD.replace('used_paylater: "100.00"', 'used_paylater: "99.00"')))
    )
    assert wrong.returncode == 1
    assert 'expected "99.00", got "100.00"' in wrong.stderr
    malformed = cli(str(write(tmp_path, GOOD.replace("op: purchase", "op: buy"))))
    assert malformed.returncode == 2
    assert "s.yaml:8: op:" in malformed.stderr
    assert "Traceback" not in malformed.stderr


def test_contains_checks_list_membership(tmp_path: Path) -> None:
    text = GOOD.replace(
        'amount: "100.00", merchant: m1}', 'amount: "100.00", merchant: m1, category: gambling}'
    )
    text = text.replace(
        'customers.c1.limits.used_paylater: "100.00"',
        "decisions[0].reasons: {contains: BLOCKED_CATEGORY}\n  decisions[0].outcome: DECLINE",
    )
    outcome = run(load(write(tmp_path, text)))
    assert outcome.failures == []


def test_a_scenario_without_expectations_runs_and_reports(tmp_path: Path) -> None:
    path = tmp_path / "no_expect.yaml"
    path.write_text(
        "name: no expectations\nstart: 2026-01-05\nend: 2026-01-05\ncustomers:\n"
        "  - id: c1\n    joint_limit: '1000.00'\n    cap_paylater: '1000.00'\n"
        "    cap_loan: '1000.00'\nevents:\n"
        "  - {on: 2026-01-05, customer: c1, op: purchase, ref: p1, amount: '12.34', "
        "merchant: m, at: '09:30'}\n",
        encoding="utf-8",
    )
    outcome = run(load(path))
    assert outcome.failures == []
    assert outcome.result["decisions"][0]["outcome"] == "APPROVE"


def test_an_expectation_on_a_path_the_result_lacks_says_so(tmp_path: Path) -> None:
    """`expected "(missing)", got "(missing)"` contradicted itself, and a malformed path was
    echoed as another one."""
    bad = GOOD.replace(
        'expect:\n  customers.c1.limits.used_paylater: "100.00"\n',
        "expect:\n"
        '  customers.c1.nonexistent: "(missing)"\n'
        "  decisions[x].outcome: APPROVE\n"
        "  customers.c1.limits: {contains: joint_limit}\n",
    )
    ran = cli(str(write(tmp_path, bad)))
    assert ran.returncode == 1
    lines = ran.stderr.splitlines()
    assert any(
        "customers.c1.nonexistent: the result has no value at this path" in line for line in lines
    )
    assert any("decisions[x].outcome: the result has no value" in line for line in lines)
    assert any("`contains` needs a list, and the result holds a mapping" in line for line in lines)
    assert not any('got "(missing)"' in line for line in lines)
