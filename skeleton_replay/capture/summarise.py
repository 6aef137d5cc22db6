"""Safe summaries of runtime values.

Never calls user code: builtin values are recognised by exact type checks (a dict
subclass is an object, not a container), nothing is iterated except exact builtin
containers, and anything else is described by its class name and a run-local id.
Summaries are plain JSON-able dicts (see docs/trace-format.md).
"""

from __future__ import annotations

import re

# Bound at import, before the program runs: a builtin the program replaces is never called here.
from builtins import bool, bytes, enumerate, float, id, len, min, range, repr, set, str, zip
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from .origin import foreign
from .redact import DEFAULT_SECRET_NAMES, NONE, PRIVATE_KEY_MARK, SHORTEST_SECRET, STRONG, Redactor

__all__ = ["DEFAULT_SECRET_NAMES", "STR_LIMIT", "Summariser", "class_path", "utf8"]

Summary = dict[str, Any]  # a value's summary: plain JSON-able data (docs/trace-format.md)

STR_LIMIT = 80
BYTES_LIMIT = 32
ITEMS_LIMIT = 5
DEPTH_LIMIT = 3
INT_DIGITS_LIMIT = 40
# Strings are scanned for secrets only as far as they are written, plus this margin: a secret that
# starts before the cut and ends after it is still found, one that starts after it is never shown.
SCAN_MARGIN = 128
STR_WINDOW = STR_LIMIT + SCAN_MARGIN
BYTES_WINDOW = BYTES_LIMIT + SCAN_MARGIN
# Windows found clean are remembered (until a new secret is learned): a text handed on from call to
# call (returned by one, passed to the next) is scanned once. Shorter strings cost less to scan than to look up.
CLEAN_MIN = 48
CLEAN_LIMIT = 256  # windows remembered at most (~70 KB), then forgotten all at once
# Shorter strings (SHORTEST_SECRET to CLEAN_MIN characters: names, keywords, SQL fragments) are remembered apart,
# so that a run of short strings never pushes the long windows out: a look-up costs less than the pattern gate.
SHORT_CLEAN_LIMIT = 2048  # (~200 KB at most)

_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8(s: str) -> str:
    """s with lone surrogates (undecodable bytes of file names, argv, the environment) as U+FFFD:
    JSON text must be valid UTF-8."""
    return s if s.isascii() else _SURROGATE.sub("\ufffd", s)


_type = type
_type_qualname = type.__dict__["__qualname__"].__get__
_type_module = type.__dict__["__module__"].__get__
_type_flags = type.__dict__["__flags__"].__get__
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a static type's __qualname__ and __module__ never change

# The summaries of None, True and False: shared, like every summary they are never changed after they are made.
_NONE: Summary = {"type": "None"}
_TRUE: Summary = {"type": "bool", "value": True}
_FALSE: Summary = {"type": "bool", "value": False}
CLASS_NAMES_LIMIT = 4096  # classes whose names are remembered at most, then forgotten all at once


def class_path(cls: type) -> tuple[str, str]:
    """(module, qualname) of a class, read from the type itself (no user code)."""
    try:
        module = _type_module(cls)
    except Exception as exc:
        if foreign(exc):
            raise
        module = None
    try:
        qualname = _type_qualname(cls)
    except Exception as exc:
        if foreign(exc):
            raise
        qualname = "?"
    if _type(module) is not str:  # exact: a str subclass's methods are user code, and it cannot be marshalled
        module = "?"
    if _type(qualname) is not str:
        qualname = "?"
    return module, qualname


class Summariser:
    """Builds safe summaries; configured once per run.

    Redaction (docs/safety.md): by name (arguments, dict keys, secret-named functions' results),
    by value (patterns, scanned over what is written plus SCAN_MARGIN), and by memory: every value
    redacted once is a known secret for the rest of the run, redacted wherever it shows up again.
    """

    def __init__(
        self,
        secret_names: Iterable[str] = DEFAULT_SECRET_NAMES,
        extra_value_patterns: Iterable[str] = (),
        object_id: Callable[[Any], int] | None = None,
    ) -> None:
        self.redactor = Redactor(secret_names, extra_value_patterns)
        self.names = self.redactor.names
        self.known = self.redactor.known
        self._scan = self.redactor.scan
        self._object_id = object_id or id
        self._clean: dict[str, None] = {}  # string windows scanned and found clean ...
        self._clean_version = 0  # ... while the known secrets were at this version
        self._clean_short: dict[str, None] = {}  # the same for strings shorter than CLEAN_MIN
        self._levels = self.names._cache  # name -> redaction level, as decided so far (NameRules.level)
        self._no_extra = not self.redactor.extra  # no user patterns: a string shorter than any secret is clean
        # id(class) -> (its __qualname__, its __module__, an object's type name, a redacted value's type name):
        # valid while the class still has these very __qualname__ and __module__ objects (see _class_names)
        self._class_names: dict[int, tuple[Any, Any, str, str]] = {}
        # The name nodes use for the script's module: objects of its classes say `shop.Cart`, not `__main__.Cart`
        self._main_module = "__main__"

    @property
    def main_module(self) -> str:
        return self._main_module

    @main_module.setter
    def main_module(self, name: str) -> None:
        self._main_module = name
        self._class_names.clear()  # the names of __main__'s classes change

    # -- redaction ---------------------------------------------------------
    def secret_name(self, name: str) -> bool:
        """An argument, dict key, option or header name under which values are redacted."""
        return self.names.level(name) != NONE

    def secret_callable(self, qualname: str) -> bool:
        """A function or property (by its name, or qualified name) whose results are redacted:
        get_password(), Settings.database_password, load_api_key(). The tracer decides this once
        per code object and summarises such a function's return and yielded values with secret_result()."""
        return self.names.secret_callable(qualname)

    def secret_value(self, text: str) -> bool:
        """text holds a secret-looking value or a known secret (a match is remembered). Scans all of
        text, in linear time: bound what you pass (summaries pass STR_WINDOW characters)."""
        return self._scan(text)

    def learn(self, value: Any) -> None:
        """Remember a str/bytes value as a known secret (values too short or too plain are not)."""
        self.redactor.learn(value)

    def redacted(self, value: Any, learn: bool = True) -> Summary:
        """The summary of a secret: type and length only. A str/bytes value becomes a known secret."""
        t = _type(value)
        out: Summary = {"type": self._class_names_of(t)[3], "redacted": True}
        if t is str or t is bytes or t is bytearray:
            out["len"] = len(value)
            if learn:
                self.learn(value)
        return out

    def secret_result(self, value: Any) -> Summary:
        """A value returned or yielded by a secret-named callable: data (str, bytes, numbers,
        builtin containers) is redacted; None, booleans, classes and objects (a summary of an object
        holds no data, only its class and id) are summarised as usual."""
        t = _type(value)
        if value is None or t is bool or t is type or id(t) not in _DATA_IDS:  # (hashing t may run its metaclass's)
            return self.value(value)
        return self.redacted(value)

    def scrub_text(self, text: str) -> str:
        """Free text (a failure message, an error message): each secret-looking piece and each known
        secret in it replaced by '<redacted>', the rest kept. Scans all of text: bound it."""
        return self.redactor.scrub_text(text)

    def redact_argv(self, argv: Iterable[str]) -> list[str]:
        """A command line with secrets replaced by '<redacted>': secret-looking words, known
        secrets, and the values of secret-named options (`--password X`, `--api-key=X`, `DB_PASSWORD=X`)."""
        return self.redactor.redact_argv(argv)

    # -- summaries ---------------------------------------------------------
    def args(self, names: Iterable[str], values: Iterable[Any]) -> Summary:
        return {name: self.value(v, name) for name, v in zip(names, values, strict=False)}

    def value(self, value: Any, name: str | None = None) -> Summary:
        """value's summary (the same dict may be returned again: never change a summary)."""
        if value is None:  # None/True/False hide nothing, whatever their name
            return _NONE
        t = _type(value)
        if t is bool:
            return _TRUE if value else _FALSE
        try:
            if name is not None:
                level = self._levels.get(name)
                if level is None:
                    level = self.names.level(name)
                if level:
                    return self.redacted(value, learn=level == STRONG)
            # (an int goes on to _summarise too: returning here, one frame earlier, changed what the C hooks
            # record at the recursion limit: tests/hostile/test_scale.py::test_program_that_catches_recursion_errors)
            return self._summarise(value, DEPTH_LIMIT, None)
        except Exception as exc:  # never let a summary break the program
            if foreign(exc):  # a signal handler's exception (not the summary's): the program's
                raise
            return self._failed(exc)

    def _failed(self, exc: BaseException) -> Summary:
        """The summary of a value whose summary failed with Skeleton's own exc (also the C twin's)."""
        return {"type": "?", "note": f"summary failed: {_type_name(_type(exc))}"}

    def exception(self, exc: BaseException) -> Summary:
        """{"type": ..., "message": <safe summary>} for an exception object."""
        cls = _type(exc)
        module, qualname = class_path(cls)
        type_name = qualname if module in ("builtins", "?") else f"{module}.{qualname}"
        message: Any = None
        try:
            args = BaseException.__dict__["args"].__get__(exc)
        except Exception as err:
            if foreign(err):
                raise
            args = ()
        if _type(args) is tuple and len(args) == 1 and _type(args[0]) is str:
            message = self._summarise(args[0], 1, None)
        elif _type(args) is tuple and len(args) == 1:  # SystemExit(0), KeyError(key): the value itself
            message = self._summarise(args[0], 2, None)
        elif _type(args) is tuple and args:
            message = self._summarise(args, 2, None)
        else:
            message = {"type": "str", "value": ""}
        return {"type": type_name, "message": message}

    def _summarise(self, v: Any, depth: int, seen: set[int] | None) -> Summary:
        """seen: the ids of the containers being summarised around v (None: none yet)."""
        t = _type(v)
        if v is None:
            return _NONE
        if t is bool:
            return _TRUE if v else _FALSE
        if t is int:
            if -(10**15) < v < 10**15:
                return {"type": "int", "value": v}
            return self._big_int(v)
        if id(t) not in _BUILTIN_IDS:  # an object: its class and id (one test instead of one per builtin type)
            return self._object(v, t)
        if t is float:
            if v != v or v in (float("inf"), float("-inf")):
                return {"type": "float", "value": repr(v)}
            return {"type": "float", "value": v}
        if t is str:
            n = len(v)
            if n < SHORTEST_SECRET and self._no_extra:  # no pattern or known secret fits in it
                return {"type": "str", "value": v if v.isascii() else utf8(v)}
            if self._secret_str(v if n <= STR_WINDOW else v[:STR_WINDOW], v):
                return self.redacted(v)
            if n > STR_LIMIT:
                return {"type": "str", "value": utf8(v[:STR_LIMIT]), "len": n, "truncated": True}
            return {"type": "str", "value": v if v.isascii() else utf8(v)}
        if t is bytes or t is bytearray:
            if self._scan(bytes(v[:BYTES_WINDOW]).decode("latin-1")):
                return self.redacted(v)
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

    def _secret_str(self, window: str, whole: str) -> bool:
        """self._scan(window, whole), skipped for a window found clean since the last secret was learned."""
        short = len(window) < CLEAN_MIN
        clean = self._clean_short if short else self._clean
        version = self.known.version
        if version != self._clean_version:  # a new known secret may be in any of them
            self._clean.clear()
            self._clean_short.clear()
            self._clean_version = version
        elif window in clean:  # exact str: its hash and == are str's own
            return False
        if self._scan(window, whole):
            return True
        if len(clean) >= (SHORT_CLEAN_LIMIT if short else CLEAN_LIMIT):
            clean.clear()
        clean[window] = None  # a secret learned meanwhile (another thread) changes the version: cleared next time
        return False

    def _big_int(self, v: int) -> Summary:
        bits = v.bit_length()
        if bits > 4000:  # str() would be slow (and limited) for huge ints
            return {"type": "int", "value": f"<{bits}-bit int>", "truncated": True}
        s = str(v)
        if len(s) > INT_DIGITS_LIMIT:
            return {"type": "int", "value": s[:INT_DIGITS_LIMIT] + "…", "len": len(s), "truncated": True}
        return {"type": "int", "value": s}

    def _sequence(self, v: Any, t: type, depth: int, seen: set[int] | None) -> Summary:
        n = len(v)  # exact builtin type: C length, no user code
        out: Summary = {"type": t.__name__, "len": n}
        key = id(v)
        if seen is None:
            seen = set()
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
        items = out["items"] = []
        after_key = False  # the lines of a private key: once its first line is seen, the rest are secret
        for item in head:
            if after_key:
                items.append(self.redacted(item))
                continue
            ti = _type(item)
            level = self._pair_name_level(item) if (ti is tuple or ti is list) and len(item) == 2 else NONE
            if level:  # ("Authorization", "Basic …"): headers and form fields often come as pairs
                items.append(
                    {
                        "type": _type(item).__name__,
                        "len": 2,
                        "items": [self._summarise(item[0], 1, seen), self.redacted(item[1], learn=level == STRONG)],
                    }
                )
                continue
            summary = self._summarise(item, depth - 1, seen)
            items.append(summary)
            after_key = "redacted" in summary and _private_key_head(item)  # (a redacted summary says True)
        if n > ITEMS_LIMIT:
            out["truncated"] = True
        seen.discard(key)
        return out

    def _pair_name_level(self, item: Any) -> int:
        """For a (name, value) pair (a tuple or list of two whose first item is a str or bytes): how
        secret its name is (redact.NONE, WEAK or STRONG); NONE for anything else."""
        t = _type(item)
        if (t is not tuple and t is not list) or len(item) != 2:
            return NONE
        name = item[0]
        tn = _type(name)
        if tn is bytes:
            name = name[:64].decode("latin-1")
        elif tn is not str:
            return NONE
        return self.names.level(str.__getitem__(name, slice(0, 64)))

    def _mapping(self, v: dict[Any, Any], depth: int, seen: set[int] | None) -> Summary:
        n = len(v)
        out: Summary = {"type": "dict", "len": n}
        key = id(v)
        if seen is None:
            seen = set()
        if depth <= 0 or key in seen:
            out["truncated"] = n > 0
            return out
        seen.add(key)
        entries = []
        after_key = False  # a private key's lines as values: once its first line is seen, the rest are secret
        for i, (k, item) in enumerate(dict.items(v)):
            if i >= ITEMS_LIMIT:
                break
            ks = self._summarise(k, 1, seen)
            level = self.names.level(k) if _type(k) is str else NONE
            if level or after_key:
                entries.append([ks, self.redacted(item, learn=after_key or level == STRONG)])
            else:
                summary = self._summarise(item, depth - 1, seen)
                entries.append([ks, summary])
                after_key = summary.get("redacted", False) and _private_key_head(item)
        out["entries"] = entries
        if n > ITEMS_LIMIT:
            out["truncated"] = True
        seen.discard(key)
        return out

    def _object(self, v: Any, t: type) -> Summary:
        return {"type": self._class_names_of(t)[2], "id": self._object_id(v)}

    def _class_names_of(self, t: type) -> tuple[Any, Any, str, str]:
        """(__qualname__, __module__, an object's type name, a redacted value's type name) of class t.

        The names are made from t's __qualname__ and __module__ objects alone (class_path), read from the
        type itself each time: a remembered entry is used while t still holds these very objects (a class
        renamed since, or a new class at a freed one's address, gets its own names). A static type's
        names never change."""
        cache = self._class_names
        hit = cache.get(id(t))
        if hit is not None:
            q = hit[0]
            if q is None:
                return hit
            try:
                if q is _type_qualname(t) and hit[1] is _type_module(t):
                    return hit
            except Exception as exc:
                if foreign(exc):
                    raise
        module, qualname = class_path(t)
        plain_name = qualname if module in ("builtins", "?") else f"{module}.{qualname}"
        shown = self._main_module if module == "__main__" else module
        name = qualname if shown in ("builtins", "?") else f"{shown}.{qualname}"
        entry: tuple[Any, Any, str, str] = (None, None, name, plain_name)
        try:
            if _type_flags(t) & _HEAPTYPE:
                q, m = _type_qualname(t), _type_module(t)
                if _type(q) is not str or _type(m) is not str or q != qualname or m != module:
                    return entry  # not remembered: read again next time (class_path's "?")
                entry = (q, m, name, plain_name)
        except Exception as exc:
            if foreign(exc):
                raise
            return entry
        if len(cache) >= CLASS_NAMES_LIMIT:
            cache.clear()
        cache[id(t)] = entry
        return entry


def _private_key_head(item: Any) -> bool:
    t = _type(item)
    if t is str:
        return PRIVATE_KEY_MARK in item[:STR_WINDOW]
    if t is bytes or t is bytearray:
        return PRIVATE_KEY_MARK.encode() in item[:BYTES_WINDOW]
    return False


_DATA_TYPES = frozenset({str, bytes, bytearray, int, float, complex, list, tuple, set, frozenset, deque, dict})
# The types _summarise knows, by id (hashing a class may call its metaclass's __hash__: user code)
_BUILTIN_IDS = frozenset(id(t) for t in (*_DATA_TYPES, bool, type(None), type))
_DATA_IDS = frozenset(id(t) for t in _DATA_TYPES)


def _type_name(t: type) -> str:
    module, qualname = class_path(t)
    return qualname if module in ("builtins", "?") else f"{module}.{qualname}"
