"""Flask (WSGI): selection, overlapping requests, failures, redaction, streaming, folder names."""
from __future__ import annotations

import re
import sys
import threading

import pytest
from webtrace import ARTIFACTS, FOLDER_RE, only, traced, rendezvous, webshop_root  # noqa: F401 (fixtures)

pytest.importorskip("flask")

from skeleton_replay.integrations import SkeletonWSGI  # noqa: E402
from skeleton_replay.integrations.flask import install  # noqa: E402
from skeleton_replay.integrations.select import Selection  # noqa: E402

TOKEN = "flask-test-token-4b1d9e7f"
TRACE = {"X-Skeleton-Trace": TOKEN}


@pytest.fixture
def make_app(tmp_path, webshop_root):
    from webshop.flask_app import create_app

    def make(**kwargs):
        app = create_app()
        kwargs.setdefault("out_dir", tmp_path)
        kwargs.setdefault("project_root", webshop_root)
        kwargs.setdefault("token", TOKEN)
        return app, install(app, **kwargs)

    return make


def test_header_selects_one_request_and_writes_its_artifacts(make_app, tmp_path):
    app, mw = make_app()
    client = app.test_client()
    assert client.get("/orders/7", headers=TRACE).get_json()["total"] == 50
    assert client.get("/orders/8").status_code == 200  # no rule matches: not recorded
    run = only(tmp_path)
    assert FOLDER_RE.match(run.folder.name) and run.folder.name.endswith("-GET-orders-7"), run.folder.name
    assert {p.name for p in run.folder.iterdir()} == set(ARTIFACTS)
    run.validate()
    snap_run = run.snapshot()["run"]
    assert snap_run["target"] == {"kind": "request", "path": "/orders/7", "args": []}
    req = snap_run["request"]
    assert (req["method"], req["path"], req["status"], req["selected_by"]) == ("GET", "/orders/7", 200, "header")
    assert req["duration_s"] > 0 and snap_run["status"] == "ok" and snap_run["exit_code"] == 0
    assert {"show_order", "get_order", "load", "price"} <= run.functions()
    calls = {e["callee"]["function"]: e for e in run.events() if e["event_type"] == "call"}
    assert calls["get_order"]["args"] == {"order_id": {"type": "int", "value": 7}}  # the user frame, not the gate's
    assert calls["get_order"]["callee"]["instance_id"] is not None
    assert run.snapshot()["stats"]["gaps"] == []  # no tracer_error
    assert run.session()["request"]["status"] == 200
    assert "- request: GET /orders/7 -> 200" in run.workflow()
    assert mw.tracer.stats.traced == 1 and mw.tracer.stats.selected == 1


def test_only_the_selected_request_is_recorded_while_another_overlaps(make_app, tmp_path, rendezvous):
    app, _ = make_app()
    rendezvous(2)
    results: dict[str, object] = {}

    def get(name: str, url: str, headers: dict) -> None:
        results[name] = app.test_client().get(url, headers=headers).get_json()

    threads = [threading.Thread(target=get, args=("a", "/orders/7", TRACE)),
               threading.Thread(target=get, args=("b", "/stock/sku-b", {}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {"a": {"id": 7, "item": "lamp", "qty": 2, "total": 50}, "b": {"sku": "sku-b", "level": 11}}
    run = only(tmp_path)
    assert {"show_order", "get_order", "load"} <= run.functions()
    assert not {"show_stock", "count_stock", "find_level"} & run.functions()
    text = run.text()
    assert "sku-b" not in text and "count_stock" not in text and "StockRepository" not in text
    assert len(run.snapshot()["stats"]["threads"]) == 1


def test_two_selected_requests_overlapping_one_is_traced_the_other_counted(make_app, tmp_path, rendezvous):
    app, mw = make_app()
    rendezvous(2)
    threads = [threading.Thread(target=lambda u=u: app.test_client().get(u, headers=TRACE).get_data())
               for u in ("/orders/7", "/stock/sku-c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    run = only(tmp_path)
    assert mw.tracer.stats.selected == 2 and mw.tracer.stats.traced == 1 and mw.tracer.stats.skipped_busy == 1
    functions = run.functions()
    if "get_order" in functions:
        assert not {"count_stock", "find_level"} & functions and "sku-c" not in run.text()
    else:
        assert "count_stock" in functions and not {"get_order", "load"} & functions


def test_a_failing_view_still_writes_artifacts_with_the_exception(make_app, tmp_path):
    app, _ = make_app()
    response = app.test_client().get("/report/2024", headers=TRACE)
    assert response.status_code == 500
    run = only(tmp_path)
    run.validate()
    snap_run = run.snapshot()["run"]
    assert snap_run["status"] == "exception" and snap_run["request"]["status"] == 500
    assert snap_run["error"] == {"type": "RuntimeError", "message": "report for 2024 failed on purpose"}
    assert {"build_report", "explode_on_purpose"} <= run.functions()
    assert run.session()["status"] == "exception"


def test_an_exception_that_escapes_the_app_is_recorded_and_reraised(tmp_path, webshop_root):
    from webshop.flask_app import create_app

    app = create_app()
    app.testing = True  # PROPAGATE_EXCEPTIONS: the exception leaves wsgi_app
    app.wsgi_app = SkeletonWSGI(app.wsgi_app, out_dir=tmp_path, project_root=webshop_root, token=TOKEN)
    with pytest.raises(RuntimeError, match="failed on purpose"):
        app.test_client().get("/report/2023", headers=TRACE)
    snap_run = only(tmp_path).snapshot()["run"]
    assert snap_run["status"] == "exception" and snap_run["request"]["status"] is None
    assert snap_run["error"]["type"] == "RuntimeError"


@pytest.mark.parametrize("pattern", ["/orders/*", "re:^/orders/[0-9]+$", re.compile(r"/orders/\d")])
def test_path_pattern_selects(make_app, tmp_path, pattern):
    app, _ = make_app(paths=(pattern,))
    client = app.test_client()
    client.get("/stock/sku-b").get_data()
    client.get("/orders/8").get_data()
    run = only(tmp_path)
    assert run.snapshot()["run"]["request"]["selected_by"] == "path"
    assert run.folder.name.endswith("-GET-orders-8")


def test_sampling_rate_selects_a_fraction(make_app, tmp_path):
    draws = iter([0.05, 0.95, 0.2])
    app, mw = make_app(selection=Selection(header=None, rate=0.25, random=lambda: next(draws)))
    client = app.test_client()
    for n in (7, 8, 9):
        client.get(f"/orders/{n}", headers=TRACE).get_data()  # header rule off: only the rate counts
    names = [r.folder.name for r in traced(tmp_path)]
    assert [n.rsplit("-", 1)[1] for n in names] == ["7", "9"]
    assert mw.tracer.stats.selected == 2


def test_nothing_is_recorded_without_a_matching_rule(make_app, tmp_path):
    app, _ = make_app(header=None)
    app.test_client().get("/orders/7", headers=TRACE).get_data()
    assert traced(tmp_path) == []


def test_authorization_cookie_and_token_values_never_reach_the_artifacts(make_app, tmp_path):
    app, _ = make_app()
    secrets = ("s3cr3t-query-token-value", "AuthHeaderSecretValue123", "cookie-secret-value-456")
    client = app.test_client()
    client.set_cookie("session", secrets[2])
    headers = {**TRACE, "Authorization": f"Bearer {secrets[1]}"}
    assert client.get(f"/account?token={secrets[0]}&user=bob", headers=headers).status_code == 200
    run = only(tmp_path)
    text = run.text()
    for s in secrets:
        assert s not in text
    req = run.snapshot()["run"]["request"]
    assert req["headers"]["authorization"]["redacted"] and req["headers"]["cookie"]["redacted"]
    assert req["query"]["token"]["redacted"] and req["query"]["user"] == {"type": "str", "value": "bob"}
    assert "lookup_account" in run.functions()


def test_with_stream_a_streamed_body_is_traced_until_it_ends(make_app, tmp_path):
    app, _ = make_app(stream=True)
    assert app.test_client().get("/stream", headers=TRACE).get_data() == b"0\n25\n50\n"
    run = only(tmp_path)
    assert {"stream_numbers", "numbers", "price"} <= run.functions()
    assert run.folder.name.endswith("-GET-stream")


def test_without_stream_the_view_is_traced_and_the_body_is_not(make_app, tmp_path):
    app, _ = make_app()
    response = app.test_client().get("/stream", headers=TRACE)
    run = only(tmp_path)  # written before the body was read
    assert "stream_numbers" in run.functions() and "numbers" not in run.functions()
    assert response.get_data() == b"0\n25\n50\n"


def test_code_an_untraced_request_ran_during_a_trace_is_still_traced_later(make_app, tmp_path, rendezvous):
    """The gate never answers DISABLE for project code: DISABLE would switch it off for every later request."""
    app, _ = make_app()
    rendezvous(2)
    threads = [threading.Thread(target=lambda: app.test_client().get("/orders/7", headers=TRACE).get_data()),
               threading.Thread(target=lambda: app.test_client().get("/stock/sku-b").get_data())]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    rendezvous(0)
    app.test_client().get("/stock/sku-c", headers=TRACE).get_data()
    first, second = traced(tmp_path)
    assert "count_stock" not in first.functions()
    assert {"show_stock", "count_stock", "find_level"} <= second.functions()


def test_with_concurrent_2_two_overlapping_selected_requests_are_each_traced_alone(make_app, tmp_path, rendezvous):
    app, mw = make_app(concurrent=2)
    rendezvous(2)
    threads = [threading.Thread(target=lambda u=u: app.test_client().get(u, headers=TRACE).get_data())
               for u in ("/orders/7", "/stock/sku-c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert mw.tracer.stats.traced == 2 and mw.tracer.stats.skipped_busy == 0
    runs = {r.folder.name.split("-GET-")[1]: r for r in traced(tmp_path)}
    orders, stock = runs["orders-7"], runs["stock-sku-c"]
    assert {"get_order", "load"} <= orders.functions() and not {"count_stock", "find_level"} & orders.functions()
    assert {"count_stock", "find_level"} <= stock.functions() and not {"get_order", "load"} & stock.functions()
    assert '"sku-c"' not in orders.text() and '"lamp"' not in stock.text()  # "lamp": the report bundle says clamp
    for run in (orders, stock):
        run.validate()
        assert run.snapshot()["stats"]["gaps"] == []


def test_with_stream_closing_an_unread_body_ends_the_trace(make_app, tmp_path):
    app, _ = make_app(stream=True)
    response = app.test_client().get("/stream", headers=TRACE, buffered=False)
    assert traced(tmp_path) == [] or not (traced(tmp_path)[0].folder / "trace.jsonl").exists()  # still open
    response.close()
    run = only(tmp_path)
    assert "stream_numbers" in run.functions() and run.snapshot()["run"]["status"] == "ok"


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring tool ids")
def test_no_free_tool_id_the_request_runs_untraced_and_leaves_nothing(make_app, tmp_path):
    app, mw = make_app()
    mon = sys.monitoring
    taken = [i for i in range(6) if mon.get_tool(i) is None]
    for i in taken:
        mon.use_tool_id(i, "test-squatter")
    try:
        assert app.test_client().get("/orders/7", headers=TRACE).get_json()["total"] == 50
    finally:
        for i in taken:
            mon.free_tool_id(i)
    assert mw.tracer.stats.failed == 1 and mw.tracer.stats.traced == 0
    assert list((tmp_path / "requests").iterdir()) == []
    app.test_client().get("/orders/7", headers=TRACE).get_data()  # the slot was given back
    assert "get_order" in only(tmp_path).functions()


def test_the_header_needs_the_token_or_debug_mode(make_app, tmp_path):
    app, mw = make_app(token=None)
    client = app.test_client()
    for value in ("1", "true", TOKEN):  # no token configured, app.debug is False: the header means nothing
        assert client.get("/orders/7", headers={"X-Skeleton-Trace": value}).status_code == 200
    assert traced(tmp_path) == [] and mw.tracer.stats.selected == 0
    app.debug = True  # as `flask run --debug` or app.run(debug=True) set it
    client.get("/orders/7", headers={"X-Skeleton-Trace": "1"}).get_data()
    assert only(tmp_path).snapshot()["run"]["request"]["selected_by"] == "header"


def test_a_wrong_token_is_ignored(make_app, tmp_path):
    app, mw = make_app()
    client = app.test_client()
    for value in ("1", TOKEN[:-1], TOKEN + "0", "x" * 100_000):
        client.get("/orders/7", headers={"X-Skeleton-Trace": value}).get_data()
    assert traced(tmp_path) == [] and mw.tracer.stats.selected == 0
    client.get("/orders/7", headers=TRACE).get_data()
    assert len(traced(tmp_path)) == 1
