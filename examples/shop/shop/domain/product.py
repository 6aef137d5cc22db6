from dataclasses import dataclass

from shop.domain.money import Money


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Money
