"""The monthly portfolio jobs over a whole book: behaviour scoring with the limit review, and
expected credit loss (IFRS 9, `risk.ecl`).

Each job works on a *partition* of customers (a range of customer ids), so that an engine can
run the partitions side by side: in this process, or on Spark (`interfaces.cli.portfolio`).
Scoring writes, in batches of one transaction each, and is safe to repeat for a date; ECL only
reads and returns its lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from creditlink.application.ports import Store, UnitOfWork
from creditlink.application.scoring import BATCH, rescore
from creditlink.domain.money import format_fen
from creditlink.domain.parameters import ParameterSet
from creditlink.risk.ecl import expected_credit_loss, grades_down, stage

ONBOARD = "onboard"
NEUTRAL_POINTS = 560  # no score yet: the scale's grade D midpoint, as the twin assumes


@dataclass(frozen=True, slots=True)
class Partition:
    """Customer ids after `after` up to and including `last` (None: to the end)."""

    after: str
    last: str | None


def partitions(store: Store, *, size: int) -> list[Partition]:
    """The book's customers in ranges of `size` ids, in id order."""
    cuts: list[str] = []
    with store.reader() as uow:
        after = ""
        while True:
            ids = uow.customers.ids(after=after, limit=size)
            if not ids:
                break
            cuts.append(ids[-1])
            after = ids[-1]
    bounds = ["", *cuts]
    return [Partition(bounds[i], cuts[i]) for i in range(len(cuts))]


def _ids(uow: UnitOfWork, partition: Partition, after: str, limit: int) -> list[str]:
    ids = uow.customers.ids(after=after, limit=limit)
    return [c for c in ids if partition.last is None or c <= partition.last]


def rescore_partition(
    store: Store, partition: Partition, *, on: date, parameters: ParameterSet
) -> int:
    """Behaviour-score every customer of the partition and review their limits (the same
    `rescore` the close of day runs), a batch per transaction. How many were scored."""
    done, after = 0, partition.after
    while True:
        with store.unit_of_work() as uow:
            ids = _ids(uow, partition, after, BATCH)
            if not ids:
                return done
            for customer_id in ids:
                rescore(uow, customer_id=customer_id, on=on, parameters=parameters)
            uow.commit()
        done += len(ids)
        after = ids[-1]


@dataclass(frozen=True, slots=True, kw_only=True)
class EclLine:
    customer_id: str
    product: str
    stage: int
    dpd: int
    drawn_fen: int
    undrawn_fen: int
    probability_of_default: str
    exposure_fen: int
    ecl_fen: int


def onboarding_grade(uow: UnitOfWork, customer_id: str) -> str | None:
    """The grade the application score gave, from the onboarding decision (None if unknown:
    onboarded by hand, or before decisions kept it)."""
    for decision in uow.decisions.list(customer_id=customer_id, op=ONBOARD):
        if decision.context:
            grade = decision.context.get("grade")
            return grade if isinstance(grade, str) else None
    return None


def ecl_of_customer(
    uow: UnitOfWork, customer_id: str, *, on: date, parameters: ParameterSet
) -> list[EclLine]:
    """One line per product the customer holds: PayLater always, the loan when one is active
    or written off."""
    values = parameters.values
    customer = uow.customers.get(customer_id)
    limit = uow.limits.get(customer_id)
    score = customer.score
    points = score.points if score is not None else NEUTRAL_POINTS
    down = grades_down(onboarding_grade(uow, customer_id), score.grade if score else None)
    lines = []
    account = uow.paylater.get(customer_id, read_only=True)
    off = account.written_off
    exposures = [
        (
            "paylater",
            off,
            0 if off else account.dpd(on),
            0 if off else account.principal_outstanding_fen(),
            0 if off else limit.available_paylater(on),
        )
    ]
    loans = uow.loans.of_customer(customer_id, read_only=True)
    active = [loan for loan in loans if loan.active]
    loans_off = not active and any(loan.status.value == "written_off" for loan in loans)
    if active or loans_off:
        exposures.append(
            (
                "loan",
                loans_off,
                max((loan.dpd(on) for loan in active), default=0),
                sum(loan.outstanding_principal_fen() for loan in active),
                0,  # a loan's undrawn limit is not a commitment: the customer must apply
            )
        )
    for product, written_off, dpd, drawn, undrawn in exposures:
        figure = expected_credit_loss(
            stage=stage(dpd=dpd, written_off=written_off, grades_down=down),
            points=points,
            drawn_fen=drawn,
            undrawn_fen=undrawn,
            lgd=values.ecl_lgd,
            ccf=values.ecl_ccf,
        )
        lines.append(
            EclLine(
                customer_id=customer_id,
                product=product,
                stage=figure.stage,
                dpd=dpd,
                drawn_fen=drawn,
                undrawn_fen=undrawn,
                probability_of_default=str(figure.probability_of_default),
                exposure_fen=figure.exposure_fen,
                ecl_fen=figure.ecl_fen,
            )
        )
    return lines


def ecl_partition(
    store: Store, partition: Partition, *, on: date, parameters: ParameterSet
) -> list[EclLine]:
    out: list[EclLine] = []
    after = partition.after
    with store.reader() as uow:
        while True:
            ids = _ids(uow, partition, after, BATCH)
            if not ids:
                return out
            for customer_id in ids:
                out.extend(ecl_of_customer(uow, customer_id, on=on, parameters=parameters))
            after = ids[-1]


def ecl_summary(lines: Iterable[EclLine]) -> dict[str, Any]:
    """Accounts, exposure and ECL by product and stage, and in all (amounts in fen, with the
    coverage ECL / exposure)."""
    table: dict[str, dict[str, dict[str, int]]] = {}
    for line in lines:
        for product in (line.product, "all"):
            cell = table.setdefault(product, {}).setdefault(
                str(line.stage), {"accounts": 0, "exposure_fen": 0, "ecl_fen": 0}
            )
            cell["accounts"] += 1
            cell["exposure_fen"] += line.exposure_fen
            cell["ecl_fen"] += line.ecl_fen
    out: dict[str, Any] = {}
    for product, stages in sorted(table.items()):
        total = {
            key: sum(cell[key] for cell in stages.values())
            for key in ("accounts", "exposure_fen", "ecl_fen")
        }
        out[product] = {
            "stages": {s: _with_coverage(stages[s]) for s in sorted(stages)},
            "total": _with_coverage(total),
        }
    return out


def _with_coverage(cell: Mapping[str, int]) -> dict[str, Any]:
    exposure = cell["exposure_fen"]
    coverage = f"{cell['ecl_fen'] / exposure:.4f}" if exposure else "0.0000"
    return {
        **cell,
        "exposure": format_fen(exposure),
        "ecl": format_fen(cell["ecl_fen"]),
        "coverage": coverage,
    }


def sorted_lines(lines: Sequence[EclLine]) -> list[EclLine]:
    return sorted(lines, key=lambda line: (line.customer_id, line.product))
