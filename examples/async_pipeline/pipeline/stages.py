from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Payment:
    user: str
    amount: Decimal
    currency: str


class MalformedRecord(ValueError):
    pass


def parse(line: str) -> Payment:
    parts = line.split(",")
    if len(parts) != 3:
        raise MalformedRecord(f"expected 3 fields, got {len(parts)}: {line!r}")
    user, amount, currency = (p.strip() for p in parts)
    try:
        return Payment(user, Decimal(amount), currency.upper())
    except InvalidOperation:
        raise MalformedRecord(f"bad amount {amount!r} for {user}") from None


class RateService:
    """Pretend remote exchange-rate API; every lookup is an awaited round trip."""

    RATES = {"USD": Decimal("1"), "EUR": Decimal("1.10"), "GBP": Decimal("1.25")}

    def __init__(self) -> None:
        self.calls = 0
        self._cache: dict[str, Decimal] = {}

    async def rate(self, currency: str) -> Decimal:
        if currency in self._cache:
            return self._cache[currency]
        self.calls += 1
        await asyncio.sleep(0)  # the "network"
        if currency not in self.RATES:
            raise LookupError(f"no exchange rate for {currency}")
        self._cache[currency] = self.RATES[currency]
        return self._cache[currency]


async def to_usd(payment: Payment, rates: RateService) -> Decimal:
    rate = await rates.rate(payment.currency)
    return (payment.amount * rate).quantize(Decimal("0.01"))
