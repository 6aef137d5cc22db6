"""Mermaid, DOT and PlantUML text of a graph.Graph.

Identifiers are generated (`n0`, `g0`), never taken from the program; every label and comment
goes through escape.py. Edge labels are call counts (blank when unknown).
"""

from __future__ import annotations

from ..actors import Key
from . import escape
from .graph import Graph

FORMATS = ("mermaid", "dot", "plantuml")


def _members(graph: Graph) -> tuple[list[int], dict[Key, list[int]]]:
    """Units outside any group, and the units of each group, in drawing order."""
    loose: list[int] = []
    grouped: dict[Key, list[int]] = {}
    for i, u in enumerate(graph.units):
        if u.group is None:
            loose.append(i)
        else:
            grouped.setdefault(u.group, []).append(i)
    return loose, grouped


def _count(n: int | None) -> str:
    return "" if n is None else str(n)


def mermaid(graph: Graph, header: list[str]) -> str:
    lines = ["flowchart LR"] + [f"  %% {escape.comment(h)}" for h in header + graph.notes]
    loose, grouped = _members(graph)
    for i in loose:
        lines.append(f'  n{i}["{escape.mermaid(graph.units[i].label)}"]')
    for gi, (group, members) in enumerate(grouped.items()):
        lines.append(f'  subgraph g{gi}["{escape.mermaid(graph.groups[group])}"]')
        lines += [f'    n{i}["{escape.mermaid(graph.units[i].label)}"]' for i in members]
        lines.append("  end")
    for a, b, n in graph.edges:
        lines.append(f"  n{a} -->|{_count(n)}| n{b}" if n is not None else f"  n{a} --> n{b}")
    return "\n".join(lines) + "\n"


def dot(graph: Graph, header: list[str]) -> str:
    lines = ["digraph skeleton {"] + [f"  // {escape.comment(h)}" for h in header + graph.notes]
    lines += ["  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];', '  edge [fontname="Helvetica"];']
    loose, grouped = _members(graph)
    for i in loose:
        lines.append(f'  n{i} [label="{escape.dot(graph.units[i].label)}"];')
    for gi, (group, members) in enumerate(grouped.items()):
        lines.append(f"  subgraph cluster_g{gi} {{")
        lines.append(f'    label="{escape.dot(graph.groups[group])}";')
        lines += [f'    n{i} [label="{escape.dot(graph.units[i].label)}"];' for i in members]
        lines.append("  }")
    for a, b, n in graph.edges:
        lines.append(f'  n{a} -> n{b} [label="{_count(n)}"];' if n is not None else f"  n{a} -> n{b};")
    return "\n".join([*lines, "}"]) + "\n"


def plantuml(graph: Graph, header: list[str]) -> str:
    lines = ["@startuml"] + [f"' {escape.comment(h)}" for h in header + graph.notes] + ["left to right direction"]
    loose, grouped = _members(graph)
    for i in loose:
        lines.append(f'rectangle "{escape.plantuml(graph.units[i].label)}" as n{i}')
    for gi, (group, members) in enumerate(grouped.items()):
        lines.append(f'package "{escape.plantuml(graph.groups[group])}" as g{gi} {{')
        lines += [f'  rectangle "{escape.plantuml(graph.units[i].label)}" as n{i}' for i in members]
        lines.append("}")
    for a, b, n in graph.edges:
        lines.append(f"n{a} --> n{b} : {_count(n)}" if n is not None else f"n{a} --> n{b}")
    return "\n".join([*lines, "@enduml"]) + "\n"


WRITERS = {"mermaid": mermaid, "dot": dot, "plantuml": plantuml}
