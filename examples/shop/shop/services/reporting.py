from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator

from shop.adapters import FileStorage
from shop.domain import Money
from shop.repositories import OrderRepository


@dataclass
class SalesSummary:
    orders: int
    units: int
    revenue: Money
    best_customer: str | None


class ReportService:
    def __init__(self, orders: OrderRepository, storage: FileStorage) -> None:
        self.orders = orders
        self.storage = storage

    def _order_lines(self) -> Iterator[str]:
        for order in self.orders.all():
            yield json.dumps(order.to_record(), sort_keys=True)

    def export(self, name: str = "orders.jsonl") -> int:
        """Stream every order to a JSON-lines file; returns the number written."""
        return self.storage.write_lines(name, self._order_lines())

    def summarize(self, name: str = "orders.jsonl") -> SalesSummary:
        """Read the export back lazily, one record at a time."""
        orders = units = 0
        revenue = Money.zero()
        per_customer: dict[str, int] = {}
        for record in self.storage.iter_records(name):
            orders += 1
            units += sum(quantity for _sku, quantity, _price in record["items"])
            revenue = revenue + Money(record["total_cents"])
            per_customer[record["customer"]] = (
                per_customer.get(record["customer"], 0) + record["total_cents"]
            )
        best = max(sorted(per_customer), key=per_customer.__getitem__, default=None)
        summary = SalesSummary(orders, units, revenue, best)
        # Deliberate I/O in the wrong layer (skeleton-rules.toml, "only storage touches files"): the
        # service writes the file itself instead of asking the storage adapter (storage.write_json).
        with open(self.storage.path("summary.json"), "w", encoding="utf-8") as fh:
            json.dump({"orders": orders, "units": units,
                       "revenue_cents": revenue.cents, "best_customer": best}, fh, indent=2, sort_keys=True)
        return summary
