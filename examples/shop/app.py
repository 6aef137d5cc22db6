"""Shop demo: customers place orders; one is rejected; a sales report is exported.

Run with:  python examples/shop/app.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The `shop` package sits next to this file. `python app.py` already puts this
# directory on sys.path; tools that exec the file another way may not.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from shop.adapters import FileStorage, PaymentGateway  # noqa: E402
from shop.domain import Customer, Money, Order, Product, ValidationError  # noqa: E402
from shop.repositories import (  # noqa: E402
    CustomerRepository,
    OrderRepository,
    ProductRepository,
    StockRepository,
)
from shop.services import (  # noqa: E402
    InventoryService,
    OrderService,
    PricingService,
    ReportService,
)
from shop.workers import AuditLogger  # noqa: E402

API_TOKEN = "sk_test_demo_0000_not_a_real_token"

CATALOG = [  # sku, name, price, units in stock
    ("WIDGET-1", "Widget", "4.99", 100),
    ("GADGET-2", "Gadget", "24.50", 20),
    ("GIZMO-3", "Gizmo", "129.00", 2),
]


@dataclass
class Shop:
    customers: CustomerRepository
    orders: OrderService
    reports: ReportService
    audit: AuditLogger


def build_shop(storage: FileStorage) -> Shop:
    products, stock = ProductRepository(), StockRepository()
    inventory = InventoryService(stock)
    for sku, name, price, units in CATALOG:
        products.add(Product(sku, name, Money.parse(price)))
        inventory.restock(sku, units)

    customers, orders = CustomerRepository(), OrderRepository()
    audit = AuditLogger(storage)
    audit.start()
    order_service = OrderService(
        customers=customers,
        orders=orders,
        pricing=PricingService(products),
        inventory=inventory,
        payments=PaymentGateway(os.environ.get("SHOP_MERCHANT", "demo-merchant"), limit=Money.parse("1000.00")),
        audit=audit,
        api_token=API_TOKEN,
    )
    return Shop(customers, order_service, ReportService(orders, storage), audit)


def register(shop: Shop, name: str, email: str) -> Customer:
    customer = shop.customers.add(Customer.create(name, email))
    shop.audit.record("customer.created", customer=customer.id)
    return customer


def checkout(
    shop: Shop, customer: Customer, lines: list[tuple[str, int]], card: str, code: str | None = None
) -> Order | None:
    """Place an order; business-rule failures are reported, not raised."""
    try:
        order = shop.orders.place_order(customer.id, lines, card, discount_code=code)
    except ValidationError as exc:
        shop.audit.record("order.rejected", customer=customer.id, reason=str(exc))
        print(f"  order for {customer.name} rejected: {exc}")
        return None
    note = f", {code} saved {order.discount}" if order.discount.cents else ""
    print(f"  order {order.id} for {customer.name}: {order.item_count()} units, "
          f"total {order.total()}{note} ({order.auth_code})")
    return order


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="shop-demo-") as tmp:
        storage = FileStorage(Path(tmp))
        shop = build_shop(storage)
        try:
            ada = register(shop, "Ada Lovelace", "Ada@Example.org")
            grace = register(shop, "Grace Hopper", " grace@example.org ")
            print(f"Shop demo: {len(CATALOG)} products, {len(shop.customers)} customers")

            visa, mastercard = "4111 1111 1111 1111", "5500 0000 0000 0004"
            checkout(shop, ada, [("WIDGET-1", 2), ("GADGET-2", 1)], visa, "WELCOME10")
            checkout(shop, grace, [("WIDGET-1", 10), ("GIZMO-3", 1)], mastercard, "BULK15")
            checkout(shop, grace, [("GIZMO-3", 5)], mastercard)  # only 1 Gizmo left: rejected

            written = shop.reports.export("orders.jsonl")
            summary = shop.reports.summarize("orders.jsonl")
        finally:
            shop.audit.stop()  # drain the queue and join the thread
        print(f"Report: {written} orders exported, {summary.units} units, "
              f"revenue {summary.revenue}, best customer {summary.best_customer}")
        events = sum(1 for _ in storage.iter_records("audit.jsonl"))
        print(f"Audit: {events} events written by the {shop.audit.name} thread")


if __name__ == "__main__":
    main()
