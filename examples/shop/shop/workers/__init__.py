from shop.workers.audit import AuditLogger

__all__ = ["AuditLogger"]
