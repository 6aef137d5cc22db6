"""A diff (compare.model.compute) as plain text for a terminal or Markdown for a PR comment.

Every program-derived string (names, paths, commands) goes through render.md: in Markdown as an
inline code span that cannot end early, in text with non-printable characters made visible, so a
name can never add a line, a heading or a terminal escape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..render import md

if TYPE_CHECKING:
    from .model import Diff, Record

# One line of a section: (sign, shape, [name parts], note); shape "actor" ([kind word, name]) or "edge" ([from, to])
Row = tuple[str, str, list[str], str]

DEFAULT_LIMIT = 50  # entries per section in text and Markdown (JSON has them all)
_NAME_LIMIT = 160
_KIND_WORD = {
    "module": "module",
    "class": "class",
    "instances": "objects",
    "classmethod": "classmethod",
    "method": "method",
    "function": "function",
}


def _t(s: object) -> str:
    """Program text for a terminal: one line, visible escapes, capped."""
    return md.visible(md.clip(s, _NAME_LIMIT))


def _kind_word(kind: str) -> str:
    return _KIND_WORD.get(kind, kind)


def _calls(n: int) -> str:
    return f"{n:,} call{'s' if n != 1 else ''}"


def _pct(change: Record) -> str:
    if change["ratio"] is None:
        return "new"
    return f"{(change['ratio'] - 1) * 100:+.0f}%"


def _run_line(side: Record) -> str:
    bits = [side.get("app_name") or "?", f"status {side.get('status')}"]
    if side.get("calls") is not None:
        bits.append(_calls(side["calls"]))
    if side.get("scenarios") is not None:
        bits.append(f"{side['scenarios']} tests")
    return ", ".join(_t(b) for b in bits)


def _module_name(node_id: str) -> str:
    return "(run)" if node_id == "scenario:run" else node_id.removeprefix("mod:")


def headline(diff: Diff) -> str:
    """The one-line summary: actors +a -r, edges +a -r, ..."""
    return _headline(diff)


def _headline(diff: Diff) -> str:
    s = diff["summary"]
    return (
        f"actors +{s['actors_added']} -{s['actors_removed']}, edges +{s['edges_added']} -{s['edges_removed']}, "
        f"module dependencies +{s['dependencies_added']} -{s['dependencies_removed']}, "
        f"call-count changes {s['calls_changed']}, I/O boundaries +{s['boundaries_added']} "
        f"-{s['boundaries_removed']}, rule violations +{s['violations_added']} -{s['violations_removed']}"
    )


def _threshold(diff: Diff) -> str:
    from .model import Threshold

    return Threshold(**diff["threshold"]).describe()


def _sections(diff: Diff) -> Iterator[tuple[str, list[Row]]]:
    """(title, rows) per section; a row is (sign, shape, [name parts], note), shape "actor" or "edge"."""
    actors, edges, deps = diff["actors"], diff["edges"], diff["dependencies"]

    def actor_rows(items: list[Record], sign: str) -> Iterator[Row]:
        for a in items:
            note = _calls(a["calls"])
            if a["kind"] == "instances":
                note = f"{a['instances']}{'+' if a.get('instances_capped') else ''} objects, {note}"
            yield sign, "actor", [_kind_word(a["kind"]), a["display"]], note

    def edge_rows(items: list[Record], sign: str) -> Iterator[Row]:
        for e in items:
            yield sign, "edge", [e["source_display"], e["target_display"]], _calls(e["calls"])

    def dep_rows(items: list[Record], sign: str) -> Iterator[Row]:
        for d in items:
            names = [_module_name(d["source"]), _module_name(d["target"])]
            yield sign, "edge", names, _calls(d["calls"])

    def change_rows() -> Iterator[Row]:
        for c in actors["changed"]:
            yield "~", "actor", [_kind_word(c["kind"]), c["display"]], f"{c['a']:,} -> {c['b']:,} calls, {_pct(c)}"
        for c in edges["changed"]:
            yield "~", "edge", [c["source_display"], c["target_display"]], f"{c['a']:,} -> {c['b']:,} calls, {_pct(c)}"

    yield "Added actors", list(actor_rows(actors["added"], "+"))
    yield "Removed actors", list(actor_rows(actors["removed"], "-"))
    yield "Added edges", list(edge_rows(edges["added"], "+"))
    yield "Removed edges", list(edge_rows(edges["removed"], "-"))
    yield "Added module dependencies", list(dep_rows(deps["added"], "+"))
    yield "Removed module dependencies", list(dep_rows(deps["removed"], "-"))
    yield f"Call-count changes (threshold {_threshold(diff)})", list(change_rows())
    io = diff["boundaries"]
    if io.get("available"):
        yield (
            "Added I/O boundaries",
            [("+", "actor", [b["kind"], b["target"]], ", ".join(b["ops"])) for b in io["added"]],
        )
        yield (
            "Removed I/O boundaries",
            [("-", "actor", [b["kind"], b["target"]], ", ".join(b["ops"])) for b in io["removed"]],
        )
        yield (
            "Added I/O by actor",
            [
                ("+", "edge", [u["actor_display"], f"{u['kind']} {u['target']}"], ", ".join(u["ops"]))
                for u in io["uses_added"]
            ],
        )
        yield (
            "Removed I/O by actor",
            [
                ("-", "edge", [u["actor_display"], f"{u['kind']} {u['target']}"], ", ".join(u["ops"]))
                for u in io["uses_removed"]
            ],
        )
    rules = diff["violations"]
    if rules.get("available"):
        for title, sign, items in (
            ("New rule violations", "+", rules["added"]),
            ("Fixed rule violations", "-", rules["removed"]),
        ):
            yield (
                title,
                [
                    (
                        sign,
                        "edge",
                        [v["source_display"], v["target_display"]],
                        f"{v['kind']} {v['rule']}: {v['detail']}",
                    )
                    for v in items
                ],
            )


# What each section of _sections lists, in its order: (section id, records of its rows); compare/html.py
# uses the records to point each row of the report's Changes panel at its node or edge.
def sections(diff: Diff) -> list[tuple[str, str, list[Row], list[Record]]]:
    """(section id, title, rows, records) per section, the rows of text/markdown next to their diff records."""
    actors, edges, deps, io, rules = (
        diff["actors"],
        diff["edges"],
        diff["dependencies"],
        diff["boundaries"],
        diff["violations"],
    )
    records: list[tuple[str, list[Record]]] = [
        ("actors_added", actors["added"]),
        ("actors_removed", actors["removed"]),
        ("edges_added", edges["added"]),
        ("edges_removed", edges["removed"]),
        ("dependencies_added", deps["added"]),
        ("dependencies_removed", deps["removed"]),
        ("calls_changed", actors["changed"] + edges["changed"]),
    ]
    if io.get("available"):
        records += [
            ("boundaries_added", io["added"]),
            ("boundaries_removed", io["removed"]),
            ("io_added", io["uses_added"]),
            ("io_removed", io["uses_removed"]),
        ]
    if rules.get("available"):
        records += [("violations_added", rules["added"]), ("violations_removed", rules["removed"])]
    out = []
    for (title, rows), (sid, recs) in zip(_sections(diff), records, strict=True):
        assert len(rows) == len(recs), sid
        out.append((sid, title, rows, recs))
    return out


def _not_compared(diff: Diff) -> list[str]:
    """One sentence per section that could not be compared."""
    out = []
    if not diff["boundaries"].get("available"):
        out.append(f"I/O boundaries ({diff['boundaries'].get('note')})")
    if not diff["violations"].get("available"):
        out.append(f"rule violations ({diff['violations'].get('note')})")
    return out


def text(diff: Diff, limit: int = DEFAULT_LIMIT) -> str:
    a, b = diff["a"], diff["b"]
    lines = [
        f"skeleton diff: A {_t(a['path'])} ({_run_line(a)})",
        f"               B {_t(b['path'])} ({_run_line(b)})",
        _headline(diff),
    ]
    any_rows = False
    for title, rows in _sections(diff):
        if not rows:
            continue
        any_rows = True
        lines += ["", f"{title}:"]
        for sign, shape, parts, note in rows[:limit]:
            name = f"{parts[0]:<11} {_t(parts[1])}" if shape == "actor" else f"{_t(parts[0])} -> {_t(parts[1])}"
            lines.append(f"  {sign} {name}  ({note})")
        if len(rows) > limit:
            lines.append(f"  … and {len(rows) - limit} more (--format json lists all)")
    if not any_rows:
        lines += ["", f"No differences (call-count changes under {_threshold(diff)} are not shown)."]
    lines += [f"\nNote: {md.visible(md.clip(n, 600))}" for n in diff.get("notes", [])]
    lines += [f"\nNot compared: {md.visible(n)}." for n in _not_compared(diff)]
    return "\n".join(lines) + "\n"


def markdown(diff: Diff, limit: int = DEFAULT_LIMIT) -> str:
    a, b, s = diff["a"], diff["b"], diff["summary"]
    lines = [
        "### Skeleton diff",
        "",
        f"- **A** {md.code(a['path'])}: {md.text(_run_line(a))}",
        f"- **B** {md.code(b['path'])}: {md.text(_run_line(b))}",
        "",
        "| | added | removed |",
        "| --- | ---: | ---: |",
        f"| actors | {s['actors_added']} | {s['actors_removed']} |",
        f"| call edges | {s['edges_added']} | {s['edges_removed']} |",
        f"| module dependencies | {s['dependencies_added']} | {s['dependencies_removed']} |",
        f"| I/O boundaries | {s['boundaries_added']} | {s['boundaries_removed']} |",
        f"| I/O by actor | {s['io_added']} | {s['io_removed']} |",
        f"| rule violations | {s['violations_added']} | {s['violations_removed']} |",
        "",
        f"Call-count changes above {md.text(_threshold(diff))}: {s['calls_changed']}",
    ]
    for title, rows in _sections(diff):
        if not rows:
            continue
        lines += ["", f"#### {md.text(title)}", ""]
        for _sign, shape, parts, note in rows[:limit]:
            if shape == "edge":
                name = f"{md.code(parts[0])} → {md.code(parts[1])}"
            else:
                name = f"{parts[0]} {md.code(parts[1])}"
            lines.append(f"- {name} ({md.text(note)})")
        if len(rows) > limit:
            lines.append(f"- … and {len(rows) - limit} more (`skeleton diff --format json` lists all)")
    lines += [f"\n> Note: {md.text(n, 400)}" for n in diff.get("notes", [])]
    lines += [f"\n_Not compared: {md.text(n)}._" for n in _not_compared(diff)]
    return "\n".join(lines) + "\n"
