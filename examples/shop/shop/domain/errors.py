class ValidationError(Exception):
    """An order or customer broke a business rule."""


class InsufficientStockError(ValidationError):
    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(
            f"insufficient stock for {sku} (requested {requested}, available {available})"
        )
        self.sku = sku
        self.requested = requested
        self.available = available
