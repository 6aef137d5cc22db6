"""trace.jsonl: structure and meaning of the recorded events, on every backend."""
from __future__ import annotations

import pytest

from conftest import BACKENDS, HAS_SYSMON


def by_node(events, node_id):
    return [e for e in events if e["callee"]["node_id"] == node_id]


@pytest.fixture(params=BACKENDS)
def basics(request, run_app):
    r = run_app("basics", "x", backend=request.param)
    assert r.code == 0, r.proc.stderr
    return r


def test_header_first_and_end_last(basics):
    lines = basics.lines()
    assert lines[0]["record"] == "header"
    assert lines[0]["backend"] in ("sysmon", "setprofile")
    assert lines[0]["backend_reason"]
    assert lines[-1]["record"] == "end"
    assert lines[-1]["status"] == "ok" and lines[-1]["exit_code"] == 0
    assert lines[-1]["events"] == len(basics.events())


def test_order_is_gap_free_and_calls_match_returns(basics):
    events = basics.events()
    assert [e["order"] for e in events] == list(range(len(events)))
    open_calls = {}
    for e in events:
        if e["event_type"] == "call":
            assert e["call_id"] == e["order"]
            open_calls[e["call_id"]] = e
        elif e["event_type"] in ("return",):
            call = open_calls.pop(e["call_id"])
            assert call["callee"]["node_id"] == e["callee"]["node_id"]
            assert call["depth"] == e["depth"]
    assert not open_calls, "every call has its return"


def test_script_module_named_from_path_and_kinds(basics):
    events = basics.events()
    calls = {e["callee"]["node_id"]: e["callee"] for e in events if e["event_type"] == "call"}
    assert calls["fn:app:main"]["callable_kind"] == "module_function"
    assert calls["fn:pkg.flow:handle"]["module"] == "pkg.flow"
    kinds = {c["callable_kind"] for c in calls.values()}
    assert kinds == {"module_function", "instance_method", "class_method", "static_method"}
    assert calls["clsm:pkg.shapes.Shape.make"]["callable_kind"] == "class_method"
    assert calls["clsm:pkg.shapes.Shape.unit"]["callable_kind"] == "static_method"
    # dunders, lambdas, genexprs and module bodies are not calls
    assert not any("__init__" in n or "<" in n for n in calls)


def test_instances_show_runtime_class_and_are_numbered(basics):
    events = basics.events()
    areas = [e["callee"] for e in events if e["event_type"] == "call" and e["callee"]["function"] == "area"]
    ids = [a["node_id"] for a in areas]
    assert "meth:pkg.shapes.Square#1.area" in ids and "meth:pkg.shapes.Square#2.area" in ids
    assert "meth:pkg.shapes.Shape#1.area" in ids  # Shape.make("blob") -> a plain Shape
    sq = next(a for a in areas if a["node_id"] == "meth:pkg.shapes.Square#1.area")
    assert sq["class_name"] == "Square" and isinstance(sq["instance_id"], int)


def test_exception_caught_two_levels_up(basics):
    events = basics.events()
    raised = [e for e in events if e["event_type"] == "return" and "exception" in e]
    names = [e["callee"]["node_id"] for e in raised]
    assert names == ["fn:pkg.flow:validate", "fn:pkg.flow:process"]
    if basics.header()["backend"] == "sysmon":
        assert raised[0]["exception"]["type"] == "pkg.flow.ValidationError"
        assert raised[0]["exception"]["message"]["value"] == "negative: -1"
    handle_ret = by_node(events, "fn:pkg.flow:handle")[-1]
    assert handle_ret["event_type"] == "return" and "exception" not in handle_ret


def test_generator_yields_and_resumes_keep_call_id(basics):
    events = by_node(basics.events(), "fn:pkg.flow:countdown")
    kinds = [e["event_type"] for e in events]
    assert kinds == ["call", "yield", "resume", "yield", "resume", "yield", "resume", "return"]
    assert len({e["call_id"] for e in events}) == 1
    assert [e["value"]["value"] for e in events if e["event_type"] == "yield"] == [3, 2, 1]


def test_recursion_depths(basics):
    fib = [e for e in by_node(basics.events(), "fn:pkg.flow:fib") if e["event_type"] == "call"]
    assert len(fib) == 15  # fib(5) makes 15 calls
    depths = [e["depth"] for e in fib]
    assert max(depths) - min(depths) == 4
    assert fib[1]["caller"]["node_id"] == "fn:pkg.flow:fib"


def test_args_and_returns_are_summaries_with_secrets_redacted(basics):
    login = by_node(basics.events(), "fn:pkg.flow:login")
    call, ret = login
    assert call["args"]["user"] == {"type": "str", "value": "ada"}
    assert call["args"]["password"] == {"type": "str", "redacted": True, "len": 14}
    assert call["args"]["api_token"]["redacted"] is True
    assert ret["return_value"]["type"] == "dict"
    text = (basics.out / "trace.jsonl").read_text() + basics.workflow()
    assert "hunter2" not in text and "tok_live" not in text


def test_program_behaviour_unchanged(basics):
    out = basics.proc.stdout.splitlines()
    assert out[:6] == ["area 13 1", "describe square:4", "handled [2, None, 4]", "countdown [3, 2, 1]", "fib 5", "login True"]
    assert "argv ['x']" in out and "name __main__" in out
    assert any(line.startswith("path0 ") and line.endswith("basics") for line in out)


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_and_asyncio(run_app, backend):
    r = run_app("concurrency", backend=backend)
    assert r.code == 0, r.proc.stderr
    assert "async [('a', 3), ('b', 2), 'ValueError']" in r.proc.stdout
    events = r.events()
    names = {e["thread"]: e["thread_name"] for e in events if "thread_name" in e}
    assert sorted(names.values()) == ["MainThread", "worker-0", "worker-1"]
    for tid in names:  # each thread has a consistent stack of its own
        depth_ok = all(e["depth"] >= 0 for e in events if e["thread"] == tid)
        assert depth_ok
    adds = [e for e in events if e["callee"]["function"] == "add" and e["event_type"] == "call"]
    assert {e["caller"]["node_id"] for e in adds} == {"fn:app:work"}
    assert len({e["callee"]["node_id"] for e in adds}) == 2  # one per Counter instance
    consume = [e for e in events if e["callee"]["function"] == "consume"]
    calls = [e for e in consume if e["event_type"] == "call"]
    assert len(calls) == 2
    for c in calls:  # an awaiting task is suspended, not returned
        mine = [e["event_type"] for e in consume if e["call_id"] == c["call_id"]]
        assert mine[0] == "call" and mine[-1] == "return" and "yield" in mine and "resume" in mine
    failing = [e for e in events if e["callee"]["function"] == "failing" and e["event_type"] == "return"]
    assert len(failing) == 1 and "exception" in failing[0]


@pytest.mark.skipif(not HAS_SYSMON, reason="the backend comparison needs sys.monitoring (3.12+)")
def test_both_backends_give_the_same_trace(run_app):
    def norm(run):
        out = []
        for e in run.events():
            exc = e.get("exception")
            out.append((e["event_type"], e["order"], e["call_id"], e["depth"], e["thread"],
                        (e["caller"] or {}).get("node_id"), e["callee"], e.get("args"), e.get("return_value"),
                        e.get("value"), exc is not None))
        return out

    a = run_app("basics", "x", backend="sysmon")
    b = run_app("basics", "x", backend="setprofile")
    ea, eb = norm(a), norm(b)
    assert len(ea) == len(eb)
    for x, y in zip(ea, eb):
        assert x == y


@pytest.mark.parametrize("backend", BACKENDS)
def test_many_threads_meeting_new_code_at_once(tmp_path, backend):
    """Threads that start the same never-seen function together get one code id and whole stacks."""
    from conftest import skeleton
    import json
    script = tmp_path / "race.py"
    script.write_text(
        "import threading\n"
        "barrier = threading.Barrier(8)\n"
        "class Box:\n"
        "    def put(self, x):\n"
        "        return leaf(x)\n"
        "def leaf(x):\n"
        "    return x\n"
        "def work(i):\n"
        "    barrier.wait()\n"
        "    b = Box()\n"
        "    for j in range(50):\n"
        "        b.put(j)\n"
        "ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n"
        "[t.start() for t in ts]\n"
        "[t.join() for t in ts]\n")
    for attempt in range(3):
        out = tmp_path / f"o{attempt}"
        p = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(out), str(script))
        assert p.returncode == 0, p.stderr
        lines = [json.loads(l) for l in (out / "trace.jsonl").read_text().splitlines()]
        end = lines[-1]
        assert not [g for g in end["gaps"] if g["kind"] == "unmatched"], end["gaps"]
        events = lines[1:-1]
        assert [e["order"] for e in events] == list(range(len(events)))
        assert end["calls"] == 8 * (1 + 50 * 2)
        per_thread: dict = {}
        for e in events:
            per_thread.setdefault(e["thread"], []).append(e["event_type"])
        assert len(per_thread) == 8
        for kinds in per_thread.values():
            assert kinds.count("call") == kinds.count("return") == 101
