"""A PayLater account's purchases, kept as rows of `paylater_purchases` and fetched as the
account asks for them.

An account keeps every purchase it ever made, but an operation reads only the purchases it
names and those since a date: a purchase checks its ref is new and looks at the day's
purchases, a refund reads its purchase and the refund window. `StoredPurchases` fetches those
(with the account, when the use case says which it will read) and writes back only what
changed, so an operation's cost does not grow with the account's age. Their number is
counted by the database; whatever else is asked of it (every purchase) reads them all. Readers
too read only what is asked for (the monthly ECL job reads no purchase), so whatever needs
purchases asks for them inside the unit of work.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from creditlink.adapters.sql.driver import Driver
from creditlink.domain.paylater.records import Purchase, Purchases

_COLUMNS = "ref, on_date, amount_fen, merchant, category, refunded_fen, plan_ref, refunded_on"
_SELECT = f"SELECT purchase_id, {_COLUMNS} FROM paylater_purchases WHERE customer_id = %s"
_JSON_COLUMNS = f"purchase_id, {_COLUMNS}"
UPSERT_PURCHASE = (
    f"INSERT INTO paylater_purchases (customer_id, {_COLUMNS}) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (customer_id, ref) DO UPDATE SET refunded_fen = excluded.refunded_fen, "
    "plan_ref = excluded.plan_ref, refunded_on = excluded.refunded_on"
)
_NEW = 1 << 62  # the order of purchases not yet stored: after every stored one


def _wanted(driver: Driver, refs: Collection[str], since: date | None) -> tuple[str, list[Any]]:
    """The condition, after `customer_id = %s AND`, for the purchases named by `refs` and
    those dated on or after `since`; its parameters."""
    wanted, params = [], []
    if since is not None:
        wanted.append("on_date >= %s")
        params.append(driver.date_in(since))
    if refs:
        wanted.append(f"ref IN ({', '.join(['%s'] * len(refs))})")
        params += refs
    return f"({' OR '.join(wanted)})", params


def with_document(
    driver: Driver, customer_id: str, refs: Collection[str], since: date | None
) -> tuple[str, list[Any]]:
    """A statement reading the account's document and, in the same round trip, the
    purchases named by `refs` and those dated on or after `since`, as JSON text (None when
    there are none) for `StoredPurchases.read_with_document`; its parameters."""
    condition, params = _wanted(driver, refs, since)
    if driver.postgres:
        rows = (
            f"SELECT json_agg(json_build_array({_JSON_COLUMNS}))::text FROM paylater_purchases "
            f"WHERE customer_id = %s AND {condition}"
        )
    else:
        rows = (
            f"SELECT json_group_array(json_array({_JSON_COLUMNS})) FROM paylater_purchases "
            f"WHERE customer_id = %s AND {condition} HAVING count(*) > 0"
        )
    sql = f"SELECT document, ({rows}) FROM paylater_accounts WHERE customer_id = %s"
    return sql, [customer_id, *params, customer_id]


class StoredPurchases(Purchases):
    """The purchases of `customer_id` in the unit of work whose driver is `driver`, each
    read when asked for (`read_with_document` holds those a use case named beforehand)."""

    __slots__ = ("_absent", "_changed", "_complete", "_customer_id", "_driver", "_order", "_since")

    def __init__(self, driver: Driver, customer_id: str) -> None:
        super().__init__()
        self._driver, self._customer_id = driver, customer_id
        self._order: dict[str, int] = {}
        self._absent: set[str] = set()
        self._since: date | None = None
        self._complete = False
        self._changed: dict[str, Purchase] = {}

    @classmethod
    def read_with_document(
        cls,
        driver: Driver,
        customer_id: str,
        *,
        refs: Collection[str],
        since: date | None,
        found: str | None,
    ) -> StoredPurchases:
        """The purchases of `customer_id`, holding those `with_document(refs, since)` read
        (`found`)."""
        purchases = cls(driver, customer_id)
        rows = sorted(json.loads(found)) if found else []  # by purchase_id
        purchases._take(rows, refs=refs, since=since)
        return purchases

    def _open(self) -> None:
        if self._driver.closed:
            raise RuntimeError(
                f"the purchases of {self._customer_id!r} are read as they are asked for, "
                "inside the unit of work that read the account, which has ended: take what "
                "is needed of them before it ends"
            )

    def _read(
        self, *, refs: Collection[str] = (), since: date | None = None, complete: bool = False
    ) -> None:
        self._open()
        sql, params = _SELECT, [self._customer_id]
        if not complete:
            condition, more = _wanted(self._driver, refs, since)
            sql, params = f"{sql} AND {condition}", [*params, *more]
        rows = self._driver.all(sql + " ORDER BY purchase_id", params)
        self._take(rows, refs=refs, since=since, complete=complete)

    def _take(
        self,
        rows: Iterable[Sequence[Any]],
        *,
        refs: Collection[str],
        since: date | None,
        complete: bool = False,
    ) -> None:
        """Hold `rows` (purchase_id and _COLUMNS, in purchase_id order), read for `refs`,
        `since` or everything (`complete`)."""
        date_out = self._driver.date_out
        for row in rows:
            ref = row[1]
            self._order[ref] = row[0]
            if ref in self._changed:
                continue  # this unit of work's own is newer
            self._by_ref[ref] = Purchase(
                ref,
                date_out(row[2]),  # type: ignore[arg-type]
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                date_out(row[8]),
            )
        self._absent.update(ref for ref in refs if ref not in self._by_ref)
        if since is not None:
            self._since = since if self._since is None else min(self._since, since)
        self._complete = self._complete or complete

    def _held(self) -> list[Purchase]:
        """The purchases held so far, in the order they were made."""
        return sorted(self._by_ref.values(), key=lambda p: self._order[p.ref])

    def _all(self) -> list[Purchase]:
        if not self._complete:
            self._read(complete=True)
        return self._held()

    def __getitem__(self, ref: str) -> Purchase:
        found = self._by_ref.get(ref)
        if found is None and not (self._complete or ref in self._absent):
            self._read(refs=(ref,))
            found = self._by_ref.get(ref)
        if found is None:
            raise KeyError(ref)
        return found

    def __contains__(self, ref: object) -> bool:
        if not isinstance(ref, str):
            return False
        try:
            self[ref]
        except KeyError:
            return False
        return True

    def __setitem__(self, ref: str, purchase: Purchase) -> None:
        super().__setitem__(ref, purchase)
        self._order.setdefault(ref, _NEW + len(self._order))
        self._absent.discard(ref)
        self._changed[ref] = purchase

    def __iter__(self) -> Iterator[str]:
        return iter([p.ref for p in self._all()])

    def __len__(self) -> int:
        if self._complete or self._changed:
            return len(self._all())
        # Nothing waits to be written: the table holds exactly this account's purchases.
        self._open()
        row = self._driver.one(
            "SELECT count(*) FROM paylater_purchases WHERE customer_id = %s", [self._customer_id]
        )
        assert row is not None
        return int(row[0])

    def since(self, day: date) -> list[Purchase]:
        if not (self._complete or (self._since is not None and day >= self._since)):
            self._read(since=day)
        return [p for p in self._held() if p.on >= day]

    def __copy__(self) -> Purchases:
        return Purchases(self._all())

    def changed(self, driver: Driver) -> Sequence[Purchase]:
        """What to write through `driver`: this unit of work's changes, or, read through
        another, every purchase."""
        if driver is not self._driver:
            return self._all()
        return list(self._changed.values())

    def written(self) -> None:
        self._changed.clear()


def purchase_writes(
    driver: Driver, customer_id: str, purchases: Purchases
) -> list[tuple[Any, ...]]:
    """The rows to store for what changed in `purchases` (every purchase, unless they were
    read through `driver`): new ones are added, refunds and conversions updated by
    `UPSERT_PURCHASE`. Call `written(purchases)` once they are sent."""
    if isinstance(purchases, StoredPurchases):
        rows: Sequence[Purchase] = purchases.changed(driver)
    else:
        rows = list(purchases.values())
    return [_row(driver, customer_id, p) for p in rows]


def written(purchases: Purchases) -> None:
    if isinstance(purchases, StoredPurchases):
        purchases.written()


def send_purchases(driver: Driver, rows: Sequence[Sequence[Any]]) -> None:
    """Store `rows` of `purchase_writes`."""
    if len(rows) == 1:
        driver.run(UPSERT_PURCHASE, rows[0])
    elif rows:
        driver.many(UPSERT_PURCHASE, rows)


def write_purchases(driver: Driver, customer_id: str, purchases: Purchases) -> None:
    """Store what changed in `purchases` (see `purchase_writes`)."""
    send_purchases(driver, purchase_writes(driver, customer_id, purchases))
    written(purchases)


PURCHASE_COLUMNS = ("customer_id", *_COLUMNS.split(", "))


def purchase_row(customer_id: str, p: Purchase) -> tuple[Any, ...]:
    """A purchase's row of `paylater_purchases` (PURCHASE_COLUMNS), dates as dates."""
    return (
        customer_id,
        p.ref,
        p.on,
        p.amount_fen,
        p.merchant,
        p.category,
        p.refunded_fen,
        p.plan_ref,
        p.refunded_on,
    )


def _row(driver: Driver, customer_id: str, p: Purchase) -> tuple[Any, ...]:
    row = purchase_row(customer_id, p)
    return (*row[:2], driver.date_in(p.on), *row[3:8], driver.date_in(p.refunded_on))
