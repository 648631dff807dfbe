"""The write-behind prototype (`benchmarks/http_write_behind.py`): what it answers must be
what PostgreSQL holds once the answer is given, or its throughput would measure a design
that loses work."""

from __future__ import annotations

import json
import time

import psycopg
import pytest
from fastapi.testclient import TestClient

from benchmarks import http_write_behind
from benchmarks.common import libpq_url
from creditlink.application.ledger import verify_ledger
from creditlink.bootstrap import open_book
from tests.conftest import national_id

CUSTOMERS = [
    {
        "customer_id": f"w{number}",
        "name": f"Write {number}",
        "national_id": national_id(number),
        "mobile": "13800138000",
        "joint_limit_fen": 500_000,
        "cap_paylater_fen": 300_000,
        "cap_loan_fen": None,
    }
    for number in range(3)
]


@pytest.mark.postgres
@pytest.mark.parametrize("lean", [False, True], ids=["api-route", "lean-route"])
def test_every_answer_is_in_postgresql_when_it_is_given(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, lean: bool
) -> None:
    key = http_write_behind.prepare(pg_url, customers=CUSTOMERS, parameters={})
    monkeypatch.setenv(http_write_behind.LEAN_ENV, "1" if lean else "")
    slow = http_write_behind.Writer._commit

    def slower(writer: http_write_behind.Writer, batch: object) -> None:
        time.sleep(0.05)  # an answer given before its commit would now be seen to be
        slow(writer, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(http_write_behind.Writer, "_commit", slower)
    monkeypatch.setenv(http_write_behind.URL_ENV, pg_url)
    monkeypatch.setenv(http_write_behind.KEYS_ENV, f"operator:{key}")
    monkeypatch.setenv(http_write_behind.CUSTOMERS_ENV, json.dumps(CUSTOMERS))
    headers = {"Authorization": f"Bearer {key}"}

    def posted() -> int:
        with psycopg.connect(libpq_url(pg_url)) as connection:
            found = connection.execute("SELECT count(*) FROM journal_entries").fetchone()
        assert found is not None
        return int(found[0])

    approved = 0
    app = http_write_behind.create()
    first_route = app.router.routes[0]
    assert (getattr(first_route, "endpoint", None).__name__ == "purchases") is lean  # type: ignore[union-attr]
    with TestClient(app) as client:

        def buy(number: int, amount: int, key: str | None = None) -> dict[str, object]:
            response = client.post(
                f"/customers/w{number % 3}/paylater/purchases",
                json={
                    "ref": f"r{number}",
                    "amount_fen": amount,
                    "merchant": "m",
                    "category": "retail",
                },
                headers={**headers, "Idempotency-Key": key or f"k{number}"},
            )
            assert response.status_code in (200, 201), response.text
            answer: dict[str, object] = response.json()
            return answer

        for number in range(7):
            approved += bool(buy(number, 10_000 + number)["approved"])
            assert posted() == approved  # in PostgreSQL before the answer came
        assert buy(0, 10_000, key="k0")["approved"]  # a replay: answered, not written again
        assert not buy(7, 400_000)["approved"]  # over the PayLater cap: a decision, no entry

        # What PostgreSQL holds now, read as the service would read it.
        stored = open_book(pg_url)
        try:
            report = verify_ledger(stored.store.reader())
            assert report.ok, report.problems
            assert report.entries == approved == 7
            with stored.store.reader() as uow:
                used = {
                    c["customer_id"]: uow.limits.get(str(c["customer_id"])).used_paylater_fen
                    for c in CUSTOMERS
                }
                kept = uow.responses.find("k7")
                purchases = [d for d in uow.decisions.list(customer_id="w1") if d.op == "purchase"]
            assert used == {
                "w0": 10_000 + 10_003 + 10_006,
                "w1": 10_001 + 10_004,
                "w2": 10_002 + 10_005,
            }
            assert kept is not None
            assert kept.status_code == 200
            assert [d.ref for d in purchases] == ["r1", "r4", "r7"]
            assert [d.outcome for d in purchases][-1] != "APPROVE"
        finally:
            stored.store.dispose()
            app.state.book.store.dispose()


@pytest.mark.postgres
def test_workers_that_split_the_customers_write_one_chain(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each worker numbers its entries in memory; the writers number and seal them again,
    # under the chain's lock, when they commit: one chain, whatever the order of batches.
    key = http_write_behind.prepare(pg_url, customers=CUSTOMERS, parameters={})
    monkeypatch.setenv(http_write_behind.URL_ENV, pg_url)
    monkeypatch.setenv(http_write_behind.KEYS_ENV, f"operator:{key}")
    apps = []
    for part in range(2):
        monkeypatch.setenv(http_write_behind.CUSTOMERS_ENV, json.dumps(CUSTOMERS[part::2]))
        apps.append(http_write_behind.create())
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        for number in range(8):
            customer = CUSTOMERS[number % 3]["customer_id"]
            client = first if number % 3 in (0, 2) else second
            response = client.post(
                f"/customers/{customer}/paylater/purchases",
                json={
                    "ref": f"r{number}",
                    "amount_fen": 5_000,
                    "merchant": "m",
                    "category": "retail",
                },
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"k{number}"},
            )
            assert response.status_code == 201, response.text
    for app in apps:
        app.state.book.store.dispose()
    stored = open_book(pg_url)
    try:
        report = verify_ledger(stored.store.reader())
    finally:
        stored.store.dispose()
    assert report.ok, report.problems
    assert report.entries == 8
