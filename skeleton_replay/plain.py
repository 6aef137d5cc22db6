"""Plain records: a dataclass's __repr__ and __eq__ for classes on the start-up path of every run.

@dataclass generates and compiles each class's methods when the module is imported (~3 M instructions a
class on 3.12, in every `skeleton run`); a PlainRecord subclass writes its __init__ by hand and lists its
fields in FIELDS, and gets the same repr and equality (field by field, same class only) for nothing.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any, ClassVar


class PlainRecord:
    FIELDS: ClassVar[tuple[str, ...]] = ()
    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq and without frozen

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.FIELDS)


class FrozenRecord(PlainRecord):
    """A frozen dataclass's behaviour: fields set once in __init__ (object.__setattr__), hashed together."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(getattr(self, name) for name in self.FIELDS))
