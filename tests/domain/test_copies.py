"""The generated deep copies: every mutable part rebuilt, every immutable part shared."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from creditlink.domain.copies import clone


@dataclass(frozen=True, slots=True)
class Fixed:
    n: int


@dataclass(slots=True)
class Leaf:
    amount: int
    on: date | None = None


@dataclass(slots=True)
class Root:
    rate: Decimal
    leaves: list[Leaf] = field(default_factory=list)
    by_ref: dict[str, Leaf] = field(default_factory=dict)
    nested: dict[int, list[Leaf]] = field(default_factory=dict)
    fixed: dict[str, Fixed] = field(default_factory=dict)
    maybe: Leaf | None = None
    tags: tuple[str, ...] = ()


def test_a_copy_equals_the_original_and_shares_only_immutable_parts() -> None:
    root = Root(
        Decimal("0.05"),
        leaves=[Leaf(1), Leaf(2, date(2027, 1, 1))],
        by_ref={"a": Leaf(3)},
        nested={1: [Leaf(4)]},
        fixed={"f": Fixed(5)},
        maybe=Leaf(6),
        tags=("x",),
    )
    copy = clone(root)
    assert copy == root
    assert copy is not root
    assert copy.leaves is not root.leaves
    assert all(a is not b for a, b in zip(copy.leaves, root.leaves, strict=True))
    assert copy.by_ref["a"] is not root.by_ref["a"]
    assert copy.nested[1] is not root.nested[1]
    assert copy.nested[1][0] is not root.nested[1][0]
    assert copy.maybe is not root.maybe
    assert copy.fixed is not root.fixed
    assert copy.fixed["f"] is root.fixed["f"]  # frozen: shared
    assert copy.rate is root.rate
    copy.leaves[0].amount = 99
    copy.nested[1].append(Leaf(7))
    assert root.leaves[0].amount == 1
    assert len(root.nested[1]) == 1


def test_none_stays_none() -> None:
    assert clone(Root(Decimal(0))).maybe is None


def test_a_field_it_cannot_copy_is_refused() -> None:
    @dataclass
    class Odd:
        items: set[int]

    with pytest.raises(TypeError, match="cannot copy"):
        clone(Odd({1}))
