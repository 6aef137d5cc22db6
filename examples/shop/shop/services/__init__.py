from shop.services.inventory import InventoryService
from shop.services.orders import OrderService
from shop.services.pricing import PricingService
from shop.services.reporting import ReportService

__all__ = ["InventoryService", "OrderService", "PricingService", "ReportService"]
