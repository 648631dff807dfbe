"""The service around the routes: health, metrics, the OpenAPI document, HTTP's own errors."""

from __future__ import annotations

import threading

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from creditlink.application.ledger import LedgerReport, verify_ledger
from creditlink.application.ports import UnitOfWork
from creditlink.bootstrap import Book
from creditlink.domain.errors import InvalidInput
from creditlink.interfaces.http import app as app_module
from creditlink.interfaces.http.app import THREADS_ENV, create_app, threads_from_environment
from tests.http.conftest import PROBLEM, assert_problem, auth
from tests.service import Keys


def test_healthz_answers_ok_without_a_key(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


def test_healthz_says_503_when_the_database_does_not_answer(
    client: TestClient, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> object:
        raise OSError("connection refused")

    monkeypatch.setattr(book.store, "reader", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["rule"] == "DATABASE_REACHABLE"
    assert "refused" not in response.text


def test_metrics_count_requests_by_route_template_and_status(
    client: TestClient, keys: Keys
) -> None:
    for customer_id in ("c1", "c2", "c9"):
        client.get(f"/customers/{customer_id}", headers=auth(keys.operator))
    text = client.get("/metrics").text
    ok = (
        'creditlink_http_requests_total{method="GET",route="/customers/{customer_id}",status="200"}'
    )
    missing = (
        'creditlink_http_requests_total{method="GET",route="/customers/{customer_id}",status="404"}'
    )
    assert f"{ok} 2.0" in text
    assert f"{missing} 1.0" in text
    assert "creditlink_http_request_duration_seconds_bucket" in text
    assert "/customers/c1" not in text  # templates, never raw paths


def test_the_openapi_document_describes_the_routes_and_their_problems(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    for path in ("/customers", "/customers/{customer_id}", "/alerts", "/healthz"):
        assert path in paths
    purchase = paths["/customers/{customer_id}/paylater/purchases"]["post"]
    key = next(p for p in purchase["parameters"] if p["name"] == "Idempotency-Key")
    assert (key["in"], key["required"]) == ("header", True)
    assert set(purchase["responses"]) >= {"200", "201", "401", "403", "409", "422", "428"}
    for status, response in purchase["responses"].items():
        media = set(response.get("content", {}))
        assert media == ({PROBLEM} if status[0] == "4" else {"application/json"})
    schemes = document["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} == {"http", "apiKey"}
    assert "national_id" in document["components"]["schemas"]["CustomerOut"]["properties"]


def test_unknown_paths_and_methods_are_problems_too(client: TestClient) -> None:
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM)
    assert missing.json()["type"] == "about:blank"
    wrong_method = client.delete("/customers")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["title"] == "Method Not Allowed"
    assert wrong_method.headers["allow"]


def test_a_body_that_is_not_json_or_not_utf8_is_a_problem_naming_the_body(
    client: TestClient, keys: Keys
) -> None:
    headers = auth(keys.operator, **{"Idempotency-Key": "k1", "Content-Type": "application/json"})
    path = "/customers/c1/paylater/purchases"
    cut = client.post(path, content=b'{"ref": "q", "amount_fen": 100', headers=headers)
    body = assert_problem(cut, 422, "JSON_INVALID", "body")
    assert body["errors"][0]["location"] == "body"
    latin = client.post(path, content='{"ref": "caf\xe9"}'.encode("latin-1"), headers=headers)
    assert_problem(latin, 422, "BODY_INVALID", "body")


def test_a_server_error_says_nothing_of_its_cause(
    book: Book, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from creditlink.interfaces.http.routes import customers

    def failing(*_: object, **__: object) -> object:
        raise RuntimeError("secret table creditlink_internal is corrupt")

    monkeypatch.setattr(customers, "show_customer", failing)
    with TestClient(create_app(book=book), raise_server_exceptions=False) as client:
        response = client.get("/customers/c1", headers=auth(keys.operator))
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["status"] == 500
    assert "secret" not in response.text
    assert "RuntimeError" not in response.text


def test_the_factory_serves_the_book_named_in_the_environment(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/env.db"
    monkeypatch.setenv("CREDITLINK_DB", url)
    app = app_module.app_from_environment()
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
    assert app.state.book.url == url


def test_threads_bound_how_many_requests_run_against_the_book_at_once(book: Book) -> None:
    # `serve --threads N` reaches each worker's app through CREDITLINK_THREADS: N becomes
    # the size of the thread pool that runs the routes and dependencies that are plain
    # functions (all that touch the database).
    with TestClient(create_app(book=book, threads=3)) as client:
        assert client.portal is not None
        tokens = client.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
        )
        assert tokens == 3
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("raw", ["0", "-2", "four", "2.5"])
def test_threads_from_the_environment_must_be_a_positive_whole_number(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(THREADS_ENV, raw)
    with pytest.raises(InvalidInput) as refused:
        threads_from_environment()
    assert refused.value.field == THREADS_ENV
    assert refused.value.rule == "THREADS_POSITIVE"


def test_threads_from_the_environment_default_to_anyios_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert threads_from_environment() is None
    monkeypatch.setenv(THREADS_ENV, "12")
    assert threads_from_environment() == 12


def test_reports_run_on_their_own_threads_and_cannot_hold_up_requests(
    book: Book, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One request thread per worker, and a ledger verification that does not finish until
    # told to: /healthz and a customer's page still answer meanwhile.
    from creditlink.interfaces.http.routes import books

    started, finish = threading.Event(), threading.Event()

    def slow_verify(uow: UnitOfWork) -> LedgerReport:
        started.set()
        assert finish.wait(timeout=30), "the test never let the report finish"
        return verify_ledger(uow)

    monkeypatch.setattr(books, "verify_ledger", slow_verify)
    with TestClient(create_app(book=book, threads=1)) as client:
        report: list[int] = []
        reporting = threading.Thread(
            target=lambda: report.append(
                client.get("/ledger/verify", headers=auth(keys.auditor)).status_code
            )
        )
        reporting.start()
        try:
            assert started.wait(timeout=30)
            answers: list[int] = []
            asking = threading.Thread(
                target=lambda: answers.extend(
                    [
                        client.get("/healthz").status_code,
                        client.get("/customers/c1", headers=auth(keys.operator)).status_code,
                    ]
                )
            )
            asking.start()
            asking.join(timeout=10)
            assert answers == [200, 200], "requests waited for the report's thread"
        finally:
            finish.set()
            reporting.join(timeout=30)
        assert report == [200]
