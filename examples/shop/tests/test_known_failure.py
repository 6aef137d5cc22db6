"""This test fails on purpose: it shows how a failing test looks in Skeleton's report.

The bulk discount needs 10 units in the order; the test expects it on 9.
"""
from __future__ import annotations

from app import checkout


def test_bulk_discount_on_nine_units(shop, ada):
    order = checkout(shop, ada, [("WIDGET-1", 9)], "4111 1111 1111 1111", "BULK15")
    assert order.discount.cents > 0, "BULK15 should apply to 9 units"
