"""What a call site passes, read from its bytecode, never from the objects (I/O probes, capture/boundaries.py).

A sys.monitoring CALL event (and a setprofile 'c_call') gives the callable and, at most, its first argument:
not the SQL statement of `cursor.execute(sql, params)`, nor the `file=` of `print(x, file=sys.stderr)`. The
caller's bytecode says which instruction loaded that argument: a constant (co_consts), a local, a global or
a name. The value is then read from the frame (f_locals, f_globals: exact dicts only), and used only when
its type is exactly str. No program code runs: no __getattr__, __str__, __eq__ or property is involved.

Results are cached per (code, offset): a site is analysed once (dis), then one dict look-up.
"""

from __future__ import annotations

import re
import sys
from builtins import dict, id, len, str, type
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dis

# Where an argument comes from: ("const", value), ("local", name), ("global", name), ("name", name),
# ("attr", "stderr") for `<sys>.stderr` read from a global/name `sys`, ("dynamic", None) for a string
# built at run time (f-string, concatenation), None when unknown.
Source = tuple[str, Any] | None

_LOADERS_LOCAL = frozenset(
    ("LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_BORROW", "LOAD_DEREF", "LOAD_CLOSURE", "LOAD_FAST_AND_CLEAR")
)
_SKIP = frozenset(("NOP", "CACHE", "EXTENDED_ARG", "KW_NAMES", "PRECALL", "RESUME"))
_BINARY = frozenset(("BINARY_OP", "BINARY_SUBSCR", "COMPARE_OP", "CONTAINS_OP", "IS_OP"))
_BUILDERS = frozenset(("BUILD_TUPLE", "BUILD_LIST", "BUILD_SET", "BUILD_STRING"))
_DYNAMIC = frozenset(("BUILD_STRING", "FORMAT_VALUE", "FORMAT_SIMPLE", "FORMAT_WITH_SPEC", "BINARY_OP"))
_CALLS = frozenset(("CALL", "CALL_KW"))
MAX_SITES = 50_000

_instructions: dict[int, tuple[CodeType, list[dis.Instruction], dict[int, int]]] = {}
_sites: dict[tuple[int, int], tuple[int, tuple[str, ...]] | None] = {}
_arguments: dict[tuple[int, int, int | str], Source] = {}


def _code_instructions(code: CodeType) -> tuple[list[dis.Instruction], dict[int, int]]:
    known = _instructions.get(id(code))
    if known is not None and known[0] is code:
        return known[1], known[2]
    import dis  # (imported the first time a watched call site is examined)

    instrs = list(dis.get_instructions(code))
    at = {ins.offset: i for i, ins in enumerate(instrs)}
    if len(_instructions) < MAX_SITES:
        _instructions[id(code)] = (code, instrs, at)  # (the code kept alive: its id is not reused)
    return instrs, at


def _effect(ins: dis.Instruction) -> tuple[int, int] | None:
    """(values popped, values pushed) of the instructions met between a loader and its call; None: unknown."""
    name, arg = ins.opname, ins.arg or 0
    if name in _SKIP:
        return 0, 0
    if name in _LOADERS_LOCAL or name in ("LOAD_CONST", "LOAD_NAME", "LOAD_SMALL_INT", "PUSH_NULL", "COPY"):
        return 0, 1
    if name == "LOAD_FAST_LOAD_FAST":
        return 0, 2
    if name == "LOAD_GLOBAL":
        return 0, 1 + (arg & 1) if sys.version_info >= (3, 11) else 1
    if name == "LOAD_ATTR":
        return 1, 1 + (arg & 1) if sys.version_info >= (3, 12) else 1
    if name == "LOAD_METHOD":
        return 1, 2
    if name in _BINARY:
        return 2, 1
    if name in _BUILDERS:
        return arg, 1
    if name == "BUILD_MAP":
        return 2 * arg, 1
    if name in ("FORMAT_SIMPLE", "CONVERT_VALUE", "TO_BOOL", "UNARY_NEGATIVE", "UNARY_NOT"):
        return 1, 1
    if name == "FORMAT_WITH_SPEC":
        return 2, 1
    if name == "FORMAT_VALUE":
        return (2 if arg & 4 else 1), 1
    return None


def _producer(instrs: list[dis.Instruction], i: int, depth: int) -> Source:
    """The source of the value `depth` places below the top of the stack just before instruction i."""
    need = depth
    j = i - 1
    while j >= 0:
        ins = instrs[j]
        eff = _effect(ins)
        if eff is None:
            return None
        pops, pushes = eff
        if need < pushes:
            name = ins.opname
            pos = pushes - 1 - need  # 0: the first value it pushed
            if name == "LOAD_CONST":
                return "const", ins.argval
            if name in _LOADERS_LOCAL:
                return "local", ins.argval
            if name == "LOAD_FAST_LOAD_FAST" and type(ins.argval) is tuple and len(ins.argval) == 2:
                return "local", ins.argval[pos]
            if name == "LOAD_NAME":
                return "name", ins.argval
            if name == "LOAD_GLOBAL" and pos == pushes - 1:
                return "global", ins.argval
            if name == "LOAD_ATTR" and pushes == 1 and j > 0:
                before = instrs[j - 1]
                if before.opname in ("LOAD_GLOBAL", "LOAD_NAME") and before.argval == "sys":
                    return "attr", ins.argval
                return None
            if name in _DYNAMIC:
                return "dynamic", None
            return None
        need = need - pushes + pops
        j -= 1
    return None


def _site(code: CodeType, offset: int) -> tuple[int, tuple[str, ...]] | None:
    """(index of the call instruction, keyword names) of the call at offset (3.11: at or after it)."""
    key = (id(code), offset)
    if key in _sites:
        return _sites[key]
    instrs, at = _code_instructions(code)
    i = at.get(offset)
    found: tuple[int, tuple[str, ...]] | None = None
    while i is not None and i < len(instrs) and instrs[i].opname in ("PRECALL", "KW_NAMES", "CACHE"):
        i += 1  # 3.11's f_lasti may stand on PRECALL
    if i is not None and i < len(instrs) and instrs[i].opname in _CALLS:
        names: tuple[str, ...] = ()
        for back in (1, 2):  # KW_NAMES (3.11, 3.12: before PRECALL/CALL), CALL_KW's names constant (3.13)
            prev = instrs[i - back] if i - back >= 0 else None
            value = prev.argval if prev is not None else None
            if prev is not None and prev.opname == "KW_NAMES" and prev.arg is not None:
                value = code.co_consts[prev.arg]  # (3.11's dis does not resolve it)
            if (
                prev is not None
                and prev.opname in ("KW_NAMES", "LOAD_CONST")
                and type(value) is tuple
                and (prev.opname == "KW_NAMES" or instrs[i].opname == "CALL_KW")
            ):
                names = tuple(n for n in value if type(n) is str)
                break
            if prev is None or prev.opname != "PRECALL":
                break
        found = i, names
    if len(_sites) < MAX_SITES:
        _sites[key] = found
    return found


def argument(code: CodeType, offset: int, position: int | str) -> Source:
    """Where the call at `offset` gets its explicit argument `position` (0 = first) or keyword `position`."""
    key = (id(code), offset, position)
    if key in _arguments:
        return _arguments[key]
    found = _argument(code, offset, position)
    if len(_arguments) < MAX_SITES:
        _arguments[key] = found
    return found


def _argument(code: CodeType, offset: int, position: int | str) -> Source:
    site = _site(code, offset)
    if site is None:
        return None
    i, kwnames = site
    instrs, _ = _code_instructions(code)
    call = instrs[i]
    argc = call.arg or 0
    top = 1 if call.opname == "CALL_KW" else 0  # 3.13: the names tuple is on top of the arguments
    if isinstance(position, str):
        if position not in kwnames:
            return None
        depth = len(kwnames) - 1 - kwnames.index(position)
    else:
        if position >= argc - len(kwnames):
            return None
        depth = argc - 1 - position
    return _producer(instrs, i, depth + top)


def keywords(code: CodeType, offset: int) -> tuple[str, ...]:
    site = _site(code, offset)
    return site[1] if site is not None else ()


def text_of(source: Source, frame: FrameType) -> str | None:
    """The string a source names in this frame, when it is exactly a str (else None: never converted)."""
    if source is None:
        return None
    how, what = source
    value: object = None
    if how == "const":
        value = what
    elif how in ("local", "name"):
        try:
            value = frame.f_locals[what]  # a dict (3.12) or FrameLocalsProxy (3.13): C, no program code
        except (KeyError, TypeError):
            value = None
        if value is None and how == "name":
            g = frame.f_globals
            value = dict.get(g, what) if type(g) is dict else None
    elif how == "global":
        g = frame.f_globals
        value = dict.get(g, what) if type(g) is dict else None
    return value if type(value) is str else None


# -- SQL statements: their shape only (keyword and table names), never literals or parameters --------------
_SQL_DROP = re.compile(r"'(?:[^']|'')*'?|--[^\n]*|/\*.*?(?:\*/|$)|\b[xX]'[0-9a-fA-F]*'", re.S)
_SQL_VERB = re.compile(r"\s*(\w+)")
_SQL_TABLE = re.compile(
    r"\b(FROM|JOIN|INTO|UPDATE|TABLE(?:\s+IF\s+(?:NOT\s+)?EXISTS)?|VIEW(?:\s+IF\s+(?:NOT\s+)?EXISTS)?)\s+"
    r"(\"[^\"]{1,60}\"|\[[^\]]{1,60}\]|`[^`]{1,60}`|[A-Za-z_][\w.]{0,60})",
    re.I,
)
_NOT_TABLES = frozenset(("select", "values", "set", "where", "(", "default"))
MAX_STATEMENT = 4096  # characters of a statement looked at


def sql_shape(statement: str) -> tuple[str, str]:
    """(verb, shape) of a statement: ("insert", "INSERT INTO orders"); literals and parameters never kept."""
    text = _SQL_DROP.sub(" ", statement[:MAX_STATEMENT])
    m = _SQL_VERB.match(text)
    verb = m.group(1).upper() if m else ""
    if not verb.isalpha() or len(verb) > 12:
        return "execute", "(statement not recognised)"
    tables: list[str] = []
    for word, table in _SQL_TABLE.findall(text):
        if table.lower() in _NOT_TABLES:
            continue
        part = f"{word.split()[0].upper()} {table}"
        if part not in tables:
            tables.append(part)
        if len(tables) >= 4:
            break
    if verb == "SELECT":
        tables = [t for t in tables if not t.startswith("INTO ")]
    shape = " ".join([verb, *tables]) if tables else verb
    return verb.lower(), shape


def script_shape(script: str) -> str:
    """The shapes of the first statements of an executescript() (at most 3)."""
    text = _SQL_DROP.sub(" ", script[:MAX_STATEMENT])
    shapes = [sql_shape(s)[1] for s in text.split(";") if s.strip()]
    more = "; …" if len(shapes) > 3 else ""
    return "; ".join(shapes[:3]) + more
