"""`creditlink tour`: a fresh book, a few customers, a few postings, a verified ledger.

Until the products and the digital twin exist, the demo shows what does: the joint limit
shared by both products, the posting core that purchases and draws share, idempotent
retries, limit changes, and `ledger verify`.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from creditlink.domain.products import Product
from creditlink.interfaces.cli.output import console, table

if TYPE_CHECKING:
    from creditlink.bootstrap import Book

DEMO_PEOPLE = (
    # (id, name, birth date, joint limit, PayLater cap, loan cap)
    ("c1", "Wang Fang", "19880314", 2_000_000, 1_500_000, 2_000_000),
    ("c2", "Li Wei", "19920702", 800_000, 800_000, 500_000),
    ("c3", "Zhang Min", "19751120", 3_000_000, 1_000_000, 3_000_000),
)


def _national_id(birth: str, sequence: int) -> str:
    from creditlink.domain.customer import national_id_check_character

    first_17 = f"110105{birth}{sequence:03d}"
    return first_17 + national_id_check_character(first_17)


def demo(
    out: Annotated[
        Path, typer.Option(help="Folder for the demo book (book.db); the book is made afresh.")
    ] = Path("creditlink-tour"),
) -> None:
    """A guided tour of one book: two products on one joint limit, step by step."""
    from creditlink.application.close_of_day import close_day
    from creditlink.application.customers import change_limits, onboard_customer, show_customer
    from creditlink.application.ledger import verify_ledger
    from creditlink.application.loans import repay_loan
    from creditlink.application.paylater import Shortcut, repay
    from creditlink.application.queries import customer_state
    from creditlink.bootstrap import open_book
    from creditlink.domain.money import format_fen
    from creditlink.interfaces.cli.views import report_data

    out.mkdir(parents=True, exist_ok=True)
    database = out / "book.db"
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    book = open_book(f"sqlite:///{database}")
    screen = console()
    screen.rule("[bold]creditlink demo[/]: one joint limit, two products, one ledger")
    screen.print(f"Fresh book: {database}")

    start = date(2026, 1, 5)
    rows = []
    for sequence, (customer_id, name, birth, joint, cap_paylater, cap_loan) in enumerate(
        DEMO_PEOPLE, start=1
    ):
        view = onboard_customer(
            book.store.unit_of_work(),
            customer_id=customer_id,
            name=name,
            national_id=_national_id(birth, sequence),
            mobile=f"1380013800{sequence}",
            joint_limit_fen=joint,
            cap_paylater_fen=cap_paylater,
            cap_loan_fen=cap_loan,
            on=start,
            actor="demo",
            clock=book.clock,
        )
        rows.append(
            [
                customer_id,
                name,
                view.customer.national_id_masked,
                format_fen(joint),
                format_fen(cap_paylater),
                format_fen(cap_loan),
            ]
        )
    screen.print(
        table(
            "1. Customers onboarded",
            ["id", "name", "national ID", "joint limit", "PayLater cap", "loan cap"],
            rows,
        )
    )

    operations = [
        ("c1", Product.PAYLATER, 350_000, "electronics"),
        ("c1", Product.LOAN, 1_200_000, "cash loan draw"),
        ("c1", Product.PAYLATER, 600_000, "travel; 4500.00 left"),
        ("c1", Product.PAYLATER, 20_000, "gambling"),
        ("c2", Product.LOAN, 500_000, "draw to the loan cap"),
        ("c2", Product.LOAN, 10_000, "draw past the loan cap"),
        ("c2", Product.PAYLATER, 300_000, "grocery"),
        ("c3", Product.PAYLATER, 1_000_000, "retail, to the cap"),
    ]
    rows = []
    for number, (customer_id, product, amount, what) in enumerate(operations, start=1):
        key = f"demo-{number}"
        rows.append(
            [
                customer_id,
                product.value,
                format_fen(amount),
                what,
                *_spend(book, customer_id, product, amount, what, key, start),
            ]
        )
    retried = _spend(book, "c1", Product.PAYLATER, 350_000, "electronics", "demo-1", start)
    rows.append(
        ["c1", "paylater", "3500.00", "purchase 1 retried", f"replayed {retried[0]}", retried[1]]
    )
    screen.print(
        table(
            "2. Purchases and draws on one joint limit",
            ["who", "product", "amount", "what", "posted", "available"],
            rows,
        )
    )

    # Close every business day through 4 February: the 1 February statements are produced
    # in the close of 31 January.
    day = start
    while day <= date(2026, 2, 4):
        close_day(book.store, on=day, clock=book.clock)
        day += timedelta(days=1)
    rows = []
    for customer_id, *_ in DEMO_PEOPLE:
        account = customer_state(
            book.store.reader(), customer_id=customer_id, on=date(2026, 2, 4)
        ).paylater
        for statement in account.statements:
            rows.append(
                [
                    customer_id,
                    statement.statement_date.isoformat(),
                    format_fen(statement.purchases_fen),
                    format_fen(statement.new_balance_fen),
                    format_fen(statement.minimum_payment_fen),
                    statement.due_date.isoformat(),
                ]
            )
    screen.print(
        table(
            "3. Close of day through 2026-02-04: the first statements",
            ["who", "statement", "purchases", "new balance", "minimum", "due"],
            rows,
        )
    )

    paid = repay(
        book.store.unit_of_work(),
        customer_id="c1",
        amount=Shortcut.DUE,
        on=date(2026, 2, 5),
        idempotency_key="demo-pay-c1",
    )
    minimum = repay(
        book.store.unit_of_work(),
        customer_id="c2",
        amount=Shortcut.MINIMUM,
        on=date(2026, 2, 5),
        idempotency_key="demo-pay-c2",
    )
    repaid = repay_loan(
        book.store.unit_of_work(),
        customer_id="c1",
        loan_ref="demo-2",
        amount=200_000,
        on=date(2026, 2, 5),
        idempotency_key="demo-repay-1",
    )
    after = show_customer(book.store.reader(), customer_id="c1", on=date(2026, 2, 5))
    change = change_limits(
        book.store.unit_of_work(),
        customer_id="c3",
        on=date(2026, 2, 5),
        actor="demo",
        reason="demo: higher limit, lower loan cap",
        clock=book.clock,
        joint_limit_fen=4_000_000,
        cap_loan_fen=2_000_000,
    )
    later = show_customer(book.store.reader(), customer_id="c3", on=date(2026, 2, 12))
    held = (
        f"cap cut at once; increase held until {change.pending.effective_on}"
        if change.pending
        else "applied"
    )
    screen.print(
        table(
            "4. Repayments and limit changes on 2026-02-05",
            ["who", "what", "result"],
            [
                ["c1", "pays the statement in full (due)", f"{format_fen(paid.amount_fen)} paid"],
                ["c2", "pays the minimum", f"{format_fen(minimum.amount_fen)} paid"],
                [
                    "c1",
                    f"prepays {format_fen(repaid.amount_fen)} of its loan, interest first",
                    f"loan available {format_fen(after.available_loan_fen)}",
                ],
                ["c3", "joint limit 30000.00 → 40000.00, loan cap 30000.00 → 20000.00", held],
                [
                    "c3",
                    "on 2026-02-12",
                    f"joint limit {format_fen(later.limit.joint_limit_fen)}, "
                    f"loan cap {format_fen(later.limit.cap_loan_fen)}",
                ],
            ],
        )
    )

    report = report_data(verify_ledger(book.store.reader()))
    screen.print(
        table(
            "5. Ledger verification",
            ["check", "result"],
            [
                ["entries", str(report["entries"])],
                ["balanced", str(report["balanced"])],
                ["trial balance", str(report["trial_balance"])],
                ["hash chain intact", str(report["chain_ok"])],
                ["receivables = product records", str(report["receivables_ok"])],
            ],
        )
    )
    screen.print(
        f"Explore it: [bold]uv run creditlink customer show c1 --db "
        f"sqlite:///{database}[/] or [bold]uv run creditlink ledger verify --db "
        f"sqlite:///{database}[/]"
    )
    if not report["ok"]:
        raise typer.Exit(1)


def _spend(
    book: Book, customer_id: str, product: Product, amount: int, what: str, key: str, on: date
) -> tuple[str, str]:
    """A purchase (category = the first word of `what`) or a loan draw: (outcome, left)."""
    from creditlink.application.customers import show_customer
    from creditlink.application.loans import draw_loan
    from creditlink.application.paylater import purchase
    from creditlink.domain.loan.schedule import Method
    from creditlink.domain.money import format_fen

    if product is Product.PAYLATER:
        category = what.split()[0].rstrip(";,")
        result = purchase(
            book.store.unit_of_work(),
            customer_id=customer_id,
            ref=key,
            amount_fen=amount,
            merchant=f"merchant-{category}",
            category=category,
            on=on,
            idempotency_key=key,
        )
        view = show_customer(book.store.reader(), customer_id=customer_id, on=on)
        if not result.approved:
            return ", ".join(result.decision.reasons), "-"
        assert result.entry is not None
        return f"entry {result.entry.entry_id}", format_fen(view.available_paylater_fen)
    drawn = draw_loan(
        book.store.unit_of_work(),
        customer_id=customer_id,
        ref=key,
        amount_fen=amount,
        term_months=12,
        method=Method.EQUAL_INSTALLMENT,
        on=on,
        idempotency_key=key,
    )
    view = show_customer(book.store.reader(), customer_id=customer_id, on=on)
    if not drawn.approved:
        return ", ".join(drawn.decision.reasons), "-"
    assert drawn.entry is not None
    return f"entry {drawn.entry.entry_id}", format_fen(view.available_loan_fen)
