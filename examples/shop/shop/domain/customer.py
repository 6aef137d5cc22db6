from __future__ import annotations

from dataclasses import dataclass

from shop.domain.errors import ValidationError
from shop.util import slugify


@dataclass
class Customer:
    id: str
    name: str
    email: str

    @classmethod
    def create(cls, name: str, email: str) -> Customer:
        """Factory: derive the id from the name and normalise the e-mail."""
        return cls(id=slugify(name), name=name, email=cls.normalize_email(email))

    @staticmethod
    def normalize_email(email: str) -> str:
        email = email.strip().lower()
        if "@" not in email:
            raise ValidationError(f"not an e-mail address: {email!r}")
        return email
