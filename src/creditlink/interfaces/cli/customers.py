"""`creditlink customer …`: onboard, show, list, and change limits."""

from __future__ import annotations

from typing import Annotated

import typer

from creditlink.interfaces.cli.options import Db, Json, On, business_date, view_date
from creditlink.interfaces.cli.output import console, print_json, table

app = typer.Typer(
    help="Onboard customers, show them, and change their limits.", no_args_is_help=True
)


def _amount(text: str | None, field: str) -> int | None:
    from creditlink.domain.money import parse_amount

    return None if text is None else parse_amount(text, field=field, allow_zero=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Option(help="Full name.")],
    national_id: Annotated[str, typer.Option(help="18-character national ID (GB 11643).")],
    mobile: Annotated[str, typer.Option(help="11-digit mobile number.")],
    income: Annotated[
        str | None,
        typer.Option(
            help="Declared monthly income: the application score then sets the "
            "grade, limits and loan price."
        ),
    ] = None,
    joint_limit: Annotated[
        str | None,
        typer.Option(
            help='Joint limit set by hand, e.g. "20000.00": limits and price stay '
            "as given whatever the score."
        ),
    ] = None,
    customer_id: Annotated[
        str | None, typer.Option("--id", help="Customer id (default: generated).")
    ] = None,
    cap_paylater: Annotated[
        str | None, typer.Option(help="PayLater cap with --joint-limit (default: the limit).")
    ] = None,
    cap_loan: Annotated[
        str | None, typer.Option(help="Cash loan cap with --joint-limit (default: the limit).")
    ] = None,
    on: On = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Onboard a customer: scored from --income, or with limits set by hand."""
    import secrets

    from creditlink.application.customers import apply_for_credit, onboard_customer
    from creditlink.bootstrap import open_book
    from creditlink.domain.errors import InvalidInput
    from creditlink.interfaces.cli.views import customer_data

    if joint_limit is None and income is None:
        raise InvalidInput(
            "give --income (to be scored) or --joint-limit (set by hand)",
            field="income",
            rule="LIMIT_OR_INCOME_REQUIRED",
        )
    monthly_income = _amount(income, "income")
    chosen_id = customer_id or f"C{secrets.token_hex(6)}"
    book = open_book(db)
    day = business_date(on, book)
    if joint_limit is None:
        assert monthly_income is not None
        outcome = apply_for_credit(
            book.store.unit_of_work(),
            customer_id=chosen_id,
            name=name,
            national_id=national_id,
            mobile=mobile,
            monthly_income_fen=monthly_income,
            on=day,
            actor=book.actor,
            clock=book.clock,
        )
        decision = {
            "outcome": outcome.decision.outcome,
            "reasons": list(outcome.decision.reasons),
            "model_version": outcome.decision.model_version,
        }
        if outcome.view is None:
            if as_json:
                print_json({"customer_id": chosen_id, "decision": decision})
            else:
                console().print(
                    f"Declined: {', '.join(outcome.decision.reasons)} "
                    f"(model {outcome.decision.model_version})."
                )
            return
        view = outcome.view
    else:
        decision = None
        caps = _amount(cap_paylater, "cap_paylater"), _amount(cap_loan, "cap_loan")
        joint = _amount(joint_limit, "joint_limit")
        assert joint is not None
        view = onboard_customer(
            book.store.unit_of_work(),
            customer_id=chosen_id,
            name=name,
            national_id=national_id,
            mobile=mobile,
            joint_limit_fen=joint,
            cap_paylater_fen=caps[0],
            cap_loan_fen=caps[1],
            on=day,
            actor=book.actor,
            clock=book.clock,
            monthly_income_fen=monthly_income,
        )
    data = customer_data(view)
    if decision is not None:
        data["decision"] = decision
    if as_json:
        print_json(data)
        return
    score = data["score"]
    graded = f", score {score['points']} grade {score['grade']}" if score else ""
    console().print(f"Onboarded [bold]{data['customer_id']}[/] ({data['name']}{graded}).")
    console().print(_limits_table(data))


@app.command("show")
def show(
    customer_id: Annotated[str, typer.Argument(help="The customer id.")],
    on: On = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Show a customer, their limits, usage and what is available in each product."""
    from creditlink.application.customers import show_customer
    from creditlink.bootstrap import open_book
    from creditlink.interfaces.cli.views import customer_data

    book = open_book(db, existing=True)
    day = view_date(on, book)
    data = customer_data(show_customer(book.store.reader(), customer_id=customer_id, on=day))
    if as_json:
        print_json(data)
        return
    out = console()
    out.print(
        table(
            f"Customer {data['customer_id']}",
            ["field", "value"],
            [
                ["name", data["name"]],
                ["national ID", data["national_id"]],
                ["mobile", data["mobile"]],
                ["onboarded on", data["onboarded_on"]],
                ["alert level", data["alert_level"]],
                ["as of", data["as_of"]],
            ],
        )
    )
    out.print(_limits_table(data))


def _limits_table(data: dict[str, object]) -> object:
    limits = data["limits"]
    assert isinstance(limits, dict)
    rows = [
        ["joint", limits["joint_limit"], _sum(limits["used_paylater"], limits["used_loan"]), "-"],
        ["paylater", limits["cap_paylater"], limits["used_paylater"], limits["available_paylater"]],
        ["loan", limits["cap_loan"], limits["used_loan"], limits["available_loan"]],
    ]
    grid = table("Limits", ["product", "limit or cap", "used", "available"], rows)
    notes = []
    if limits["temporary_limit"]:
        temporary = limits["temporary_limit"]
        notes.append(
            f"temporary PayLater limit {temporary['amount']} through {temporary['expires_on']}"
        )
    if limits["pending_increase"]:
        notes.append(f"increase pending from {limits['pending_increase']['effective_on']}")
    if notes:
        grid.caption = "; ".join(notes)
    return grid


def _sum(*amounts: str) -> str:
    from creditlink.domain.money import format_fen, parse_signed_amount

    return format_fen(sum(parse_signed_amount(amount) for amount in amounts))


@app.command("list")
def list_(
    offset: Annotated[int, typer.Option(min=0, help="Skip this many.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Show at most this many.")] = 50,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """List customers by id."""
    from creditlink.application.customers import list_customers
    from creditlink.bootstrap import open_book

    book = open_book(db, existing=True)
    found = list_customers(book.store.reader(), offset=offset, limit=limit)
    rows = [
        {
            "customer_id": c.customer_id,
            "name": c.name,
            "national_id": c.national_id_masked,
            "onboarded_on": c.onboarded_on.isoformat(),
        }
        for c in found
    ]
    if as_json:
        print_json(rows)
        return
    console().print(
        table(
            "Customers",
            ["id", "name", "national ID", "onboarded on"],
            [list(row.values()) for row in rows],
        )
    )


@app.command("set-limit")
def set_limit(
    customer_id: Annotated[str, typer.Argument(help="The customer id.")],
    reason: Annotated[str, typer.Option(help="Why: kept in the audit log.")],
    joint_limit: Annotated[str | None, typer.Option(help="New joint limit.")] = None,
    cap_paylater: Annotated[str | None, typer.Option(help="New PayLater cap.")] = None,
    cap_loan: Annotated[str | None, typer.Option(help="New cash loan cap.")] = None,
    on: On = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Change limits: decreases take effect at once, increases after the delay."""
    from creditlink.application.customers import change_limits, show_customer
    from creditlink.bootstrap import open_book
    from creditlink.domain.errors import InvalidInput
    from creditlink.interfaces.cli.views import customer_data

    amounts = {
        "joint_limit_fen": _amount(joint_limit, "joint_limit"),
        "cap_paylater_fen": _amount(cap_paylater, "cap_paylater"),
        "cap_loan_fen": _amount(cap_loan, "cap_loan"),
    }
    if all(value is None for value in amounts.values()):
        raise InvalidInput(
            "give at least one of --joint-limit, --cap-paylater, --cap-loan",
            field="joint_limit",
            rule="LIMIT_REQUIRED",
        )
    book = open_book(db)
    day = business_date(on, book)
    change = change_limits(
        book.store.unit_of_work(),
        customer_id=customer_id,
        on=day,
        actor=book.actor,
        reason=reason,
        clock=book.clock,
        **amounts,
    )
    data = customer_data(show_customer(book.store.reader(), customer_id=customer_id, on=day))
    if as_json:
        print_json(data)
        return
    if change.applied_now:
        console().print("In force now: " + ", ".join(change.applied_now))
    if change.pending:
        console().print(f"Increase held until {change.pending.effective_on.isoformat()}.")
    console().print(_limits_table(data))


@app.command("temp-limit")
def temp_limit(
    customer_id: Annotated[str, typer.Argument(help="The customer id.")],
    amount: Annotated[str, typer.Option(help="Extra PayLater amount.")],
    expires_on: Annotated[str, typer.Option(help="Last day it is valid, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option(help="Why: kept in the audit log.")],
    on: On = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Grant a temporary PayLater limit, valid from today through --expires-on."""
    from creditlink.application.customers import grant_temporary_limit, show_customer
    from creditlink.bootstrap import open_book
    from creditlink.domain.money import parse_amount
    from creditlink.interfaces.cli.views import customer_data

    amount_fen = parse_amount(amount, field="amount")
    from creditlink.domain.calendar import parse_date

    last_day = parse_date(expires_on, field="expires_on")
    book = open_book(db)
    day = business_date(on, book)
    grant_temporary_limit(
        book.store.unit_of_work(),
        customer_id=customer_id,
        amount_fen=amount_fen,
        on=day,
        expires_on=last_day,
        actor=book.actor,
        reason=reason,
        clock=book.clock,
    )
    data = customer_data(show_customer(book.store.reader(), customer_id=customer_id, on=day))
    if as_json:
        print_json(data)
    else:
        console().print(_limits_table(data))
