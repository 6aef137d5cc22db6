"""Selection rules, folder names, request summaries, optional frameworks, the ungated default path."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import pytest

from skeleton_replay.capture.summarise import Summariser
from skeleton_replay.integrations.request import RequestInfo, folder_name, summarise_request, unique_folder
from skeleton_replay.integrations.select import Selection


def test_header_rule_accepts_true_values_only():
    sel = Selection(debug=True)
    assert sel.environ_key == "HTTP_X_SKELETON_TRACE" and sel.header_key == "x-skeleton-trace"
    assert [sel.match("/x", v) for v in ("1", "true", " YES ", "on", "0", "no", "", None)] == \
        ["header"] * 4 + [None] * 4


def test_path_rules_glob_and_regex():
    sel = Selection(header=None, paths=("/api/*", "re:^/admin/\\d+$", re.compile("/items/[a-z]+$")))
    assert [sel.match(p, None) for p in ("/api/orders", "/admin/12", "/admin/x", "/v1/items/abc", "/other")] == \
        ["path", "path", None, "path", None]
    assert not Selection(header=None).active and Selection(header=None, rate=0.1).active


def test_rate_rule_uses_the_random_source_and_is_bounded():
    draws = iter([0.09, 0.11])
    sel = Selection(header=None, rate=0.1, random=lambda: next(draws))
    assert [sel.match("/", None), sel.match("/", None)] == ["rate", None]
    assert Selection(header=None, rate=1.0).match("/", None) == "rate"
    with pytest.raises(ValueError):
        Selection(rate=1.5)


def test_folder_names_are_utc_time_method_and_a_safe_slug(tmp_path):
    s = Summariser()
    t = dt.datetime(2026, 11, 26, 9, 15, 30, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert folder_name(t, "GET", "/orders/7", s) == "20261126T071530.123Z-GET-orders-7"
    assert folder_name(t, "post", "/", s) == "20261126T071530.123Z-POST-root"
    assert folder_name(t, "GET", "/a b/../c?d", s) == "20261126T071530.123Z-GET-a-b-..-c-d"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZw"
    assert jwt not in folder_name(t, "GET", f"/reset/{jwt}", s)
    assert len(folder_name(t, "GET", "/x" * 200, s)) < 100
    a, b = unique_folder(tmp_path, "n"), unique_folder(tmp_path, "n")
    assert (a.name, b.name) == ("n", "n-2")


def test_request_summary_redacts_by_name_and_by_value():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZw"
    req = RequestInfo("GET", f"/reset/{jwt}", "token=abc123&user=bob&tag=a&tag=b&api_key=zzz",
                      [("authorization", "Basic dXNlcjpwYXNz"), ("cookie", "sid=1"), ("x-note", f"Bearer {jwt}"),
                       ("accept", "*/*")])
    out = summarise_request(req, Summariser(), 200, 0.25, "header")
    assert out["path"] == "/reset/<redacted>"
    assert out["headers"]["authorization"]["redacted"] and out["headers"]["cookie"]["redacted"]
    assert out["headers"]["x-note"]["redacted"] and out["headers"]["accept"] == {"type": "str", "value": "*/*"}
    assert out["query"]["token"]["redacted"] and out["query"]["api_key"]["redacted"]
    assert out["query"]["tag"]["type"] == "list" and out["query"]["user"]["value"] == "bob"
    for secret in ("abc123", "zzz", "dXNlcjpwYXNz", jwt):
        assert secret not in repr(out)


def test_importing_skeleton_and_its_middlewares_imports_no_framework():
    code = ("import sys, skeleton_replay, skeleton_replay.integrations, skeleton_replay.integrations.wsgi, "
            "skeleton_replay.integrations.asgi; "
            "print(sorted({'flask', 'django', 'fastapi', 'starlette', 'httpx', 'werkzeug'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_middleware_options_are_refused(tmp_path):
    from skeleton_replay.integrations import SkeletonWSGI

    with pytest.raises(TypeError, match="max_event"):
        SkeletonWSGI(lambda e, s: [], out_dir=tmp_path, max_event=3)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring")
def test_ungated_runs_register_the_plain_callbacks(tmp_path):
    """skeleton run / trace(): no gate wrapper between sys.monitoring and the hot path."""
    from skeleton_replay.options import Options
    from skeleton_replay.run_capture import Capture

    cap = Capture(Options(), tmp_path, tmp_path, "m", None)
    cap.start()
    try:
        tool = cap.backend.tool_id
        event = sys.monitoring.events.PY_START
        fn = sys.monitoring.register_callback(tool, event, None)
        sys.monitoring.register_callback(tool, event, fn)
    finally:
        cap.stop()
    from skeleton_replay.capture import speedups

    expected = "Hooks.start" if speedups.load() is not None else "_make_callbacks.<locals>.on_start"
    assert fn.__qualname__ == expected


def _work() -> int:
    return len("x")


def test_stacked_gated_profilers_route_events_and_unwind_in_any_order():
    """Two traced requests on one thread (3.11, ASGI): hooks stack; the one below stops first."""
    from contextvars import ContextVar

    from skeleton_replay.capture.gate import Gate, gate_profiler

    var: ContextVar = ContextVar("req", default=None)
    seen: list[tuple[str, str]] = []
    a_stopped, b_stopped = [False], [False]

    def recorder(name):
        def profile(frame, event, arg):
            if frame.f_code is _work.__code__ and event == "call":
                seen.append((name, event))
        return profile

    try:
        a = gate_profiler(recorder("a"), Gate(var, "A"), a_stopped, None)
        sys.setprofile(a)
        b = gate_profiler(recorder("b"), Gate(var, "B"), b_stopped, a)
        sys.setprofile(b)
        for who in ("A", "B", None):
            token = var.set(who)
            _work()
            var.reset(token)
        a_stopped[0] = True  # A ends first; its hook is below B's: it stays, passing events on
        _work()
        assert sys.getprofile() is b
        b_stopped[0] = True
        sys.setprofile(a)  # what B's stop() does: back to the hook below
        _work()
        assert sys.getprofile() is None  # A's stopped hook removed itself
    finally:
        sys.setprofile(None)
    assert seen == [("a", "call"), ("b", "call")]


def _counting(monkeypatch) -> dict[str, int]:
    """Count reads of pyproject.toml's [tool.skeleton] and option validations, wherever they are called from."""
    from skeleton_replay import options

    counts = {"pyproject": 0, "validate": 0}
    read, validate = options.tool_table, options.Options.validate

    def counted_read(root):
        counts["pyproject"] += 1
        return read(root)

    def counted_validate(self, *args, **kwargs):
        counts["validate"] += 1
        return validate(self, *args, **kwargs)

    monkeypatch.setattr(options, "tool_table", counted_read)
    monkeypatch.setattr(options.Options, "validate", counted_validate)
    return counts


def _app_root(tmp_path):
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.skeleton]\nsecret_names = ["zipcode"]\n', "utf-8")
    return root


def test_wsgi_requests_reuse_the_options_prepared_at_set_up(tmp_path, monkeypatch):
    """Options are validated and [tool.skeleton] read once, when the middleware is made; not per request."""
    from skeleton_replay.integrations import SkeletonWSGI

    counts = _counting(monkeypatch)
    root = _app_root(tmp_path)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    mw = SkeletonWSGI(app, out_dir=tmp_path / "out", project_root=root, debug=True, max_per_minute=None)
    assert counts == {"pyproject": 1, "validate": 1}
    for i in range(3):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/r{i}", "QUERY_STRING": "zipcode=90210",
                   "HTTP_X_SKELETON_TRACE": "1"}
        assert b"".join(mw(environ, lambda status, headers, exc_info=None: None)) == b"ok"
    assert mw.tracer.stats.traced == 3 and len(list((tmp_path / "out" / "requests").iterdir())) == 3
    assert counts == {"pyproject": 1, "validate": 1}
    # [tool.skeleton] still applies to each request: its secret name is redacted in the artifacts
    snapshot = mw.tracer.results[-1].snapshot_path.read_text("utf-8")
    assert "zipcode" in snapshot and "90210" not in snapshot


def test_asgi_requests_reuse_the_options_prepared_at_set_up(tmp_path, monkeypatch):
    import asyncio

    from skeleton_replay.integrations import SkeletonASGI

    counts = _counting(monkeypatch)
    root = _app_root(tmp_path)

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    mw = SkeletonASGI(app, out_dir=tmp_path / "out", project_root=root, debug=True, max_per_minute=None)
    assert counts == {"pyproject": 1, "validate": 1}

    async def noop_send(message):
        pass

    async def receive():
        return {"type": "http.request", "body": b""}

    for i in range(3):
        scope = {"type": "http", "method": "GET", "path": f"/r{i}", "headers": [(b"x-skeleton-trace", b"1")]}
        asyncio.run(mw(scope, receive, noop_send))
    assert mw.tracer.stats.traced == 3
    assert counts == {"pyproject": 1, "validate": 1}


def test_wsgi_environ_and_asgi_scope_give_the_same_header_pairs():
    """One decoding (request.header_pairs) for every integration: names lower-cased, ASGI bytes as latin-1."""
    from skeleton_replay.integrations.asgi import request_from_scope
    from skeleton_replay.integrations.wsgi import request_from_environ

    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/cart", "QUERY_STRING": "a=1", "HTTP_X_NOTE": "caf\xe9",
               "HTTP_ACCEPT": "*/*", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "2", "wsgi.input": object()}
    scope = {"type": "http", "method": "POST", "path": "/cart", "query_string": b"a=1",
             "headers": [(b"X-Note", b"caf\xe9"), (b"accept", bytearray(b"*/*")), (b"content-type", b"text/plain"),
                         (memoryview(b"content-length"), b"2")]}
    wsgi, asgi = request_from_environ(environ), request_from_scope(scope)
    assert (wsgi.method, wsgi.path, wsgi.query) == (asgi.method, asgi.path, asgi.query) == ("POST", "/cart", "a=1")
    expected = [("x-note", "caf\xe9"), ("accept", "*/*"), ("content-type", "text/plain"), ("content-length", "2")]
    assert wsgi.headers == asgi.headers == expected
