from __future__ import annotations

import enum
from dataclasses import dataclass, field

from shop.domain.customer import Customer
from shop.domain.errors import ValidationError
from shop.domain.money import Money


class OrderStatus(enum.Enum):
    DRAFT = "draft"
    PAID = "paid"


@dataclass(frozen=True)
class LineItem:
    sku: str
    quantity: int
    unit_price: Money

    def subtotal(self) -> Money:
        return self.unit_price.times(self.quantity)


@dataclass
class Order:
    id: int
    customer: Customer
    items: list[LineItem] = field(default_factory=list)
    discount: Money = field(default_factory=Money.zero)
    status: OrderStatus = OrderStatus.DRAFT
    auth_code: str | None = None

    def add_item(self, item: LineItem) -> None:
        if item.quantity <= 0:
            raise ValidationError(f"quantity must be positive, got {item.quantity}")
        self.items.append(item)

    def item_count(self) -> int:
        return sum(item.quantity for item in self.items)

    def subtotal(self) -> Money:
        total = Money.zero()
        for item in self.items:
            total = total + item.subtotal()
        return total

    def total(self) -> Money:
        return self.subtotal() - self.discount

    def mark_paid(self, auth_code: str) -> None:
        self.status = OrderStatus.PAID
        self.auth_code = auth_code

    def to_record(self) -> dict:
        return {
            "id": self.id,
            "customer": self.customer.id,
            "items": [[i.sku, i.quantity, i.unit_price.cents] for i in self.items],
            "total_cents": self.total().cents,
            "status": self.status.value,
        }
