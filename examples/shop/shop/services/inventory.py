from __future__ import annotations

from shop.domain import InsufficientStockError, LineItem
from shop.repositories import StockRepository


class InventoryService:
    def __init__(self, stock: StockRepository) -> None:
        self.stock = stock

    def restock(self, sku: str, units: int) -> None:
        self.stock.set_level(sku, self.stock.level(sku) + units)

    def available(self, sku: str) -> int:
        return self.stock.level(sku)

    def reserve(self, items: list[LineItem]) -> None:
        """All or nothing: check every line before taking any stock."""
        for item in items:
            on_hand = self.available(item.sku)
            if item.quantity > on_hand:
                raise InsufficientStockError(item.sku, item.quantity, on_hand)
        for item in items:
            self.stock.set_level(item.sku, self.stock.level(item.sku) - item.quantity)
