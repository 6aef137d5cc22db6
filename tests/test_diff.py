"""`skeleton diff A B` on real runs of examples/shop: what changed, matched by module, class and callable."""
from __future__ import annotations

import json
import re
import shutil

import pytest
from conftest import REPO, skeleton

from skeleton_replay.compare import Threshold, parse_fail_on, parse_threshold
from skeleton_replay.options import UsageError

SHOP = REPO / "examples" / "shop"


def _run(folder, out, *extra):
    p = skeleton("run", "--no-open", "--no-html", "--project-root", str(folder), "--out-dir", str(out), *extra,
                 str(folder / "app.py"))
    assert p.returncode == 0, p.stderr
    return out


def _copy_shop(tmp, name, edit=None):
    dest = tmp / name
    shutil.copytree(SHOP, dest, ignore=shutil.ignore_patterns("__pycache__", ".skeleton"))
    if edit:
        path, old, new = edit
        text = (dest / path).read_text()
        assert old in text
        (dest / path).write_text(text.replace(old, new, 1))
    return dest


# the docs' worked example (docs/diff.md): place_order now formats the total with shop.util.format_money
REFACTOR = ("shop/services/orders.py", "                          total_cents=order.total().cents)",
            "                          total=__import__('shop.util').util.format_money(order.total().cents))")
# one more Money used before all others: every Money instance number shifts by one (kept alive, so no
# later Money reuses its address and, with it, its run-local id: docs/safety.md#object-ids)
SHIFT = ("app.py", "    with tempfile.TemporaryDirectory",
         "    first = Money.parse('0.01')\n    first.times(1)\n    with tempfile.TemporaryDirectory")


# the io rule's fix (docs/diff.md): ReportService.summarize asks the storage adapter instead of opening the file
IO_FIX = ("shop/services/reporting.py", 'with open(self.storage.path("summary.json"), "w", encoding="utf-8") as fh:',
          'if True:\n            fh = None\n            self.storage.write_json("summary.json", {"orders": orders})\n'
          '        if False:')


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("diff")
    before = _copy_shop(tmp, "before")
    return {
        "a": _run(before, tmp / "a"),
        "a2": _run(before, tmp / "a2"),
        "refactor": _run(_copy_shop(tmp, "after", REFACTOR), tmp / "refactor"),
        "shift": _run(_copy_shop(tmp, "shift", SHIFT), tmp / "shift"),
        "io_fix": _run(_copy_shop(tmp, "io_fix", IO_FIX), tmp / "io_fix"),
        "other_root": tmp / "other_root",
        "_": _run_with_root(tmp, before, tmp / "other_root"),
    }


def _run_with_root(root, folder, out):  # the same program, its root one folder up: app is `before.app`
    p = skeleton("run", "--no-open", "--no-html", "--project-root", str(root), "--out-dir", str(out),
                 str(folder / "app.py"))
    assert p.returncode == 0, p.stderr


def diff(*args):
    return skeleton("diff", *map(str, args))


def diff_json(a, b, *extra):
    p = diff(a, b, "--format", "json", *extra)
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)


def _edges(d, side):
    return {(e["source"], e["target"]) for e in d["edges"][side]}


def test_the_same_program_twice_has_no_differences(runs):
    p = diff(runs["a"], runs["a2"], "--fail-on", "new-edges,removed-edges,new-actors,removed-actors")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "No differences" in p.stdout
    d = diff_json(runs["a"], runs["a2"])
    assert all(v == 0 for v in d["summary"].values()), d["summary"]


def test_instance_numbers_do_not_make_differences(runs):
    snap_a = json.loads((runs["a"] / "snapshot.json").read_text())
    snap_b = json.loads((runs["shift"] / "snapshot.json").read_text())
    ids_a = {(e["source"], e["target"]) for e in snap_a["edges"]}
    ids_b = {(e["source"], e["target"]) for e in snap_b["edges"]}
    moved = ("meth:shop.domain.order.LineItem#1.subtotal", "meth:shop.domain.money.Money#1.times")
    assert moved in ids_a and moved not in ids_b  # the runs number their Money objects differently
    assert len(ids_a - ids_b) > 5
    d = diff_json(runs["a"], runs["shift"])
    assert _edges(d, "removed") == set()
    assert _edges(d, "added") == {("fn:app:main", "clsm:shop.domain.money.Money.parse"),
                                  ("fn:app:main", "meth:shop.domain.money.Money.times")}
    assert d["actors"]["added"] == [] and d["actors"]["removed"] == []
    assert d["dependencies"]["added"] == [] and d["dependencies"]["removed"] == []


def test_a_refactor_shows_its_new_edge_and_module_dependency(runs):
    d = diff_json(runs["a"], runs["refactor"])
    assert _edges(d, "added") == {("meth:shop.services.orders.OrderService.place_order", "fn:shop.util:format_money")}
    assert _edges(d, "removed") == set()
    assert [(x["source"], x["target"]) for x in d["dependencies"]["added"]] == \
        [("mod:shop.services.orders", "mod:shop.util")]
    added = d["edges"]["added"][0]
    assert added["calls"] == 2 and added["source_display"] == "shop.services.orders.OrderService.place_order"
    p = diff(runs["a"], runs["refactor"])
    assert p.returncode == 0
    assert "+ shop.services.orders.OrderService.place_order -> shop.util.format_money  (2 calls)" in p.stdout
    assert "+ shop.services.orders -> shop.util  (2 calls)" in p.stdout
    md = diff(runs["a"], runs["refactor"], "--format", "markdown").stdout
    assert "- `shop.services.orders.OrderService.place_order` → `shop.util.format_money` (2 calls)" in md
    assert "| call edges | 1 | 0 |" in md
    back = diff_json(runs["refactor"], runs["a"])  # the other way round: removed
    assert _edges(back, "removed") == _edges(d, "added") and _edges(back, "added") == set()


def test_another_project_root_is_named_and_long_lists_are_cut(runs, tmp_path):
    d = diff_json(runs["a"], runs["other_root"])
    assert {a["key"] for a in d["actors"]["added"]} >= {"mod:before.app", "fn:before.app:main"}
    assert len(d["notes"]) == 1 and "'app' in A is 'before.app' in B" in d["notes"][0]
    p = diff(runs["a"], runs["other_root"], "--limit", "2", "--output", tmp_path / "d.txt")
    assert p.returncode == 0 and p.stdout == ""
    text = (tmp_path / "d.txt").read_text()
    added = len(d["edges"]["added"])
    assert f"  … and {added - 2} more (--format json lists all)" in text
    assert "Note: module 'app' in A is 'before.app' in B: were the runs made with different project roots?" in text


@pytest.mark.parametrize("fail_on, code, named", [
    ("new-edges", 1, "new-edges"), ("new-dependencies,removed-edges", 1, "new-dependencies"),
    ("removed-edges", 0, None), ("new-actors,removed-actors", 0, None),
])
def test_fail_on_selects_the_exit_code(runs, fail_on, code, named):
    p = diff(runs["a"], runs["refactor"], "--fail-on", fail_on)
    assert p.returncode == code, p.stderr
    if named:
        assert named in p.stderr
    d = diff_json(runs["a"], runs["refactor"], "--fail-on", fail_on)
    assert d["failed"] == ([named] if named else [])


def test_threshold_relative_and_absolute(runs):
    # format_money: 5 calls before, 7 after (+40%)
    def changed(*extra):
        d = diff_json(runs["a"], runs["refactor"], *extra)
        return {c["key"]: (c["a"], c["b"]) for c in d["actors"]["changed"]}

    assert "fn:shop.util:format_money" not in changed()  # default 50%
    assert changed("--threshold", "40%")["fn:shop.util:format_money"] == (5, 7)
    assert "fn:shop.util:format_money" not in changed("--threshold", "41%")
    assert changed("--threshold", "2")["fn:shop.util:format_money"] == (5, 7)
    assert "fn:shop.util:format_money" not in changed("--threshold", "3")
    assert "fn:shop.util:format_money" not in changed("--threshold", "10%,3")
    text = diff(runs["a"], runs["refactor"], "--threshold", "40%").stdout
    assert "~ function    shop.util.format_money  (5 -> 7 calls, +40%)" in text


def test_parse_threshold_and_fail_on():
    assert parse_threshold("50%") == Threshold(0.5, 1)
    assert parse_threshold("25%,10") == Threshold(0.25, 10)
    assert parse_threshold("7") == Threshold(0.0, 7)
    assert Threshold(0.5, 1).passes(10, 15) and not Threshold(0.5, 1).passes(10, 14)
    assert Threshold(0.5, 1).passes(10, 5) and not Threshold(0.5, 1).passes(3, 3)
    for bad in ("", "x", "-5%", "5%,5%", "nan%", "1,2"):
        with pytest.raises(UsageError):
            parse_threshold(bad)
    assert parse_fail_on("new-edges, new-edges,new-actors") == ["new-edges", "new-actors"]
    assert parse_fail_on("new-io,new-boundaries,new-violations") == ["new-io", "new-boundaries", "new-violations"]
    for bad in (",", "new-edge", "new-violation"):
        with pytest.raises(UsageError):
            parse_fail_on(bad)


@pytest.mark.parametrize("args, needle", [
    (["{tmp}", "{a}"], "is not a Skeleton run: no snapshot.json"),
    (["{a}", "{tmp}/missing"], "does not exist"),
    (["{a}", "{a}", "--fail-on", "new-edges,bogus"], "unknown condition 'bogus'"),
    (["{a}", "{a}", "--threshold", "lots"], "--threshold takes a percentage"),
    (["{a}", "{a}", "--format", "pdf"], "Invalid value for '--format'"),
    (["{bad}", "{a}"], "is not valid JSON"),
])
def test_bad_input_is_one_line_exit_2(runs, tmp_path, args, needle):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "snapshot.json").write_text("{not json")
    p = diff(*(a.format(tmp=tmp_path, a=runs["a"], bad=tmp_path / "bad") for a in args))
    assert p.returncode == 2
    assert needle in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


HOSTILE = '''
EVIL = 'x"] --> y}{ \\n## Heading <b>&lt;</b> `tick` [[z]] |a|'

class Table:
    def render(self):
        return 1

Table.__qualname__ = "Table" + EVIL
Table().render()
'''


def test_program_names_cannot_forge_text_or_markdown(runs, tmp_path):
    (tmp_path / "app.py").write_text(HOSTILE)
    _run(tmp_path, tmp_path / "out")
    md = diff(runs["a"], tmp_path / "out", "--format", "markdown").stdout
    text = diff(runs["a"], tmp_path / "out").stdout
    entry = [line for line in md.splitlines() if "Heading" in line]
    assert entry and all(line.startswith("- ") for line in entry)  # never a heading of its own
    assert not re.search(r"^#+ .*Heading", md, re.M) and "<b>" not in md.replace("`", "").split("Table")[0]
    for line in entry:  # every hostile name sits inside one code span (fence longer than any backtick run)
        assert re.search(r"``[^`]*x\"\] --> y}\{ \\n## Heading <b>&lt;</b> `tick` \[\[z\]\] \|a\|[^`]*``", line), line
    assert "\\n## Heading" in text and "\n## Heading" not in text


def test_io_moved_to_the_adapter_shows_as_io_by_actor_and_fails_on_new_io(runs):
    d = diff_json(runs["a"], runs["io_fix"])
    io = d["boundaries"]
    assert io["available"] and io["added"] == [] and io["removed"] == []  # the same file, written by someone else
    assert [(u["actor_display"], u["target"], u["ops"]) for u in io["uses_removed"]] == [
        ("shop.services.reporting.ReportService.summarize", "<tmp>/summary.json", ["write"])]
    assert [(u["actor_display"], u["target"]) for u in io["uses_added"]] == [
        ("shop.adapters.storage.FileStorage.write_json", "<tmp>/summary.json")]
    assert d["summary"]["io_added"] == 1 and d["summary"]["io_removed"] == 1
    p = diff(runs["a"], runs["io_fix"], "--fail-on", "new-io")
    assert p.returncode == 1
    assert "+ shop.adapters.storage.FileStorage.write_json -> file <tmp>/summary.json  (write)" in p.stdout
    assert "- shop.services.reporting.ReportService.summarize -> file <tmp>/summary.json  (write)" in p.stdout
    assert diff(runs["a"], runs["io_fix"], "--fail-on", "new-boundaries").returncode == 0
    md = diff(runs["a"], runs["io_fix"], "--format", "markdown").stdout
    assert "| I/O by actor | 1 | 1 |" in md
    assert diff_json(runs["a"], runs["a2"])["boundaries"]["uses_added"] == []  # the same program: no I/O change


def test_rule_violations_fixed_and_new_when_both_runs_were_checked(runs, tmp_path):
    rules = REPO / "examples" / "shop" / "skeleton-rules.toml"
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(runs["a"], a)
    shutil.copytree(runs["io_fix"], b)
    assert diff_json(a, b)["violations"]["available"] is False  # not checked yet
    for run in (a, b):
        skeleton("check", "--rules", str(rules), str(run))
    d = diff_json(a, b)
    assert d["violations"]["available"] and d["violations"]["added"] == []
    assert [(v["rule"], v["source_display"], v["target_display"]) for v in d["violations"]["removed"]] == [
        ("only storage touches files", "shop.services.reporting.ReportService.summarize", "io:file:<tmp>/summary.json")]
    assert d["summary"]["violations_removed"] == 1
    assert diff(a, b, "--fail-on", "new-violations").returncode == 0
    p = diff(b, a, "--fail-on", "new-violations")  # the other way round: the violation is new
    assert p.returncode == 1 and "New rule violations:" in p.stdout
    assert "| rule violations | 1 | 0 |" in diff(b, a, "--format", "markdown").stdout


# -- --format html: the map of the runs with the changes marked (compare/html.py) -----------------------------
INLINE = ("shop/domain/customer.py", "email=cls.normalize_email(email))",
          "email=email.strip().lower())")  # Customer.normalize_email is no longer called: a removed actor
SNAPSHOT_RE = re.compile(r'<script type="application/json" id="skeleton-snapshot">(.*?)</script>', re.S)


def _html_snapshot(html: str) -> dict:
    found = SNAPSHOT_RE.findall(html)
    assert len(found) == 1
    return json.loads(found[0])


@pytest.fixture(scope="module")
def inline_run(runs, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inline")
    folder = _copy_shop(tmp, "inline", INLINE)
    text = (folder / REFACTOR[0]).read_text()
    (folder / REFACTOR[0]).write_text(text.replace(REFACTOR[1], REFACTOR[2], 1))
    return _run(folder, tmp / "run")


def _marks(snap, part):
    return {m["id"]: (m["status"], m["a"], m["b"]) for m in snap["diff"][part]}


def test_html_diff_is_b_with_a_only_evidence_marked(runs, inline_run, tmp_path):
    import jsonschema

    out = tmp_path / "d.html"
    p = diff(runs["a"], inline_run, "--format", "html", "-o", out)
    assert p.returncode == 0, p.stderr
    assert f"wrote {out}" in p.stdout and "actors +0 -1" in p.stdout
    snap = _html_snapshot(out.read_text("utf-8"))
    schema = json.loads((REPO / "skeleton_replay/schema/snapshot.schema.json").read_text())
    parts = ("edges", "boundaries", "violations", "diff")  # what the diff builds (A-only nodes are A's, as they were)
    jsonschema.validate({k: snap[k] for k in parts if k in snap},
                        {**schema, "required": ["diff"], "properties": {k: schema["properties"][k] for k in parts}})
    b = json.loads((inline_run / "snapshot.json").read_text())
    # B's nodes, edges and steps first and unchanged (the replay is B's), A's evidence after them
    assert snap["nodes"][: len(b["nodes"])] == b["nodes"] and snap["edges"][: len(b["edges"])] == b["edges"]
    assert snap["steps"] == b["steps"] and snap["run"] == b["run"]
    extra = snap["nodes"][len(b["nodes"]):]
    assert [n["id"] for n in extra] == ["clsm:shop.domain.customer.Customer.normalize_email"]
    assert extra[0]["parent"] == "cls:shop.domain.customer.Customer" and extra[0]["first_seen"] is None
    assert "examples" not in extra[0]  # A's event numbers mean nothing in B's replay
    ids = {n["id"] for n in snap["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in snap["edges"])
    nodes, edges = _marks(snap, "nodes"), _marks(snap, "edges")
    assert nodes == {"clsm:shop.domain.customer.Customer.normalize_email": ("removed", 2, None)}
    place = next(e["source"] for e in b["edges"] if e["target"] == "fn:shop.util:format_money"
                 and "place_order" in e["source"])
    assert edges == {
        f"{place}->fn:shop.util:format_money": ("added", None, 2),
        "clsm:shop.domain.customer.Customer.create->clsm:shop.domain.customer.Customer.normalize_email": (
            "removed", 2, None),
    }
    # the Changes panel: the rows of the text output, each pointing at what to focus
    text = diff(runs["a"], inline_run).stdout
    text_rows = [ln for ln in text.splitlines() if ln.startswith(("  + ", "  - ", "  ~ "))]
    changes = snap["diff"]["changes"]
    assert len(changes) == len(text_rows)
    by_section = {c["section"]: c for c in changes}
    assert by_section["actors_removed"]["node"] == "clsm:shop.domain.customer.Customer.normalize_email"
    assert by_section["edges_added"]["edge"] == f"{place}->fn:shop.util:format_money"
    assert by_section["dependencies_added"]["node"] == "mod:shop.services.orders"
    assert snap["diff"]["a"]["path"] == str(runs["a"]) and snap["diff"]["b"]["calls"] == b["stats"]["calls"]


def test_html_diff_of_renumbered_instances_marks_only_real_changes(runs, tmp_path):
    out = tmp_path / "d.html"
    assert diff(runs["a"], runs["shift"], "--format", "html", "-o", out).returncode == 0
    snap = _html_snapshot(out.read_text("utf-8"))
    b = json.loads((runs["shift"] / "snapshot.json").read_text())
    assert len(snap["nodes"]) == len(b["nodes"]) and len(snap["edges"]) == len(b["edges"])  # nothing only in A
    assert {m["status"] for m in snap["diff"]["edges"]} == {"added"}
    assert {(snap_edge["source"], snap_edge["target"]) for snap_edge in snap["edges"]
            if snap_edge["id"] in _marks(snap, "edges")} == {
        ("fn:app:main", "clsm:shop.domain.money.Money.parse"), ("fn:app:main", "meth:shop.domain.money.Money#1.times")}


def test_html_diff_marks_call_count_changes_with_both_counts(runs, tmp_path):
    out = tmp_path / "d.html"
    assert diff(runs["a"], runs["refactor"], "--format", "html", "--threshold", "20%", "-o", out).returncode == 0
    snap = _html_snapshot(out.read_text("utf-8"))
    assert _marks(snap, "nodes") == {"fn:shop.util:format_money": ("changed", 5, 7)}
    row = next(c for c in snap["diff"]["changes"] if c["section"] == "calls_changed")
    assert row["sign"] == "~" and row["node"] == "fn:shop.util:format_money" and "5 -> 7 calls" in row["note"]


def test_html_diff_io_moved_and_violation_fixed(runs, tmp_path):
    rules = REPO / "examples" / "shop" / "skeleton-rules.toml"
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(runs["a"], a)
    shutil.copytree(runs["io_fix"], b)
    for run in (a, b):
        skeleton("check", "--rules", str(rules), str(run))
    out = tmp_path / "d.html"
    assert diff(a, b, "--format", "html", "-o", out).returncode == 0
    snap = _html_snapshot(out.read_text("utf-8"))
    snap_b = json.loads((b / "snapshot.json").read_text())
    summarize = next(n["id"] for n in snap_b["nodes"] if n["id"].endswith("ReportService#1.summarize"))
    write_json = next(n["id"] for n in snap_b["nodes"] if n["id"].endswith("FileStorage#1.write_json"))
    summary = "io:file:<tmp>/summary.json"
    edges = _marks(snap, "edges")
    assert edges[f"{summarize}->{summary}"][0] == "removed" and edges[f"{write_json}->{summary}"][0] == "added"
    bd = next(x for x in snap["boundaries"] if x["id"] == summary)
    assert {u["actor"] for u in bd["uses"]} == {summarize, write_json}  # A's use, on B's summarize
    assert snap["violations"] == snap_b["violations"]  # the run's own stay B's: the header counts them
    assert snap["diff"]["violations"] == [
        {"rule": "only storage touches files", "source": summarize, "target": summary, "status": "removed"}]
    row = next(c for c in snap["diff"]["changes"] if c["section"] == "violations_removed")
    assert row["edge"] == f"{summarize}->{summary}"


def test_html_diff_goes_to_diff_html_by_default_or_stdout(runs, tmp_path):
    p = skeleton("diff", str(runs["a"]), str(runs["refactor"]), "--format", "html", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "diff.html").is_file() and "wrote diff.html" in p.stdout
    assert "<html" not in p.stdout
    p = diff(runs["a"], runs["refactor"], "--format", "html", "-o", "-")
    assert p.returncode == 0 and _html_snapshot(p.stdout)["diff"]["summary"]["edges_added"] == 1
    p = diff(runs["a"], runs["refactor"], "--format", "html", "-o", tmp_path / "missing" / "d.html")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "does not exist" in p.stderr


def test_html_diff_marks_carry_the_counts_of_their_key_once_per_object(runs, tmp_path):
    """Money.times on many objects: every Money#k.times node is marked with the counts of the key (all objects),
    and says which key, so the report counts them once when it folds the objects together."""
    out = tmp_path / "d.html"
    assert diff(runs["a"], runs["shift"], "--format", "html", "--threshold", "1", "-o", out).returncode == 0
    snap = _html_snapshot(out.read_text("utf-8"))
    d = diff_json(runs["a"], runs["shift"], "--threshold", "1")
    times = next(c for c in d["actors"]["changed"] if c["key"] == "meth:shop.domain.money.Money.times")
    marks = [m for m in snap["diff"]["nodes"] if m["key"] == "meth:shop.domain.money.Money.times"]
    nodes = {n["id"] for n in snap["nodes"]
             if n["kind"] == "method" and n["id"].startswith("meth:shop.domain.money.Money#") and n["label"] == "times"}
    assert len(marks) == len(nodes) > 1 and {m["id"] for m in marks} == nodes
    assert {(m["status"], m["a"], m["b"]) for m in marks} == {("changed", times["a"], times["b"])}
