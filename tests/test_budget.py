"""Recording budgets (capture/budget.py): the recorded events represent the whole run, not its start.

Each test of a suite gets its share, import-time calls have a small budget of their own, every
caller -> callee edge keeps its first calls past the budgets, and --max-events stays the hard total.
"""
from __future__ import annotations

import collections
import importlib.util
import shutil
import textwrap
from pathlib import Path

import orjson
import pytest
from conftest import BACKENDS, Run, skeleton


def _skeleton(tmp_path: Path, *args: str, name: str = "out", cwd: Path | None = None) -> Run:
    out = tmp_path / name
    proc = skeleton(*args[:1], "--no-open", "--no-html", "--out-dir", str(out), *args[1:], cwd=cwd, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return Run(proc, out)


def _sampling(run: Run) -> str:
    return next(g["message"] for g in run.end()["gaps"] if g["kind"] == "sampling")


# -- each test of a real suite has recorded steps -----------------------------------------------------------

SUITE = textwrap.dedent("""
    import pytest

    import jinja2

    ENV = jinja2.Environment(autoescape=True)
    PAGE = ENV.from_string("<ul>{% for x in items %}<li>{{ x|upper|truncate(9) }}</li>{% endfor %}</ul>")


    @pytest.mark.parametrize("i", range(500))
    def test_page(i):
        if i % 25 == 0:  # a new template now and then: the lexer, parser and compiler run again
            page = ENV.from_string("{% for x in items %}<p>{{ loop.index }} {{ x|title }}</p>{% endfor %}" + str(i))
            assert page.render(items=["a", "b"]).count("<p>") == 2
        items = [f"item {i} {n}" for n in range(150)]
        assert PAGE.render(items=items).count("<li>") == 150
""")


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_test_of_a_real_suite_has_recorded_steps_at_the_default_cap(tmp_path, backend):
    """500 tests rendering pages with a real library (a copy of jinja2, so it is project code): about
    350,000 events, past the default cap of 200,000. Before: the cap spanned the session, and the last
    ~45 % of the tests had no recorded step at all (only counts)."""
    project = tmp_path / "site"
    (project / "tests").mkdir(parents=True)
    shutil.copytree(Path(importlib.util.find_spec("jinja2").origin).parent, project / "jinja2",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (project / "tests" / "test_pages.py").write_text(SUITE)
    # the copy, not the installed jinja2: `skeleton pytest` puts no folder on sys.path, as `pytest` (docs/pytest.md)
    (project / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    run = _skeleton(tmp_path, "pytest", "--backend", backend, "--project-root", str(project), "--",
                    "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "tests", cwd=project)
    end = run.end()
    assert end["dropped_events"] > 0  # the run went past the cap
    events = run.events()
    assert len(events) <= 200_000
    tests = [s["name"] for s in end["scenarios"]]
    assert len(tests) == 500
    per_test = collections.Counter(e.get("scenario") for e in events)
    # steps of its own: the test function's call and return, and the library calls it made
    lib_calls = collections.Counter(e.get("scenario") for e in events
                                    if e["event_type"] == "call" and e["callee"]["module"].startswith("jinja2"))
    without = [t for t in tests if lib_calls[t] == 0]
    assert not without, f"{len(without)} tests without a recorded library call, e.g. {without[:3]}"
    assert min(per_test[t] for t in tests) >= 50
    # shares are even: the last test is recorded about as fully as the median one
    assert per_test[tests[-1]] >= sorted(per_test[t] for t in tests)[250] // 2
    assert "500 scenarios" in _sampling(run)


# -- the work after imports is recorded -------------------------------------------------------------------------

ORM = textwrap.dedent("""
    from sqlalchemy import ForeignKey, String, create_engine, select
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "user_account"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(30))
        addresses: Mapped[list["Address"]] = relationship(back_populates="user")


    class Address(Base):
        __tablename__ = "address"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str]
        user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
        user: Mapped[User] = relationship(back_populates="addresses")


    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([User(name="ann", addresses=[Address(email="ann@example.org")]),
                         User(name="bob", addresses=[Address(email="bob@example.org")])])
        session.commit()
        print([u.name for u in session.scalars(select(User).order_by(User.id))])
""")


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_work_of_a_sqlalchemy_script_is_recorded_not_only_its_imports(tmp_path, backend):
    """SQLAlchemy traced as the project: importing it makes ~11,000 events of traced calls, the script's
    work ~6,000. Before, with --max-events 8000, the imports took the whole budget and `Session` never
    appeared in the recorded events; now the imports get 8000 // 40 and the work is recorded."""
    pytest.importorskip("sqlalchemy")
    site = Path(importlib.util.find_spec("sqlalchemy").origin).parent.parent
    script = tmp_path / "orm_app.py"
    script.write_text(ORM)
    run = _skeleton(tmp_path, "run", "--backend", backend, "--max-events", "8000", "--project-root", str(site),
                    "--include", "sqlalchemy*", str(script))
    assert "['ann', 'bob']" in run.proc.stdout
    events = run.events()
    assert len(events) <= 8000
    session = {e["callee"]["function"] for e in events
               if e["event_type"] == "call" and e["callee"].get("class_name") == "Session"}
    assert {"add_all", "commit", "scalars"} <= session
    # the import-time calls past their budget are counted, with no caller (a module body made them)
    counted = run.end()["counted"]
    assert sum(c["calls"] for c in counted if c["caller"] is None) > 500
    assert "imports " in _sampling(run)


PACKAGE = {
    "registry/__init__.py": "",
    "registry/table.py": textwrap.dedent("""
        TABLE = {}

        def register(name, value):
            TABLE[name] = normalise(value)
            return value

        def normalise(value):
            return value * 2

        for i in range(3000):  # import-time work: 6,000 calls while the module body runs
            register(f"k{i}", i)
    """),
    "app.py": textwrap.dedent("""
        def main():
            from registry import table   # imported while main() runs: its calls belong to the imports
            return sum(lookup(table, f"k{i}") for i in range(100))

        def lookup(table, key):
            return table.TABLE[key]

        print(main())
    """),
}


def _package(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for name, text in PACKAGE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("backend", BACKENDS)
def test_import_time_calls_are_a_phase_with_a_small_budget(tmp_path, backend):
    root = _package(tmp_path)
    run = _skeleton(tmp_path, "run", "--backend", backend, "--max-events", "4000", "--project-root", str(root),
                    str(root / "app.py"))
    assert run.proc.stdout.strip() == str(sum(2 * i for i in range(100)))
    events = run.events()
    calls = [e for e in events if e["event_type"] == "call"]
    register = [e for e in calls if e["callee"]["function"] == "register"]
    lookups = [e for e in calls if e["callee"]["function"] == "lookup"]
    assert 0 < len(register) <= 4000 // 40  # the imports' budget
    assert len(lookups) == 100  # the work after the import: every call recorded
    assert all(e["caller"]["function"] == "main" for e in lookups)
    counted = {(c["caller"] and c["caller"]["function"], c["callee"]["function"]): c["calls"]
               for c in run.end()["counted"]}
    # what the module body called past the budget: counted, on the edge from the nearest traced frame (main,
    # which imported it), as a recorded trace would show it
    assert counted[("main", "register")] == 3000 - len(register)
    assert counted[("register", "normalise")] >= 3000 - len(register)
    assert run.end()["calls"] == 1 + 6000 + 100


# -- every edge keeps its first calls past the cap ---------------------------------------------------------------

EDGES = textwrap.dedent("""
    def step(i):
        if i >= 900:
            return check(i)   # a new edge, long after the cap, under a counted caller
        return i

    def check(i):
        return -i

    def loop():
        return sum(step(i) for i in range(1000))

    print(loop())
""")


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_edge_keeps_its_first_calls_past_the_cap(tmp_path, backend):
    script = tmp_path / "edges.py"
    script.write_text(EDGES)
    run = _skeleton(tmp_path, "run", "--backend", backend, "--max-events", "400", "--project-root", str(tmp_path),
                    str(script))
    events = run.events()
    assert len(events) <= 400
    checks = [e for e in events if e["event_type"] == "call" and e["callee"]["function"] == "check"]
    # the first 3 calls of step -> check, with their arguments and their caller, with event ids
    assert [e["args"]["i"]["value"] for e in checks] == [900, 901, 902]
    assert all(e["caller"]["function"] == "step" for e in checks)
    returns = [e for e in events if e["event_type"] == "return" and e["callee"]["function"] == "check"]
    assert len(returns) == 3
    counted = {(c["caller"] and c["caller"]["function"], c["callee"]["function"]): c["calls"]
               for c in run.end()["counted"]}
    assert counted[("step", "check")] == 100 - 3  # the rest are counted, not counted twice
    snap = run.snapshot()
    edge = next(e for e in snap["edges"] if e["target"].endswith("check") and e["source"].endswith("step"))
    assert edge["count"] == 100


# -- --max-events is the hard total ---------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cap", ["1", "57", "400", "3000"])
def test_max_events_stays_the_hard_total(tmp_path, backend, cap):
    root = _package(tmp_path)
    run = _skeleton(tmp_path, "run", "--backend", backend, "--max-events", cap, "--project-root", str(root),
                    str(root / "app.py"))
    end = run.end()
    assert len(run.events()) <= int(cap)
    assert end["events"] <= int(cap)
    assert end["dropped_events"] > 0
    assert end["calls"] == 1 + 6000 + 100  # every call is recorded or counted


# -- a record that cannot be stored keeps a valid shape ----------------------------------------------------------

@pytest.mark.parametrize("fast", [True, False], ids=["c-summariser", "python-summariser"])
def test_a_call_whose_argument_summary_cannot_be_stored_keeps_its_other_arguments(tmp_path, fast):
    """A summary orjson cannot write (never the summariser's plain data, but a bug must not lose the call) becomes a
    placeholder for that argument only, so `args` stays what trace.schema.json wants (it used to replace the whole
    mapping: args {"type": "?", "note": ...}); a return value's becomes the placeholder; both are reported as gaps."""
    import sys

    from skeleton_replay.capture import records as R
    from skeleton_replay.capture.filters import CodeFilter
    from skeleton_replay.capture.recorder import Recorder
    from skeleton_replay.capture.summarise import Summariser
    from skeleton_replay.events.decode import Decoder

    (tmp_path / "mod.py").write_text("def f(a, b):\n    return a\n")
    spec = importlib.util.spec_from_file_location("mod", tmp_path / "mod.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    bad = {"type": "x", "value": object()}  # a live object: orjson cannot write it

    class Broken(Summariser):
        def value(self, v, name=None):
            return bad if name == "b" or v == "b" else super().value(v, name)

    class BrokenFast:  # what capture/_summarise.c's Summariser would return, were it wrong
        class Unstorable(Exception):  # what its args_json/result_json raise then: the recorder takes the dicts' path
            pass

        def args_json(self, frame, names):
            raise self.Unstorable

        def result_json(self, idx, value):
            raise self.Unstorable

        def args(self, frame, names):
            return {n: (bad if n == "b" else {"type": "int", "value": frame.f_locals[n]}) for n in names}

        def result(self, idx, value):
            return bad

    rec = Recorder(CodeFilter(tmp_path), Broken(), R.SpillWriter(tmp_path / "spill"))
    if fast:
        rec.fast_summaries = BrokenFast()
    else:
        rec.fast_summaries = None
    frame = sys._getframe()
    a, b = 1, "b"  # noqa: F841 - read through the frame
    idx = rec.decide(mod.f.__code__, frame)[0]
    tid = rec.new_thread()[0]
    args = rec.summarise_args(frame, ("a", "b"))
    ret = rec.summarise_return(idx, "b")
    assert type(args) is bytes and type(ret) is bytes
    rec.buf.append((R.CALL, idx, tid, 10, args, 0))
    rec.buf.append((R.RETURN, idx, tid, 20, ret, 0))
    rec.flush()
    rec.spill.close()
    decoder = Decoder()
    events = [e for batch in decoder.batches(R.read_spill(tmp_path / "spill")) for e in batch]
    call, back = events
    detail = orjson.loads(call.detail)
    assert detail["a"] == {"type": "int", "value": 1}
    assert detail["b"]["type"] == "?" and "note" in detail["b"]
    assert orjson.loads(back.detail)["type"] == "?"
    assert sum(g.count for g in rec.gaps.values() if g.kind == "tracer_error") >= 2


# -- trace(scenario=...) gets its own recording share, as a pytest test does ---------------------------------------

TRACE_BLOCK = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import work
    import skeleton_replay

    with skeleton_replay.trace(out_dir=sys.argv[2], project_root=sys.argv[1], html=False, max_events=400,
                               backend=sys.argv[3], scenario="checkout"):
        print(work.loop())
""")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_traced_block_scenario_gets_its_own_share(tmp_path, backend):
    import json
    import subprocess
    import sys

    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "work.py").write_text(EDGES.replace("print(loop())", ""))
    (tmp_path / "block.py").write_text(TRACE_BLOCK)
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, str(tmp_path / "block.py"), str(proj), str(out), backend],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = (out / "trace.jsonl").read_text().splitlines()
    end = json.loads(lines[-1])
    events = [json.loads(line) for line in lines[1:-1]]
    sc = end["sampling"]["scenarios"]
    # one scenario with a fixed share: what was left of --max-events (less the edges' reserve) when it began
    assert sc["count"] == 1 and sc["share_min"] == sc["share_max"] == 400 - end["sampling"]["edges"]["reserve"]
    assert sc["without_events"] == 0 and len(events) <= 400
    assert "share each" in next(g["message"] for g in end["gaps"] if g["kind"] == "sampling")
    assert {e.get("scenario") for e in events} == {"checkout"}
    assert end["calls"] == 1 + 1000 + 100
