"""Drawing on the joint limit and paying principal back: the posting core that PayLater
purchases and cash-loan draws share.

Each call is one unit of work: lock the customer, check the key, check the limit, post one
balanced entry and save the new usage, then commit, so that two concurrent operations on one
customer can never both pass the limit check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from creditlink.application.business_date import require_open
from creditlink.application.idempotency import first_result
from creditlink.application.ports import UnitOfWork
from creditlink.domain.errors import InvalidInput
from creditlink.domain.ledger import (
    Account,
    AccountCode,
    EntryDraft,
    EntryKind,
    JournalEntry,
    credit,
    debit,
)
from creditlink.domain.money import format_fen
from creditlink.domain.products import Product

_FUNDING_CASH = Account(AccountCode.FUNDING_CASH)


@dataclass(frozen=True, slots=True, kw_only=True)
class Posted:
    """The result of a money-moving operation; `replayed` when the key was seen before."""

    entry: JournalEntry
    replayed: bool
    available_fen: int


def draw_on_limit(
    uow: UnitOfWork,
    *,
    customer_id: str,
    product: Product,
    amount_fen: int,
    on: date,
    idempotency_key: str,
    description: str = "",
) -> Posted:
    """Consume `amount_fen` of `product`'s availability and post the principal.

    Loan: Dr principal receivable / Cr funding cash. Raises `LimitExceeded` or
    `ProductStopped` and writes nothing when the joint limit, the cap or the alert level says
    no. PayLater credit is drawn only by a purchase (`application.paylater.purchase`), which
    keeps the account's records in step.
    """
    _loan_only(product)
    draft = EntryDraft(
        idempotency_key=idempotency_key,
        business_date=on,
        kind=EntryKind.LOAN_DRAW,
        customer_id=customer_id,
        description=description,
        lines=(
            debit(Account(AccountCode.PRINCIPAL_RECEIVABLE, product), amount_fen, customer_id),
            credit(_FUNDING_CASH, amount_fen),
        ),
    )
    with uow:
        limit = uow.limits.get(customer_id, for_update=True)
        require_open(uow, on)
        replay = first_result(uow, draft)
        if replay is not None:
            return Posted(entry=replay, replayed=True, available_fen=limit.available(product, on))
        limit = limit.apply_due_increase(on=on).draw(product, amount_fen, on=on)
        entry = uow.ledger.append(draft)
        uow.limits.save(customer_id, limit)
        uow.commit()
    return Posted(entry=entry, replayed=False, available_fen=limit.available(product, on))


def repay_principal(
    uow: UnitOfWork,
    *,
    customer_id: str,
    product: Product,
    amount_fen: int,
    on: date,
    idempotency_key: str,
) -> Posted:
    """Pay principal back: Dr funding cash / Cr principal receivable; the limit is restored.

    More than the principal owed is refused: until a product records a credit balance,
    there is nowhere honest to put the excess.
    """
    _loan_only(product)
    draft = EntryDraft(
        idempotency_key=idempotency_key,
        business_date=on,
        kind=EntryKind.REPAYMENT,
        customer_id=customer_id,
        lines=(
            debit(_FUNDING_CASH, amount_fen),
            credit(Account(AccountCode.PRINCIPAL_RECEIVABLE, product), amount_fen, customer_id),
        ),
    )
    with uow:
        limit = uow.limits.get(customer_id, for_update=True)
        require_open(uow, on)
        replay = first_result(uow, draft)
        if replay is not None:
            return Posted(entry=replay, replayed=True, available_fen=limit.available(product, on))
        owed = limit.used(product)
        if amount_fen > owed:
            raise InvalidInput(
                f"{format_fen(amount_fen)} is more than the {product.value} principal owed "
                f"({format_fen(owed)})",
                field="amount",
                rule="REPAYMENT_ABOVE_OWED",
            )
        limit = limit.apply_due_increase(on=on).restore(product, amount_fen)
        entry = uow.ledger.append(draft)
        uow.limits.save(customer_id, limit)
        uow.commit()
    return Posted(entry=entry, replayed=False, available_fen=limit.available(product, on))


def _loan_only(product: Product) -> None:
    if product is not Product.LOAN:
        raise InvalidInput(
            "PayLater principal moves only through purchases, refunds and "
            "repayments of the PayLater account",
            field="product",
            rule="PAYLATER_THROUGH_ITS_ACCOUNT",
        )
