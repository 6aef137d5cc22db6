"""A fake card payment gateway (no network): deterministic authorisation codes."""

from __future__ import annotations

import hashlib

from shop.domain import Money


class PaymentDeclined(Exception):
    pass


class PaymentGateway:
    def __init__(self, merchant_id: str, limit: Money) -> None:
        self.merchant_id = merchant_id
        self.limit = limit

    def authorize(self, card_number: str, amount: Money, *, api_token: str) -> str:
        if not api_token.startswith("sk_"):
            raise PaymentDeclined("invalid api token")
        if amount.cents > self.limit.cents:
            raise PaymentDeclined(f"{amount} is over the {self.limit} limit")
        digest = hashlib.sha256(
            f"{self.merchant_id}:{self.mask(card_number)}:{amount.cents}".encode()
        ).hexdigest()
        return "AUTH-" + digest[:8].upper()

    @staticmethod
    def mask(card_number: str) -> str:
        digits = card_number.replace(" ", "")
        return "*" * (len(digits) - 4) + digits[-4:]
