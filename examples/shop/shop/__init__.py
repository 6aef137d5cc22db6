"""A tiny online shop: domain model, services, repositories and adapters."""
