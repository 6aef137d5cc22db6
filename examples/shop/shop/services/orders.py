from __future__ import annotations

from shop.adapters import PaymentGateway
from shop.domain import Order
from shop.repositories import CustomerRepository, OrderRepository
from shop.services.inventory import InventoryService
from shop.services.pricing import PricingService
from shop.workers import AuditLogger


class OrderService:
    def __init__(
        self,
        customers: CustomerRepository,
        orders: OrderRepository,
        pricing: PricingService,
        inventory: InventoryService,
        payments: PaymentGateway,
        audit: AuditLogger,
        api_token: str,
    ) -> None:
        self.customers = customers
        self.orders = orders
        self.pricing = pricing
        self.inventory = inventory
        self.payments = payments
        self.audit = audit
        self._api_token = api_token

    def place_order(
        self,
        customer_id: str,
        lines: list[tuple[str, int]],
        card_number: str,
        discount_code: str | None = None,
    ) -> Order:
        customer = self.customers.get(customer_id)
        order = Order(id=self.orders.next_id(), customer=customer)
        for sku, quantity in lines:
            order.add_item(self.pricing.line_item(sku, quantity))
        self.inventory.reserve(order.items)  # may raise InsufficientStockError
        order.discount = self.pricing.discount_for(order, discount_code)
        auth_code = self.payments.authorize(card_number, order.total(), api_token=self._api_token)
        order.mark_paid(auth_code)
        self.orders.add(order)
        self.audit.record("order.placed", order=order.id, customer=customer.id,
                          total_cents=order.total().cents)
        return order
