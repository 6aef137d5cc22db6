"""A stateful calculator that delegates to calc.ops."""
from __future__ import annotations

from calc import ops

RATE = 1.0  # tests monkeypatch this


class Calculator:
    def __init__(self) -> None:
        self.memory = 0.0

    def plus(self, x: float) -> float:
        self.memory = ops.add(self.memory, x)
        return self.memory

    def per(self, x: float) -> float:
        self.memory = ops.divide(self.memory, x)
        return self.memory

    def scaled(self, x: float) -> float:
        return self.plus(x * RATE)
