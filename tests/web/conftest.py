"""Fixtures for the web integration tests (helpers live in webtrace.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from webtrace import WEBSHOP


@pytest.fixture
def webshop_root() -> Path:
    return WEBSHOP


@pytest.fixture
def rendezvous():
    """rendezvous(2): the next two requests wait for each other twice (webshop.sync)."""
    from webshop import sync

    yield sync.reset
    sync.reset(0)
