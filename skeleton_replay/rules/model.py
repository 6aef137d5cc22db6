"""The rules of a rule file, validated (load.py builds them; evaluation.py checks them on a snapshot)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .patterns import Pattern

KINDS = ("layers", "forbidden", "independence", "io")
# What "I/O of this kind" may mean once runs record I/O boundaries (see evaluation.io_uses).
IO_KINDS = ("file", "network", "subprocess", "database", "console", "env")


@dataclass(frozen=True)
class Ignore:
    """`ignore = ["CALLER -> CALLEE"]`: calls a rule lets through."""

    text: str
    caller: Pattern
    callee: Pattern

    def matches(self, caller: dict[str, Any], callee: dict[str, Any]) -> bool:
        return self.caller.matches(caller) and self.callee.matches(callee)


@dataclass(frozen=True)
class Rule:
    kind: str  # one of KINDS
    name: str
    ignore: tuple[Ignore, ...] = ()

    def patterns(self) -> tuple[Pattern, ...]:
        raise NotImplementedError


@dataclass(frozen=True)
class Layers(Rule):
    """Calls may only go downward: a node of layer i may call layers i..n-1, never a layer above it."""

    layers: tuple[tuple[Pattern, ...], ...] = ()

    def patterns(self) -> tuple[Pattern, ...]:
        return tuple(p for layer in self.layers for p in layer)


@dataclass(frozen=True)
class Forbidden(Rule):
    """No node matching `callers` may call a node matching `callees`."""

    callers: tuple[Pattern, ...] = ()
    callees: tuple[Pattern, ...] = ()

    def patterns(self) -> tuple[Pattern, ...]:
        return self.callers + self.callees


@dataclass(frozen=True)
class Independence(Rule):
    """No calls between the groups: each pattern in `modules` is one group."""

    modules: tuple[Pattern, ...] = ()

    def patterns(self) -> tuple[Pattern, ...]:
        return self.modules


@dataclass(frozen=True)
class IO(Rule):
    """Only `actors` may do I/O of `io_kind` (evaluated once a run records its I/O boundaries)."""

    io_kind: str = "file"
    actors: tuple[Pattern, ...] = ()

    def patterns(self) -> tuple[Pattern, ...]:
        return self.actors


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    source: str  # the file the rules came from
    table: str = ""  # "[tool.skeleton.rules]" for a pyproject.toml, "" for a rule file
