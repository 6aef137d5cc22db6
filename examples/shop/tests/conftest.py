"""Fixtures for the shop demo's tests: a fresh shop per test, stored in a temporary folder."""
from __future__ import annotations

from pathlib import Path

import pytest

from app import Shop, build_shop, register
from shop.adapters import FileStorage
from shop.domain import Customer


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    shop = build_shop(FileStorage(tmp_path))
    yield shop
    shop.audit.stop()


@pytest.fixture
def ada(shop: Shop) -> Customer:
    return register(shop, "Ada Lovelace", "Ada@Example.org")
