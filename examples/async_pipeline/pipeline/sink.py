from __future__ import annotations

from collections import defaultdict
from decimal import Decimal


class Ledger:
    def __init__(self) -> None:
        self.totals: dict[str, Decimal] = defaultdict(Decimal)
        self.rejected: list[str] = []

    def add(self, user: str, usd: Decimal) -> None:
        self.totals[user] += usd

    def reject(self, reason: str) -> None:
        self.rejected.append(reason)

    def grand_total(self) -> Decimal:
        return sum(self.totals.values(), Decimal("0"))
