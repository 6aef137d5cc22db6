"""Read and validate a rule file: `[tool.skeleton.rules]` of a pyproject.toml, or a standalone TOML file.

Both hold the same tables (docs/check.md):

    [[layers]]        name, layers = [top, ..., bottom] (each a pattern or a list of patterns), ignore
    [[forbidden]]     name, callers = [...], callees = [...], ignore
    [[independence]]  name, modules = [...], ignore
    [[io]]            name, kind = "file" | ..., actors = [...], ignore

Every problem raises options.UsageError with one line: the file, the rule, what is wrong, what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..options import UsageError
from . import patterns
from .model import IO, IO_KINDS, KINDS, Forbidden, Ignore, Independence, Layers, Rule, RuleSet

PYPROJECT_TABLE = "[tool.skeleton.rules]"
_COMMON = ("name", "description", "ignore")
_KEYS = {
    "layers": ("layers",),
    "forbidden": ("callers", "callees"),
    "independence": ("modules",),
    "io": ("kind", "actors"),
}


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    import tomllib

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what} {path} does not exist; check the path") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path} is a folder; pass a TOML file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path} ({exc.strerror or exc}); check its permissions") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; save it as UTF-8 TOML") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML ({exc}); fix it") from None


def _pyproject_table(data: dict[str, Any], path: Path) -> object:
    tool = data.get("tool")
    skeleton = tool.get("skeleton") if isinstance(tool, dict) else None
    if skeleton is not None and not isinstance(skeleton, dict):
        raise UsageError(f"{path}: [tool.skeleton] must be a table")
    return skeleton.get("rules") if isinstance(skeleton, dict) else None


def load_file(path: str | Path) -> RuleSet:
    """The rules of a file given with --rules: a standalone rule file, or a pyproject.toml's table."""
    path = Path(path)
    data = _read_toml(path, "rule file")
    if path.name == "pyproject.toml":
        table = _pyproject_table(data, path)
        if table is None:
            raise UsageError(f"{path} has no {PYPROJECT_TABLE} table; add one (see docs/check.md)")
        return parse(table, str(path), PYPROJECT_TABLE)
    return parse(data, str(path), "")


def load_project(root: str | Path) -> RuleSet | None:
    """The rules in ROOT/pyproject.toml's [tool.skeleton.rules], or None when it has none."""
    path = Path(root) / "pyproject.toml"
    if not path.is_file():
        return None
    table = _pyproject_table(_read_toml(path, "project file"), path)
    return None if table is None else parse(table, str(path), PYPROJECT_TABLE)


def parse(data: object, source: str, table: str = "") -> RuleSet:
    """Validate the rule tables in data (the file's top level, or [tool.skeleton.rules])."""
    at = f"{source}: {table + ' ' if table else ''}"
    if not isinstance(data, dict):
        raise UsageError(f"{at}must be a table of rule lists ([[layers]], [[forbidden]], [[independence]], [[io]])")
    unknown = [k for k in data if k not in KINDS]
    if unknown:
        raise UsageError(f"{at}unknown rule kind {unknown[0]!r}; use {_kinds()}")
    rules: list[Rule] = []
    names: set[str] = set()
    for kind in data:
        entries = data[kind]
        if isinstance(entries, dict):
            entries = [entries]  # [layers] written for a single rule: as good as [[layers]]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise UsageError(f"{at}{kind!r} must hold rule tables: write [[{kind}]] above each rule")
        for i, entry in enumerate(entries, 1):
            rule = _rule(kind, entry, f"{at}[[{kind}]] #{i}", f"{kind} #{i}")
            if rule.name in names:
                raise UsageError(f"{at}two rules are named {rule.name!r}; give each rule its own name")
            names.add(rule.name)
            rules.append(rule)
    if not rules:
        raise UsageError(f"{at}holds no rules; add at least one of {_kinds()} (see docs/check.md)")
    return RuleSet(tuple(rules), source, table)


def _kinds() -> str:
    return ", ".join(f"[[{k}]]" for k in KINDS[:-1]) + f" or [[{KINDS[-1]}]]"


def _rule(kind: str, entry: dict[str, Any], where: str, default_name: str) -> Rule:
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise UsageError(f"{where}: 'name' must be a non-empty string, not {name!r}")
    if name:
        where = f"{where} ({name!r})"
    else:
        name = default_name
    known = _COMMON + _KEYS[kind]
    unknown = [k for k in entry if k not in known]
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(known)}")
    missing = [k for k in _KEYS[kind] if k not in entry]
    if missing:
        raise UsageError(f"{where}: missing {missing[0]!r}; {_HOW[(kind, missing[0])]}")
    if "description" in entry and not isinstance(entry["description"], str):
        raise UsageError(f"{where}: 'description' must be a string")
    ignore = tuple(_ignore(v, where) for v in _strings(entry.get("ignore", []), "ignore", where, allow_empty=True))
    if kind == "layers":
        layers = entry["layers"]
        if not isinstance(layers, list) or len(layers) < 2:
            raise UsageError(f"{where}: 'layers' must list at least 2 layers; {_HOW[('layers', 'layers')]}")
        parsed = tuple(
            _patterns([layer] if isinstance(layer, str) else layer, f"layers[{i}]", where)
            for i, layer in enumerate(layers)
        )
        _unique([p for layer in parsed for p in layer], "layers", where)
        return Layers(kind, name, ignore, layers=parsed)
    if kind == "forbidden":
        return Forbidden(
            kind,
            name,
            ignore,
            callers=_patterns(entry["callers"], "callers", where),
            callees=_patterns(entry["callees"], "callees", where),
        )
    if kind == "independence":
        modules = _patterns(entry["modules"], "modules", where)
        _unique(modules, "modules", where)
        if len(modules) < 2:
            raise UsageError(f"{where}: 'modules' must list at least 2 patterns; {_HOW[('independence', 'modules')]}")
        return Independence(kind, name, ignore, modules=modules)
    io_kind = entry["kind"]
    if io_kind not in IO_KINDS:
        raise UsageError(f"{where}: 'kind' must be one of {', '.join(IO_KINDS)}, not {io_kind!r}")
    return IO(kind, name, ignore, io_kind=io_kind, actors=_patterns(entry["actors"], "actors", where))


_HOW = {
    ("layers", "layers"): 'write layers = ["top.pkg", ["middle.a", "middle.b"], "bottom.pkg"], top first',
    ("forbidden", "callers"): 'write callers = ["pkg.a"] (the modules that must not make the calls)',
    ("forbidden", "callees"): 'write callees = ["pkg.b"] (the modules they must not call)',
    ("independence", "modules"): 'write modules = ["pkg.a", "pkg.b"] (groups that must not call each other)',
    ("io", "kind"): f"write kind = one of {', '.join(repr(k) for k in IO_KINDS)}",
    ("io", "actors"): 'write actors = ["pkg.adapters.*"] (the only modules allowed to do that I/O)',
}


def _strings(value: object, key: str, where: str, allow_empty: bool = False) -> list[object]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or (not value and not allow_empty):
        raise UsageError(f"{where}: {key!r} must be a list of patterns (strings), not {value!r}")
    return value


def _patterns(value: object, key: str, where: str) -> tuple[patterns.Pattern, ...]:
    out = []
    for item in _strings(value, key, where):
        try:
            out.append(patterns.parse(item))
        except patterns.PatternError as exc:
            raise UsageError(f"{where}: {key}: {exc}") from None
    return tuple(out)


def _unique(pats: Sequence[patterns.Pattern], key: str, where: str) -> None:
    seen = set()
    for p in pats:
        if p.text in seen:
            raise UsageError(f"{where}: {key}: pattern {p.text!r} is listed twice; keep it in one place")
        seen.add(p.text)


def _ignore(value: object, where: str) -> Ignore:
    if not isinstance(value, str) or value.count("->") != 1:
        raise UsageError(
            f"{where}: ignore: {value!r} must be a string \"CALLER -> CALLEE\" (two patterns around one '->')"
        )
    left, right = (s.strip() for s in value.split("->"))
    try:
        return Ignore(value, patterns.parse(left), patterns.parse(right))
    except patterns.PatternError as exc:
        raise UsageError(f"{where}: ignore {value!r}: {exc}") from None
