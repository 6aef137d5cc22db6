"""In-memory repositories: dictionaries behind a small, typed interface."""

from __future__ import annotations

import itertools
from typing import Generic, Iterator, TypeVar

from shop.domain import Customer, Order, Product

K = TypeVar("K")
V = TypeVar("V")


class InMemoryRepository(Generic[K, V]):
    def __init__(self) -> None:
        self._rows: dict[K, V] = {}

    def key_of(self, value: V) -> K:
        raise NotImplementedError

    def add(self, value: V) -> V:
        self._rows[self.key_of(value)] = value
        return value

    def get(self, key: K) -> V:
        try:
            return self._rows[key]
        except KeyError:
            raise LookupError(f"{type(self).__name__}: no row {key!r}") from None

    def all(self) -> Iterator[V]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)


class CustomerRepository(InMemoryRepository[str, Customer]):
    def key_of(self, value: Customer) -> str:
        return value.id


class ProductRepository(InMemoryRepository[str, Product]):
    def key_of(self, value: Product) -> str:
        return value.sku


class OrderRepository(InMemoryRepository[int, Order]):
    def __init__(self, first_id: int = 1001) -> None:
        super().__init__()
        self._ids = itertools.count(first_id)

    def next_id(self) -> int:
        return next(self._ids)

    def key_of(self, value: Order) -> int:
        return value.id


class StockRepository:
    """Units on hand per SKU."""

    def __init__(self) -> None:
        self._levels: dict[str, int] = {}

    def level(self, sku: str) -> int:
        return self._levels.get(sku, 0)

    def set_level(self, sku: str, units: int) -> None:
        self._levels[sku] = units
