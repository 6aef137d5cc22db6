"""Project-local services: each request kind calls its own, with its own arguments."""
from __future__ import annotations

from .repository import OrderRepository, StockRepository


class OrderService:
    def __init__(self, repo: OrderRepository) -> None:
        self.repo = repo

    def get_order(self, order_id: int) -> dict:
        row = self.repo.load(order_id)
        row["total"] = self.price(row["qty"])
        return row

    def price(self, qty: int) -> int:
        return qty * 25


class InventoryService:
    def __init__(self, repo: StockRepository) -> None:
        self.repo = repo

    def count_stock(self, sku: str) -> int:
        return self.repo.find_level(sku)


class AccountService:
    def lookup_account(self, token: str, user: str) -> dict:
        return {"user": user, "active": bool(token)}


class ReportService:
    def build_report(self, year: int) -> dict:
        return self.explode_on_purpose(year)

    def explode_on_purpose(self, year: int) -> dict:
        raise RuntimeError(f"report for {year} failed on purpose")


ORDERS = OrderService(OrderRepository())
STOCK = InventoryService(StockRepository())
ACCOUNTS = AccountService()
REPORTS = ReportService()
