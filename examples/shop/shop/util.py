"""Small helpers shared across the shop package."""

import re

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Turn "Ada Lovelace" into "ada-lovelace"."""
    return _NON_WORD.sub("-", text.lower()).strip("-")


def format_money(cents: int, currency: str = "USD") -> str:
    """Format an amount in cents for people: 12345 -> "$123.45"."""
    symbol = {"USD": "$", "EUR": "€"}.get(currency, currency + " ")
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{symbol}{whole:,}.{frac:02d}"
