"""Project-local repositories: in-memory data the services read."""
from __future__ import annotations


class OrderRepository:
    def __init__(self) -> None:
        self.rows = {7: {"id": 7, "item": "lamp", "qty": 2}, 8: {"id": 8, "item": "desk", "qty": 1}}

    def load(self, order_id: int) -> dict:
        return dict(self.rows.get(order_id, {"id": order_id, "item": "unknown", "qty": 0}))


class StockRepository:
    def __init__(self) -> None:
        self.levels = {"sku-b": 11, "sku-c": 3}

    def find_level(self, sku: str) -> int:
        return self.levels.get(sku, 0)
