"""The "Actors" section: modules (busiest first) with their functions, classes and instances; a class with
many instances is one instance group (`Class ×N`). Instances say who created them (snapshot `creations`,
instance nodes' `created_by`: model/creations.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from .. import md
from .common import Write, n_calls

if TYPE_CHECKING:
    from ...model.build import Node

ACTOR_LINES = 100
INSTANCE_GROUP = 4  # a class with this many instances or more is one line (an instance group)
MODULE_FUNCTIONS = 8  # functions listed per module
CREATORS = 3  # creators named per instance group


class _ModuleActors(TypedDict):
    node: Node  # the module (or package) node
    functions: list[Node]
    classes: list[Node]
    instances: dict[str, list[Node]]  # class name -> its instance nodes


def actors_section(w: Write, nodes: list[Node], creations: list[dict[str, Any]] | None = None) -> None:
    w("## Actors")
    w("")
    w("- by module (busiest first); a class with many instances is one instance group (`Class ×N`: N instances)")
    made: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (module, class) -> its creations
    for c in creations or ():
        made.setdefault((str(c.get("module")), str(c.get("qualname"))), []).append(c)
    # One pass over the nodes (a real suite's map has ~20k, most of them methods), then their members
    modules: dict[str, _ModuleActors] = {}
    methods: dict[str, list[Node]] = {}
    members: list[Node] = []  # functions, classes and instances, placed once every module is known
    for n in nodes:
        kind = n["kind"]
        if kind == "method":
            methods.setdefault(n["parent"], []).append(n)
        elif kind == "function" or kind == "class" or kind == "instance":
            members.append(n)
        elif (kind == "module" or kind == "package") and n["id"] not in modules:
            modules[n["id"]] = {"node": n, "functions": [], "classes": [], "instances": {}}
    for n in members:
        m = modules.get(n["parent"]) if n["parent"] else None
        if m is None:
            continue
        if n["kind"] == "function":
            m["functions"].append(n)
        elif n["kind"] == "class":
            m["classes"].append(n)
        else:
            m["instances"].setdefault(n.get("class_name") or n["label"], []).append(n)
    lines: list[str] = []
    order = sorted(
        (m for m in modules.values() if m["functions"] or m["classes"] or m["instances"]),
        key=lambda m: (-m["node"]["call_count"], m["node"]["id"]),
    )
    not_listed = 0  # lines past ACTOR_LINES: counted, not formatted (a real suite's map: ~20k nodes)
    for m in order:
        if len(lines) >= ACTOR_LINES:
            not_listed += _line_count(m)
            continue
        mod = m["node"]
        lines.append(f"- module {md.code(mod['id'])} — {n_calls(mod['call_count'])}")
        fns = sorted(m["functions"], key=lambda n: (-n["call_count"], n["id"]))
        for f in fns[:MODULE_FUNCTIONS]:
            node_md = _node_md(f)
            lines.append(f"  - function {md.code(f['id'])} — {node_md}")
        if len(fns) > MODULE_FUNCTIONS:
            rest = fns[MODULE_FUNCTIONS:]
            lines.append(f"  - … {len(rest):,} more functions ({n_calls(sum(f['call_count'] for f in rest))})")
        for c in sorted(m["classes"], key=lambda n: (-n["call_count"], n["id"])):
            ms = sorted(methods.get(c["id"], []), key=lambda n: (-n["call_count"], n["id"]))
            busiest_md = ", ".join(f"{md.code(x['label'])} {x['call_count']:,}" for x in ms[:4])
            calls_md = n_calls(c["call_count"])
            lines.append(f"  - class {md.code(c['id'])} — {calls_md}; class-level methods: {busiest_md}")
        groups = sorted(m["instances"].items(), key=lambda kv: (-sum(i["call_count"] for i in kv[1]), kv[0]))
        for cls, insts in groups:
            calls = sum(i["call_count"] for i in insts)
            per: dict[str, int] = {}
            raised = 0
            for i in insts:
                for x in methods.get(i["id"], []):
                    per[x["label"]] = per.get(x["label"], 0) + x["call_count"]
                    raised += x.get("raised") or 0
            busiest = sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
            busiest_md = ", ".join(f"{md.code(k)} {n:,}" for k, n in busiest)
            raised_md = f", raised {raised:,}" if raised else ""
            if len(insts) >= INSTANCE_GROUP:
                first = min(insts, key=lambda i: (i["first_seen"] is None, i["first_seen"] or 0))
                first_md = f", first {md.code(first['id'])}" if first else ""
                group = cls + " ×" + format(len(insts), ",")
                made_md = _creators_md(made.get((first.get("module") or "", cls), []))
                lines.append(
                    f"  - instance group {md.code(group)} · "
                    f"{n_calls(calls)}{raised_md}; "
                    f"busiest methods: {busiest_md}{first_md}{made_md}"
                )
                continue
            for i in insts:
                ms = sorted(methods.get(i["id"], []), key=lambda n: (-n["call_count"], n["id"]))
                ms_md = ", ".join(f"{md.code(x['label'])} {x['call_count']:,}" for x in ms[:4])
                by = i.get("created_by")
                by_md = ""
                if by:
                    at_md = f" at E{by['first_seen']:d}" if isinstance(by.get("first_seen"), int) else ""
                    by_md = f"; created by {md.code(by['creator'])}{at_md}"
                lines.append(f"  - instance {md.code(i['id'])} — {n_calls(i['call_count'])}; methods: {ms_md}{by_md}")
    shown = lines[:ACTOR_LINES]
    for line in shown:
        w(line)
    not_listed += len(lines) - len(shown)
    if not_listed:
        w(f"- … {not_listed:,} more actor lines not listed (see snapshot.json `nodes`)")
    w("")


def _line_count(m: _ModuleActors) -> int:
    """How many lines actors_section writes for module `m`: its own, its functions (at most MODULE_FUNCTIONS and
    a "more" line), one per class, one per instance group or per instance of a smaller class."""
    fns = len(m["functions"])
    insts = sum(1 if len(group) >= INSTANCE_GROUP else len(group) for group in m["instances"].values())
    return 1 + min(fns, MODULE_FUNCTIONS) + (fns > MODULE_FUNCTIONS) + len(m["classes"]) + insts


def _creators_md(made: list[dict[str, Any]]) -> str:
    """`; created by `fn:shop.app:main` (3), first E12`: a class's creators, who made the most first."""
    if not made:
        return ""
    ranked = sorted(made, key=lambda c: (-c["count"], c["creator"]))
    who_md = ", ".join(f"{md.code(c['creator'])} ({c['count']:,})" for c in ranked[:CREATORS])
    if len(ranked) > CREATORS:
        who_md += f", … {len(ranked) - CREATORS:,} more"
    seen = [c["first_seen"] for c in made if isinstance(c.get("first_seen"), int)]
    first_md = f", first E{min(seen):d}" if seen else ""
    return f"; created by {who_md}{first_md}"


def _node_md(n: Node) -> str:
    raised_md = f", raised {n['raised']:,}" if n.get("raised") else ""
    where_md = f" {md.text(n['file'], 300)}:{n['line']:d}" if n.get("file") and n.get("line") else ""
    flags_md = " internal" if n.get("internal") else ""
    return f"{n_calls(n['call_count'])}{raised_md}{flags_md}{where_md}"
