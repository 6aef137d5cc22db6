"""`skeleton check`: rule files, matching, evaluation on snapshot edges, and the command's exit codes."""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import tomllib

import orjson
import pytest
from conftest import REPO, skeleton

from skeleton_replay import rules
from skeleton_replay.commands import check as cmd
from skeleton_replay.options import UsageError

SHOP_RULES = REPO / "examples" / "shop" / "skeleton-rules.toml"


# -- hand-made snapshots ------------------------------------------------------------------------------

def fn(module: str, name: str) -> dict:
    return {"id": f"fn:{module}:{name}", "kind": "function", "module": module}


def meth(module: str, cls: str, name: str, n: int = 1) -> dict:
    return {"id": f"meth:{module}.{cls}#{n}.{name}", "kind": "method", "module": module, "class_name": cls}


SCENARIO = {"id": "scenario:run", "kind": "scenario", "module": ""}


def snapshot(*calls: tuple[dict, dict, int, int | None]) -> dict:
    nodes = {SCENARIO["id"]: SCENARIO}
    edges = []
    for caller, callee, count, first in calls:
        nodes[caller["id"]], nodes[callee["id"]] = caller, callee
        edges.append({"id": f"{caller['id']}->{callee['id']}", "source": caller["id"], "target": callee["id"],
                      "count": count, "first_seen": first, "raised": 0})
    return {"format_version": 1, "run": {}, "nodes": list(nodes.values()), "edges": edges}


def ruleset(text: str) -> rules.RuleSet:
    return rules.parse(tomllib.loads(textwrap.dedent(text)), "rules.toml")


def results(text: str, snap: dict) -> dict[str, rules.RuleResult]:
    return {r.rule.name: r for r in rules.evaluate(ruleset(text), snap)}


APP, SVC, REPO_, DOM = fn("app", "main"), meth("shop.services.orders", "OrderService", "place"), \
    meth("shop.repositories.memory", "Repo", "get"), meth("shop.domain.order", "Order", "total")

LAYERS = """
    [[layers]]
    name = "L"
    layers = ["app", ["shop.services", "shop.workers"], "shop.repositories", "shop.domain"]
"""


# -- patterns -----------------------------------------------------------------------------------------

def test_module_pattern_covers_submodules_not_lookalikes():
    from skeleton_replay.rules.patterns import parse
    p = parse("shop.services")
    assert p.matches(SVC) and p.matches({"id": "mod:shop.services", "kind": "package", "module": "shop.services"})
    assert not p.matches(meth("shop.servicesx", "A", "b")) and not p.matches(REPO_)
    assert parse("shop.*.memory").matches(REPO_) and not parse("shop.*.memory").matches(SVC)
    assert not parse("*").matches(SCENARIO), "the scenario only matches id: patterns"
    assert parse("id:scenario:*").matches(SCENARIO)


def test_class_and_id_patterns():
    from skeleton_replay.rules.patterns import parse
    assert parse("class:Repo").matches(REPO_) and parse("class:shop.repositories.*.Repo").matches(REPO_)
    assert not parse("class:Repo").matches(APP) and not parse("class:Order").matches(REPO_)
    assert parse("id:meth:shop.repositories.memory.Repo#*.get").matches(REPO_)
    assert not parse("id:meth:shop.repositories.memory.Repo#*.put").matches(REPO_)


# -- evaluation ---------------------------------------------------------------------------------------

def test_layers_flag_upward_calls_only():
    snap = snapshot((APP, SVC, 1, 0), (SVC, REPO_, 2, 1), (SVC, DOM, 1, 3), (REPO_, SVC, 3, 7), (DOM, REPO_, 4, 9),
                    (SVC, meth("shop.workers.audit", "W", "run"), 1, 11), (fn("elsewhere", "f"), APP, 1, 12))
    r = results(LAYERS, snap)["L"]
    assert r.status == "violated"
    assert [(v.source, v.target, v.count, v.first_seen) for v in r.violations] == [
        (REPO_["id"], SVC["id"], 3, 7), (DOM["id"], REPO_["id"], 4, 9)]
    assert r.violations[0].detail == ("layer 3 (shop.repositories) calls up into layer 2 "
                                      "(shop.services | shop.workers)")
    assert r.calls == 7


def test_the_most_specific_pattern_places_a_node():
    text = """
        [[layers]]
        name = "L"
        layers = ["shop.domain", "shop"]
    """
    core = meth("shop.core", "C", "f")
    # shop.domain.order matches both "shop.domain" (top) and "shop" (bottom): the longer pattern wins
    assert results(text, snapshot((core, DOM, 1, 0)))["L"].violations[0].source == core["id"]
    assert results(text, snapshot((DOM, core, 1, 0)))["L"].status == "passed"


def test_forbidden_with_ignore():
    text = """
        [[forbidden]]
        name = "F"
        callers = ["shop.services"]
        callees = ["class:Repo", "shop.domain"]
        ignore = ["shop.services.orders -> shop.domain.order"]
    """
    r = results(text, snapshot((SVC, REPO_, 2, 5), (SVC, DOM, 1, 6), (APP, REPO_, 1, 7)))["F"]
    assert [(v.source, v.target) for v in r.violations] == [(SVC["id"], REPO_["id"])]
    assert r.violations[0].detail == "shop.services must not call class:Repo"


def test_independence_between_groups_not_within():
    a1, a2, b = meth("pkg.a", "A", "f"), meth("pkg.a.sub", "A2", "g"), fn("pkg.b", "h")
    text = """
        [[independence]]
        name = "I"
        modules = ["pkg.a", "pkg.b"]
    """
    r = results(text, snapshot((a1, a2, 1, 0), (a2, b, 2, 1), (APP, b, 1, 2), (b, a1, 1, None)))["I"]
    assert [(v.source, v.target, v.first_seen) for v in r.violations] == [(a2["id"], b["id"], 1),
                                                                         (b["id"], a1["id"], None)]


def test_calls_counted_past_the_cap_have_no_event():
    snap = snapshot((REPO_, SVC, 40, None), (DOM, SVC, 2, 17))
    r = results(LAYERS, snap)["L"]
    assert [v.first_seen for v in r.violations] == [17, None], "recorded violations come first"
    line = cmd.violation_line(r.violations[1], "layers")
    assert line.endswith("(40 calls, counted past the cap): layer 3 (shop.repositories) calls up into layer 2 "
                         "(shop.services | shop.workers)") and "E" + "None" not in line
    assert "(2 calls, first E17)" in cmd.violation_line(r.violations[0], "layers")


def test_io_rules_are_evaluated_on_the_snapshot_boundaries():
    text = """
        [[io]]
        name = "IO"
        kind = "file"
        actors = ["shop.adapters"]
        ignore = ["app -> id:io:file:<tmp>/*"]

        [[io]]
        name = "console"
        kind = "console"
        actors = ["app"]
    """
    snap = snapshot((APP, SVC, 1, 0))
    r = results(text, snap)  # a snapshot of a Skeleton that did not record I/O: no evidence either way
    assert r["IO"].status == "not_evaluated" and r["IO"].note == rules.NO_IO_EVIDENCE and not r["IO"].violations
    adapter = meth("shop.adapters.storage", "FileStorage", "write")
    snap["nodes"].append(adapter)

    def boundary(bid: str, kind: str, *uses: tuple[dict, int, int]) -> dict:
        return {"id": bid, "kind": kind, "uses": [{"actor": a["id"], "count": n, "first_seen": f, "scenarios": [2]}
                                                 for a, n, f in uses]}

    snap["boundaries"] = [boundary("io:file:data/x.json", "file", (SVC, 3, 4), (adapter, 9, 2)),
                          boundary("io:file:<tmp>/work", "file", (APP, 1, 0)),
                          boundary("io:network:example.org:443", "network", (SVC, 1, 1)),
                          boundary("io:console:stdout", "console", (APP, 2, 0), (SVC, 1, 5))]
    r = results(text, snap)
    assert r["IO"].status == "violated"
    assert [(v.source, v.target, v.count, v.first_seen, v.scenarios) for v in r["IO"].violations] == [
        (SVC["id"], "io:file:data/x.json", 3, 4, (2,))]
    # console (and env) I/O is recorded now: evaluated like the other kinds
    assert r["console"].status == "violated" and r["console"].note is None
    assert [(v.source, v.target, v.count) for v in r["console"].violations] == [(SVC["id"], "io:console:stdout", 1)]
    snap["boundaries"] = []  # a run that did no I/O: the rule holds
    assert results(text, snap)["IO"].status == "passed"


def test_patterns_that_match_no_node_are_reported():
    text = LAYERS.replace('"shop.workers"', '"shop.wrokers"')
    r = results(text, snapshot((APP, SVC, 1, 0), (SVC, REPO_, 1, 1), (REPO_, DOM, 1, 2)))["L"]
    assert r.status == "passed" and r.unmatched == ["shop.wrokers"]
    assert "pattern 'shop.wrokers' matched no node" in cmd.warnings([r])[0]


# -- validation: one line naming the file, the rule and what to do --------------------------------------

@pytest.mark.parametrize("text,message", [
    ('[[layer]]\nlayers = ["a", "b"]\n', "rules.toml: unknown rule kind 'layer'; use [[layers]]"),
    ('layers = ["a", "b"]\n', "rules.toml: 'layers' must hold rule tables: write [[layers]] above each rule"),
    ('[[layers]]\nname = "x"\nlayers = ["a"]\n', "[[layers]] #1 ('x'): 'layers' must list at least 2 layers"),
    ('[[layers]]\nlayer = ["a", "b"]\n', "[[layers]] #1: unknown key 'layer'; known keys: name, description"),
    ('[[layers]]\nlayers = ["a", []]\n', "[[layers]] #1: 'layers[1]' must be a list of patterns"),
    ('[[layers]]\nlayers = ["a", "b | c"]\n', "pattern 'b | c' contains spaces"),
    ('[[forbidden]]\ncallers = ["a"]\n', "[[forbidden]] #1: missing 'callees'; write callees = "),
    ('[[forbidden]]\ncallers = ["fn:a"]\ncallees = ["b"]\n', "unknown prefix 'fn:'"),
    ('[[forbidden]]\ncallers = [1]\ncallees = ["b"]\n', "callers: a pattern must be a string, not 1"),
    ('[[independence]]\nmodules = ["a"]\n', "'modules' must list at least 2 patterns"),
    ('[[layers]]\nlayers = ["a", ["b", "a"]]\n', "[[layers]] #1: layers: pattern 'a' is listed twice"),
    ('[[io]]\nkind = "disk"\nactors = ["a"]\n', "'kind' must be one of file, network"),
    ('[[forbidden]]\ncallers = ["a"]\ncallees = ["b"]\nignore = ["a b"]\n', "must be a string \"CALLER -> CALLEE\""),
    ('[[forbidden]]\nname = "n"\ncallers = ["a"]\ncallees = ["b"]\n[[independence]]\nname = "n"\n'
     'modules = ["a", "b"]\n', "two rules are named 'n'"),
    ('', "holds no rules"),
])
def test_malformed_rules_give_one_line(text, message):
    with pytest.raises(UsageError) as exc:
        ruleset(text)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert str(exc.value).startswith("rules.toml: ")


def test_pyproject_rules_are_read_from_the_tool_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert rules.load_project(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('[tool.skeleton]\nsecret_names = ["pin"]\n\n'
                                             '[[tool.skeleton.rules.forbidden]]\ncallers = ["a"]\ncallees = ["b"]\n')
    rs = rules.load_project(tmp_path)
    assert [r.name for r in rs.rules] == ["forbidden #1"] and rs.table == "[tool.skeleton.rules]"
    assert rules.load_file(tmp_path / "pyproject.toml").rules == rs.rules
    (tmp_path / "pyproject.toml").write_text('[[tool.skeleton.rules.forbidden]]\ncallers = ["a"]\n')
    with pytest.raises(UsageError, match=r"pyproject.toml: \[tool.skeleton.rules\] \[\[forbidden\]\] #1: missing"):
        rules.load_project(tmp_path)


# -- the command, on a real run of examples/shop ---------------------------------------------------------

@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    out = tmp_path_factory.mktemp("shop") / "out"
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(out), str(REPO / "examples" / "shop" / "app.py"))
    assert p.returncode == 0, p.stderr
    return out


def _edge(out, source_part: str, target_part: str) -> dict:
    snap = orjson.loads((out / "snapshot.json").read_bytes())
    [edge] = [e for e in snap["edges"] if source_part in e["source"] and target_part in e["target"]]
    return edge


def test_shop_rules_find_the_violation(shop):
    p = skeleton("check", "--rules", str(SHOP_RULES), str(shop))
    assert p.returncode == 1, p.stderr
    edge = _edge(shop, "FileStorage#", "OrderRepository#")
    snap = orjson.loads((shop / "snapshot.json").read_bytes())
    [summary] = [b for b in snap["boundaries"] if b["id"] == "io:file:<tmp>/summary.json"]
    [use] = summary["uses"]
    lines = p.stdout.splitlines()
    assert lines[0] == (f'layers "shop layers": {edge["source"]} -> {edge["target"]} ({edge["count"]} call, '
                        f'first E{edge["first_seen"]}): layer 4 (shop.adapters) calls up into layer 3 '
                        "(shop.repositories)")
    assert use["actor"].startswith("meth:shop.services.reporting.ReportService#")
    assert use["actor"].endswith(".summarize")
    assert lines[1] == (f'io "only storage touches files": {use["actor"]} -> io:file:<tmp>/summary.json '
                        f'(1 time, first E{use["first_seen"]}): file I/O outside the allowed actors '
                        "(shop.adapters.storage)")
    assert lines[2].startswith("skeleton check: FAILED: 2 of 6 rules violated on 2 edges (2 calls)")
    assert len(lines) == 3 and p.stderr == ""
    doc = orjson.loads((shop / "check.json").read_bytes())
    assert doc["status"] == "violated" and doc["rules_file"] == str(SHOP_RULES)
    layers = doc["rules"][0]
    assert [(v["edge"], v["count"], v["event"]) for v in layers["violations"]] == [
        (edge["id"], edge["count"], f"E{edge['first_seen']}")]
    assert [r["status"] for r in doc["rules"]] == ["violated", "passed", "passed", "violated", "passed", "passed"]


def test_violations_are_recorded_in_the_snapshot_and_workflow_md(shop, tmp_path):
    for _ in range(2):  # a second check replaces the section, never adds one
        assert skeleton("check", "--rules", str(SHOP_RULES), str(shop)).returncode == 1
    snap = orjson.loads((shop / "snapshot.json").read_bytes())
    assert [(v["kind"], v["rule"]) for v in snap["violations"]] == [("layers", "shop layers"),
                                                                    ("io", "only storage touches files")]
    assert snap["violations"][1]["target"] == "io:file:<tmp>/summary.json"
    text = (shop / "workflow.md").read_text()
    assert text.count("## Rule violations") == 1
    section = text.split("## Rule violations", 1)[1]
    assert "- 2 violating edges of" in section and "io `only storage touches files`:" in section
    assert "`io:file:<tmp>/summary.json`: 1 time, first E" in section
    ok = tmp_path / "ok.toml"
    ok.write_text('[[io]]\nname = "any"\nkind = "file"\nactors = ["shop", "examples"]\n')
    assert skeleton("check", "--rules", str(ok), str(shop)).returncode == 0
    assert orjson.loads((shop / "snapshot.json").read_bytes())["violations"] == []
    assert "- none: every rule of" in (shop / "workflow.md").read_text().split("## Rule violations", 1)[1]


def test_any_snapshot_file_can_be_checked(shop, tmp_path):
    copy = tmp_path / "before-refactor.json"
    shutil.copyfile(shop / "snapshot.json", copy)
    p = skeleton("check", "--rules", str(SHOP_RULES), str(copy))
    assert p.returncode == 1, p.stderr
    assert len(orjson.loads(copy.read_bytes())["violations"]) == 2  # recorded in the file checked, nothing else
    assert sorted(x.name for x in tmp_path.iterdir()) == ["before-refactor.json", "check.json"]


def test_json_output_is_check_json(shop):
    p = skeleton("check", "--json", "--rules", str(SHOP_RULES), str(shop / "snapshot.json"))
    assert p.returncode == 1
    assert orjson.loads(p.stdout) == orjson.loads((shop / "check.json").read_bytes())


def test_rules_without_violation_exit_0(shop, tmp_path):
    text = SHOP_RULES.read_text().replace('name = "shop layers"\n', 'name = "shop layers"\nignore = '
                                          '["shop.adapters.storage -> shop.repositories.memory"]\n')
    text = text.replace('actors = ["shop.adapters.storage"]',
                        'actors = ["shop.adapters.storage", "class:ReportService"]')
    (tmp_path / "ok.toml").write_text(text)
    p = skeleton("check", "--rules", str(tmp_path / "ok.toml"), str(shop))
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines()[-1].startswith("skeleton check: passed: 6 rules hold; rules:")
    assert orjson.loads((shop / "check.json").read_bytes())["status"] == "passed"


@pytest.mark.parametrize("text,message", [
    ('[[layers]]\nname = "L"\nlayers = ["shop"]\n', "[[layers]] #1 ('L'): 'layers' must list at least 2 layers"),
    ('[[forbidden\n', "is not valid TOML"),
])
def test_malformed_rule_file_exits_2_with_one_line(shop, tmp_path, text, message):
    (tmp_path / "bad.toml").write_text(text)
    p = skeleton("check", "--rules", str(tmp_path / "bad.toml"), str(shop))
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.splitlines()) == 1 and "Traceback" not in p.stderr
    assert p.stderr.startswith(f"skeleton: error: {tmp_path / 'bad.toml'}") and message in p.stderr


def test_missing_inputs_exit_2(shop, tmp_path):
    for args, message in [
        ((str(tmp_path),), f"{tmp_path} is not a Skeleton run: no snapshot.json in it"),
        ((str(tmp_path / "nope"),), f"{tmp_path / 'nope'} does not exist; pass a run folder"),
        (("--rules", str(tmp_path / "nope.toml"), str(shop)), f"rule file {tmp_path / 'nope.toml'} does not exist"),
    ]:
        p = skeleton("check", *args)
        assert p.returncode == 2 and len(p.stderr.splitlines()) == 1 and message in p.stderr, p.stderr


def test_rules_from_the_projects_pyproject(tmp_path):
    """[tool.skeleton.rules] sits next to [tool.skeleton]: `skeleton run` accepts it, `skeleton check` finds it."""
    project = tmp_path / "proj"
    shutil.copytree(REPO / "examples" / "shop", project, ignore=shutil.ignore_patterns("tests", ".pytest_cache"))
    rules_text = (project / "skeleton-rules.toml").read_text().replace("[[", "[[tool.skeleton.rules.")
    rules_text = rules_text.replace('"examples.shop.app"', '"app"')  # the project root is now the shop folder
    (project / "pyproject.toml").write_text('[project]\nname = "shop"\n\n[tool.skeleton]\nsecret_names = ["pin"]\n\n'
                                            + rules_text)
    out = tmp_path / "out"
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(out), str(project / "app.py"))
    assert p.returncode == 0, p.stderr
    p = skeleton("check", str(out))
    assert p.returncode == 1, p.stderr
    assert p.stdout.startswith('layers "shop layers": meth:shop.adapters.storage.FileStorage#1.write_lines -> ')
    assert f"rules: {project / 'pyproject.toml'}" in p.stdout
    (project / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    p = skeleton("check", str(out))
    assert p.returncode == 2 and "has no [tool.skeleton.rules] table; add one or pass --rules FILE" in p.stderr


def test_a_single_rule_may_be_a_plain_table():
    rs = ruleset('[forbidden]\nname = "F"\ncallers = "shop.services"\ncallees = "shop.domain"\n')
    assert [r.name for r in rs.rules] == ["F"]
    assert results('[forbidden]\nname = "F"\ncallers = "shop.services"\ncallees = "shop.domain"\n',
                   snapshot((SVC, DOM, 2, 3)))["F"].violations[0].count == 2


# -- skeleton run --check / skeleton pytest --check / pytest --skeleton-check ----------------------------------
def test_run_check_exits_1_on_a_violation_and_keeps_the_program_output(tmp_path):
    out = tmp_path / "out"
    p = skeleton("run", "--no-open", "--no-html", "--check", "--rules", str(SHOP_RULES), "--out-dir", str(out),
                 str(REPO / "examples" / "shop" / "app.py"))
    assert p.returncode == 1, p.stderr
    assert p.stdout.startswith("Shop demo:")  # the program's own output, untouched
    err = p.stderr.splitlines()
    io_line = 'skeleton: io "only storage touches files": meth:shop.services.reporting.'
    assert any(line.startswith(io_line) for line in err)
    assert err[-1].startswith("skeleton: check: FAILED: 2 of 6 rules violated")
    assert len(orjson.loads((out / "snapshot.json").read_bytes())["violations"]) == 2
    assert orjson.loads((out / "check.json").read_bytes())["status"] == "violated"


def test_run_check_keeps_a_failing_program_exit_code_and_passes_clean_runs(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[[tool.skeleton.rules.io]]\nname = 'no files'\nkind = 'file'\nactors = ['nobody']\n")
    (tmp_path / "app.py").write_text("import sys\n\ndef main():\n    open('x.txt', 'w').close()\n"
                                     "    sys.exit(int(sys.argv[1]))\n\nmain()\n")
    (tmp_path / "clean.py").write_text("def main():\n    return 1\n\nmain()\n")
    run = ("run", "--no-open", "--no-html", "--check", "--out-dir", str(tmp_path / "out"))
    assert skeleton(*run, str(tmp_path / "app.py"), "3", cwd=tmp_path).returncode == 3  # the program's failure wins
    p = skeleton(*run, str(tmp_path / "app.py"), "0", cwd=tmp_path)
    assert p.returncode == 1 and 'io "no files": fn:app:main -> io:file:x.txt' in p.stderr
    p = skeleton(*run, str(tmp_path / "clean.py"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "skeleton: check: passed: 1 rule holds" in p.stderr


def test_run_check_with_a_bad_rule_file_exits_2_before_the_program_runs(tmp_path):
    (tmp_path / "bad.toml").write_text("[[io]]\nkind = 'disk'\nactors = ['a']\n")
    p = skeleton("run", "--no-open", "--check", "--rules", str(tmp_path / "bad.toml"), "--out-dir",
                 str(tmp_path / "out"), str(REPO / "examples" / "shop" / "app.py"))
    assert p.returncode == 2 and p.stdout == "" and not (tmp_path / "out").exists()
    assert len(p.stderr.splitlines()) == 1 and "'kind' must be one of file" in p.stderr


def test_pytest_skeleton_check_fails_a_passing_session_on_a_violation(tmp_path):
    shop = REPO / "examples" / "shop"
    base = ("-q", "-p", "no:randomly", "-p", "no:cacheprovider", "tests/test_checkout.py")
    p = subprocess.run([sys.executable, "-m", "pytest", *base, "--skeleton", "--skeleton-no-html",
                        "--skeleton-check", "--skeleton-rules", str(SHOP_RULES), "--skeleton-out", str(tmp_path / "a")],
                       cwd=shop, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stdout[-2000:]
    assert "skeleton: check: FAILED" in p.stdout and " passed" in p.stdout and " failed" not in p.stdout
    p = skeleton("pytest", "--no-html", "--check", "--rules", str(SHOP_RULES), "--out-dir", str(tmp_path / "b"),
                 "--", *base, cwd=shop)
    assert p.returncode == 1 and "skeleton: check: FAILED" in p.stderr
