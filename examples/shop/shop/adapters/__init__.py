from shop.adapters.payment import PaymentDeclined, PaymentGateway
from shop.adapters.storage import FileStorage

__all__ = ["FileStorage", "PaymentDeclined", "PaymentGateway"]
