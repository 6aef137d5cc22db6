from shop.domain.customer import Customer
from shop.domain.errors import InsufficientStockError, ValidationError
from shop.domain.money import Money
from shop.domain.order import LineItem, Order, OrderStatus
from shop.domain.product import Product

__all__ = [
    "Customer",
    "InsufficientStockError",
    "LineItem",
    "Money",
    "Order",
    "OrderStatus",
    "Product",
    "ValidationError",
]
