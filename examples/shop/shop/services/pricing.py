from __future__ import annotations

from shop.domain import LineItem, Money, Order, ValidationError
from shop.repositories import ProductRepository

# code -> (percent off, minimum units in the order)
DISCOUNTS = {"WELCOME10": (10, 1), "BULK15": (15, 10)}


class PricingService:
    def __init__(self, products: ProductRepository) -> None:
        self.products = products

    def line_item(self, sku: str, quantity: int) -> LineItem:
        product = self.products.get(sku)
        return LineItem(sku=sku, quantity=quantity, unit_price=product.price)

    def discount_for(self, order: Order, code: str | None) -> Money:
        if code is None:
            return Money.zero()
        if code not in DISCOUNTS:
            raise ValidationError(f"unknown discount code {code!r}")
        percent, min_units = DISCOUNTS[code]
        if order.item_count() < min_units:
            return Money.zero()
        return order.subtotal().percent(percent)
