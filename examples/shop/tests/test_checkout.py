"""Checkout: orders, discounts, stock and the sales report."""
from __future__ import annotations

import pytest

from app import checkout
from shop.domain import ValidationError

VISA = "4111 1111 1111 1111"


def test_register_normalises_email(shop, ada):
    assert ada.email == "ada@example.org"
    assert len(shop.customers) == 1


@pytest.mark.parametrize("code, units, discount_cents", [
    ("WELCOME10", 2, 100),  # 10% of 2 x 4.99, rounded
    ("BULK15", 10, 749),  # 15% of 10 x 4.99
    ("BULK15", 2, 0),  # too few units for the bulk discount
])
def test_discount_codes(shop, ada, code, units, discount_cents):
    order = checkout(shop, ada, [("WIDGET-1", units)], VISA, code)
    assert order is not None
    assert order.discount.cents == discount_cents


def test_unknown_discount_code_is_rejected(shop, ada):
    with pytest.raises(ValidationError, match="unknown discount code"):
        shop.orders.place_order(ada.id, [("WIDGET-1", 1)], VISA, discount_code="FREE")


def test_checkout_rejects_what_is_not_in_stock(shop, ada):
    assert checkout(shop, ada, [("GIZMO-3", 5)], VISA) is None
    assert len(list(shop.orders.orders.all())) == 0


def test_sales_report(shop, ada):
    checkout(shop, ada, [("WIDGET-1", 2)], VISA)
    checkout(shop, ada, [("GADGET-2", 1)], VISA)
    assert shop.reports.export("orders.jsonl") == 2
    summary = shop.reports.summarize("orders.jsonl")
    assert summary.units == 3


@pytest.mark.skip(reason="gift cards are not built yet")
def test_gift_cards(shop, ada):
    raise AssertionError("unreachable")


@pytest.mark.xfail(reason="refunds are not built yet", strict=True)
def test_refunds(shop, ada):
    order = checkout(shop, ada, [("WIDGET-1", 1)], VISA)
    shop.orders.refund(order.id)
