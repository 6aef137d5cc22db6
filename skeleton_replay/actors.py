"""Names of a snapshot's nodes that mean the same thing in every run.

Node ids carry run-local numbers: `inst:shop.domain.money.Money#3` is the third Money object
this run happened to see, and `meth:shop.domain.money.Money#3.times` a method on it. Another run
(another commit, another test) numbers its objects differently. A Key names an actor by module,
class qualname and callable only, so `Money#1.times` and `Money#3.times` are the same key:

| node id | key (`Key.id`) |
| --- | --- |
| `mod:shop.domain` | `mod:shop.domain` |
| `cls:shop.domain.money.Money` | `cls:shop.domain.money.Money` (class and static methods) |
| `inst:shop.domain.money.Money#3`, `#*` | `inst:shop.domain.money.Money` (all its instances) |
| `meth:shop.domain.money.Money#3.times` | `meth:shop.domain.money.Money.times` |
| `clsm:shop.domain.money.Money.parse` | `clsm:shop.domain.money.Money.parse` |
| `fn:shop.util:slugify` | `fn:shop.util:slugify` |
| `scenario:run` | `scenario:run` |

Keys are built from the nodes' fields (`module`, `class_name`, `qualified_name`, `label`) and their
parents, never by parsing ids, so names holding dots, `#` or newlines cannot shift the split.
"""

from __future__ import annotations

from typing import Any, NamedTuple

RUN, MODULE, CLASS, INSTANCES, METHOD, CLASS_METHOD, FUNCTION = (
    "run",
    "module",
    "class",
    "instances",
    "method",
    "classmethod",
    "function",
)
CALLABLE_KINDS = (METHOD, CLASS_METHOD, FUNCTION)
_PREFIX = {
    RUN: "scenario",
    MODULE: "mod",
    CLASS: "cls",
    INSTANCES: "inst",
    METHOD: "meth",
    CLASS_METHOD: "clsm",
    FUNCTION: "fn",
}


class Key(NamedTuple):
    kind: str  # RUN, MODULE, CLASS, INSTANCES, METHOD, CLASS_METHOD, FUNCTION
    module: str  # dotted module ("" for the run)
    cls: str | None = None  # class qualname (runtime class of the receiver for methods)
    name: str | None = None  # function name (methods) or qualified name (functions)

    @property
    def id(self) -> str:
        """Like a node id without instance numbers (the table above)."""
        p = _PREFIX[self.kind]
        if self.kind == RUN:
            return "scenario:run"
        if self.kind == MODULE:
            return f"mod:{self.module}"
        if self.kind == FUNCTION:
            return f"fn:{self.module}:{self.name}"
        if self.kind in (CLASS, INSTANCES):
            return f"{p}:{self.module}.{self.cls}"
        return f"{p}:{self.module}.{self.cls}.{self.name}"

    @property
    def display(self) -> str:
        """A dotted name for people: `shop.domain.money.Money.times`, `shop.util.slugify`."""
        if self.kind == RUN:
            return "(run)"
        if self.kind == MODULE:
            return self.module
        if self.kind in (CLASS, INSTANCES):
            return f"{self.module}.{self.cls}"
        if self.kind == FUNCTION:
            return f"{self.module}.{self.name}"
        return f"{self.module}.{self.cls}.{self.name}"

    @property
    def short(self) -> str:
        """Without the module: `Money.times`, `slugify`, `Money`; the last segment for a module."""
        if self.kind == RUN:
            return "(run)"
        if self.kind == MODULE:
            return self.module.rsplit(".", 1)[-1]
        if self.kind in (CLASS, INSTANCES):
            return str(self.cls)
        if self.kind == FUNCTION:
            return str(self.name)
        return f"{self.cls}.{self.name}"

    @property
    def class_key(self) -> Key:
        """The class an instance group, method or class method belongs to (CLASS kind)."""
        return Key(CLASS, self.module, self.cls)


def node_keys(nodes: list[dict[str, Any]]) -> dict[str, Key]:
    """node id -> Key, for every node of a snapshot."""
    by_id = {n["id"]: n for n in nodes}
    out: dict[str, Key] = {}
    for n in nodes:
        out[n["id"]] = node_key(n, by_id)
    return out


def node_key(n: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> Key:
    kind = n.get("kind")
    module = str(n.get("module") or "")
    if kind == "scenario":
        return Key(RUN, "")
    if kind in ("module", "package"):
        return Key(MODULE, module)
    if kind == "instance":
        return Key(INSTANCES, module, str(n.get("class_name") or n.get("label")))
    if kind == "class":
        return Key(CLASS, module, str(n.get("class_name") or n.get("label")))
    parent = by_id.get(n.get("parent") or "")
    name = str(n.get("label"))  # a callable's label is its function name (co_name)
    if kind == "method" and parent is not None and parent.get("kind") in ("instance", "class"):
        owner = str(parent.get("module") or module)
        cls = str(parent.get("class_name") or parent.get("label"))
        return Key(METHOD if parent["kind"] == "instance" else CLASS_METHOD, owner, cls, name)
    return Key(FUNCTION, module, None, str(n.get("qualified_name") or name))


def module_of(node_id: str, by_id: dict[str, dict[str, Any]]) -> Key:
    """The module (or package) that holds a node: the nearest mod: ancestor; the run for the scenario."""
    seen = 0
    n = by_id.get(node_id)
    while n is not None and seen < 10_000:
        if n.get("kind") in ("module", "package"):
            return Key(MODULE, str(n.get("module") or n["id"][4:]))
        if n.get("kind") == "scenario":
            return Key(RUN, "")
        n = by_id.get(n.get("parent") or "")
        seen += 1
    return Key(MODULE, "?")
