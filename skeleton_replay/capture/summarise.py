"""Safe summaries of runtime values.

Never calls user code: builtin values are recognised by exact type checks (a dict
subclass is an object, not a container), nothing is iterated except exact builtin
containers, and anything else is described by its class name and a run-local id.
Summaries are plain JSON-able dicts (see docs/trace-format.md).
"""
from __future__ import annotations

import re
from collections import deque
from typing import Any, Callable, Iterable

STR_LIMIT = 80
BYTES_LIMIT = 32
ITEMS_LIMIT = 5
DEPTH_LIMIT = 3
INT_DIGITS_LIMIT = 40

DEFAULT_SECRET_NAMES = (
    "password", "passwd", "pwd", "token", "secret", "key", "auth", "credential",
    "cookie", "session", "jwt", "private", "ssn", "card_number", "cardnumber", "credit_card", "cvv",
)

_VALUE_PATTERNS = (
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}",  # JWT
    r"(?i:\bbearer\s+[A-Za-z0-9._~+/=-]{8,})",  # bearer token
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key id
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",  # PEM private key block
    r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@",  # URL with a password
    r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",  # GitHub token
    r"\bxox[abpr]-[A-Za-z0-9-]{10,}",  # Slack token
)

_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8(s: str) -> str:
    """s with lone surrogates (undecodable bytes of file names, argv, the environment) as U+FFFD:
    JSON text must be valid UTF-8."""
    return s if s.isascii() else _SURROGATE.sub("\ufffd", s)


_type = type
_type_qualname = type.__dict__["__qualname__"].__get__
_type_module = type.__dict__["__module__"].__get__


def class_path(cls: type) -> tuple[str, str]:
    """(module, qualname) of a class, read from the type itself (no user code)."""
    try:
        module = _type_module(cls)
    except Exception:
        module = None
    try:
        qualname = _type_qualname(cls)
    except Exception:
        qualname = "?"
    if not isinstance(module, str):
        module = "?"
    if _type(qualname) is not str:
        qualname = "?"
    return module, qualname


class Summariser:
    """Builds safe summaries; configured once per run."""

    def __init__(
        self,
        secret_names: Iterable[str] = DEFAULT_SECRET_NAMES,
        extra_value_patterns: Iterable[str] = (),
        object_id: Callable[[Any], int] | None = None,
    ) -> None:
        names = tuple(n.lower() for n in secret_names if n)
        self._secret_name_re = re.compile("|".join(re.escape(n) for n in names)) if names else None
        self._value_re = re.compile("|".join(_VALUE_PATTERNS))
        # Each compiled on its own: a user's pattern may carry inline flags or groups of its own.
        self._extra_res = tuple(re.compile(p) for p in extra_value_patterns)
        self._object_id = object_id or id
        self._name_cache: dict[str, bool] = {}

    # -- redaction ---------------------------------------------------------
    def secret_name(self, name: str) -> bool:
        hit = self._name_cache.get(name)
        if hit is None:
            hit = bool(self._secret_name_re and self._secret_name_re.search(name.lower()))
            if len(self._name_cache) < 10_000:
                self._name_cache[name] = hit
        return hit

    def secret_value(self, text: str) -> bool:
        if self._value_re.search(text) is not None:
            return True
        for r in self._extra_res:
            if r.search(text) is not None:
                return True
        return False

    def redact_argv(self, argv: Iterable[str]) -> list[str]:
        """Command-line words that look like secrets (by value) become '<redacted>'."""
        return ["<redacted>" if self.secret_value(a) else a for a in argv]

    def redacted(self, value: Any) -> dict:
        t = _type(value)
        out: dict = {"type": _type_name(t), "redacted": True}
        if t is str or t is bytes or t is bytearray:
            out["len"] = len(value)
        return out

    # -- summaries ---------------------------------------------------------
    def args(self, names: Iterable[str], values: Iterable[Any]) -> dict:
        return {name: self.value(v, name) for name, v in zip(names, values)}

    def value(self, value: Any, name: str | None = None) -> dict:
        try:
            if name is not None and self.secret_name(name):
                return self.redacted(value)
            return self._summarise(value, DEPTH_LIMIT, set())
        except Exception as exc:  # never let a summary break the program
            return {"type": "?", "note": f"summary failed: {_type_name(_type(exc))}"}

    def exception(self, exc: BaseException) -> dict:
        """{"type": ..., "message": <safe summary>} for an exception object."""
        cls = _type(exc)
        module, qualname = class_path(cls)
        type_name = qualname if module in ("builtins", "?") else f"{module}.{qualname}"
        message: Any = None
        try:
            args = BaseException.__dict__["args"].__get__(exc)
        except Exception:
            args = ()
        if _type(args) is tuple and len(args) == 1 and _type(args[0]) is str:
            message = self._summarise(args[0], 1, set())
        elif _type(args) is tuple and len(args) == 1:  # SystemExit(0), KeyError(key): the value itself
            message = self._summarise(args[0], 2, set())
        elif _type(args) is tuple and args:
            message = self._summarise(args, 2, set())
        else:
            message = {"type": "str", "value": ""}
        return {"type": type_name, "message": message}

    def _summarise(self, v: Any, depth: int, seen: set) -> dict:
        t = _type(v)
        if v is None:
            return {"type": "None"}
        if t is bool:
            return {"type": "bool", "value": v}
        if t is int:
            if -(10**15) < v < 10**15:
                return {"type": "int", "value": v}
            return self._big_int(v)
        if t is float:
            if v != v or v in (float("inf"), float("-inf")):
                return {"type": "float", "value": repr(v)}
            return {"type": "float", "value": v}
        if t is str:
            if self.secret_value(v if len(v) <= 4096 else v[:4096]):
                return self.redacted(v)
            if len(v) > STR_LIMIT:
                return {"type": "str", "value": utf8(v[:STR_LIMIT]), "len": len(v), "truncated": True}
            return {"type": "str", "value": v if v.isascii() else utf8(v)}
        if t is bytes or t is bytearray:
            head = bytes(v[:BYTES_LIMIT])
            out = {"type": t.__name__, "value": head.decode("latin-1"), "len": len(v)}
            if len(v) > BYTES_LIMIT:
                out["truncated"] = True
            return out
        if t is complex:
            return {"type": "complex", "value": repr(v)}
        if t is list or t is tuple or t is set or t is frozenset or t is deque:
            return self._sequence(v, t, depth, seen)
        if t is dict:
            return self._mapping(v, depth, seen)
        if t is type:
            module, qualname = class_path(v)
            return {"type": "type", "value": f"{module}.{qualname}"}
        return self._object(v, t)

    def _big_int(self, v: int) -> dict:
        bits = v.bit_length()
        if bits > 4000:  # str() would be slow (and limited) for huge ints
            return {"type": "int", "value": f"<{bits}-bit int>", "truncated": True}
        s = str(v)
        if len(s) > INT_DIGITS_LIMIT:
            return {"type": "int", "value": s[:INT_DIGITS_LIMIT] + "…", "len": len(s), "truncated": True}
        return {"type": "int", "value": s}

    def _sequence(self, v: Any, t: type, depth: int, seen: set) -> dict:
        n = len(v)  # exact builtin type: C length, no user code
        out: dict = {"type": t.__name__, "len": n}
        key = id(v)
        if depth <= 0 or key in seen:
            out["truncated"] = n > 0
            return out
        seen.add(key)
        if t is set or t is frozenset:
            # Iterating a builtin set hashes nothing; element order is the set's own.
            head = []
            for i, item in enumerate(v):
                if i >= ITEMS_LIMIT:
                    break
                head.append(item)
        elif t is deque:
            head = [v[i] for i in range(min(n, ITEMS_LIMIT))]
        else:
            head = v[:ITEMS_LIMIT]
        out["items"] = [self._summarise(item, depth - 1, seen) for item in head]
        if n > ITEMS_LIMIT:
            out["truncated"] = True
        seen.discard(key)
        return out

    def _mapping(self, v: dict, depth: int, seen: set) -> dict:
        n = len(v)
        out: dict = {"type": "dict", "len": n}
        key = id(v)
        if depth <= 0 or key in seen:
            out["truncated"] = n > 0
            return out
        seen.add(key)
        entries = []
        for i, (k, item) in enumerate(dict.items(v)):
            if i >= ITEMS_LIMIT:
                break
            ks = self._summarise(k, 1, seen)
            if _type(k) is str and self.secret_name(k):
                entries.append([ks, self.redacted(item)])
            else:
                entries.append([ks, self._summarise(item, depth - 1, seen)])
        out["entries"] = entries
        if n > ITEMS_LIMIT:
            out["truncated"] = True
        seen.discard(key)
        return out

    def _object(self, v: Any, t: type) -> dict:
        module, qualname = class_path(t)
        name = qualname if module in ("builtins", "?") else f"{module}.{qualname}"
        out = {"type": name, "id": self._object_id(v)}
        return out


def _type_name(t: type) -> str:
    module, qualname = class_path(t)
    return qualname if module in ("builtins", "?") else f"{module}.{qualname}"
