from shop.repositories.memory import (
    CustomerRepository,
    InMemoryRepository,
    OrderRepository,
    ProductRepository,
    StockRepository,
)

__all__ = [
    "CustomerRepository",
    "InMemoryRepository",
    "OrderRepository",
    "ProductRepository",
    "StockRepository",
]
