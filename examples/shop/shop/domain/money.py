from __future__ import annotations

from dataclasses import dataclass

from shop.util import format_money


@dataclass(frozen=True)
class Money:
    cents: int
    currency: str = "USD"

    @classmethod
    def zero(cls, currency: str = "USD") -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str = "USD") -> Money:
        """Money.parse("19.99") -> Money(1999)."""
        whole, _, frac = text.partition(".")
        return cls(int(whole) * 100 + int((frac + "00")[:2]), currency)

    def __add__(self, other: Money) -> Money:
        self._check_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check_currency(other)
        return Money(self.cents - other.cents, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.cents * quantity, self.currency)

    def percent(self, rate: int) -> Money:
        """rate in percent, rounded half up to the cent."""
        return Money((self.cents * rate + 50) // 100, self.currency)

    def _check_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __str__(self) -> str:
        return format_money(self.cents, self.currency)
