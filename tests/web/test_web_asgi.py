"""FastAPI / Starlette (ASGI): concurrent tasks, child tasks, thread-pool endpoints, failures, redaction."""
from __future__ import annotations

import asyncio
import sys

import pytest
from webtrace import ARTIFACTS, FOLDER_RE, only, traced, rendezvous, webshop_root  # noqa: F401 (fixtures)

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from skeleton_replay.integrations import SkeletonASGI  # noqa: E402

TOKEN = "asgi-test-token-7c2e51aa"
TRACE = {"X-Skeleton-Trace": TOKEN}


@pytest.fixture
def make_app(tmp_path, webshop_root):
    from webshop.fastapi_app import create_app

    def make(**kwargs):
        app = create_app()
        kwargs.setdefault("out_dir", tmp_path)
        kwargs.setdefault("project_root", webshop_root)
        kwargs.setdefault("token", TOKEN)
        app.add_middleware(SkeletonASGI, **kwargs)  # the documented one-liner
        return app

    return make


def fetch(app, *requests: tuple[str, dict]) -> list:
    """Send the requests concurrently (one asyncio task each) through httpx's ASGI transport."""
    async def main():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
            return await asyncio.gather(*(client.get(url, headers=headers) for url, headers in requests))
    return asyncio.run(main())


def test_header_selects_and_child_tasks_are_traced(make_app, tmp_path):
    app = make_app()
    first, second = fetch(app, ("/orders/7", TRACE))[0], fetch(app, ("/orders/8", {}))[0]
    assert first.json()["later"] == 175 and second.status_code == 200
    run = only(tmp_path)
    assert FOLDER_RE.match(run.folder.name) and run.folder.name.endswith("-GET-orders-7")
    assert {p.name for p in run.folder.iterdir()} == set(ARTIFACTS)
    run.validate()
    req = run.snapshot()["run"]["request"]
    assert (req["method"], req["path"], req["status"], req["selected_by"]) == ("GET", "/orders/7", 200, "header")
    assert {"show_order", "fetch_order", "price_later", "get_order", "load", "price"} <= run.functions()
    calls = {e["callee"]["function"]: e for e in run.events() if e["event_type"] == "call"}
    assert calls["price_later"]["args"] == {"order_id": {"type": "int", "value": 7}}
    assert run.snapshot()["stats"]["gaps"] == []


def test_only_the_selected_task_is_recorded_while_another_runs_on_the_same_loop(make_app, tmp_path, rendezvous):
    app = make_app()
    rendezvous(2)
    a, b = fetch(app, ("/orders/7", TRACE), ("/stock/sku-b", {}))
    assert a.json()["total"] == 50 and b.json() == {"sku": "sku-b", "level": 11}
    run = only(tmp_path)
    assert {"show_order", "get_order", "load"} <= run.functions()
    assert not {"show_stock", "count_stock", "find_level"} & run.functions()
    text = run.text()
    assert "sku-b" not in text and "count_stock" not in text and "StockRepository" not in text


def test_two_selected_tasks_overlapping_one_is_traced(make_app, tmp_path, rendezvous):
    app = make_app()
    rendezvous(2)
    a, b = fetch(app, ("/orders/7", TRACE), ("/stock/sku-c", TRACE))
    assert a.status_code == b.status_code == 200
    functions = only(tmp_path).functions()
    assert ("get_order" in functions) != ("count_stock" in functions)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="3.11 (setprofile) hooks only the event loop thread")
def test_a_sync_endpoint_in_the_thread_pool_is_traced(make_app, tmp_path):
    app = make_app()
    assert fetch(app, ("/sync-order/7", TRACE))[0].json()["total"] == 50
    assert {"show_order_in_thread", "get_order", "load"} <= only(tmp_path).functions()


def test_a_failing_endpoint_still_writes_artifacts(make_app, tmp_path):
    app = make_app()
    response = fetch(app, ("/report/2024", TRACE))[0]
    assert response.status_code == 500
    run = only(tmp_path)
    run.validate()
    snap_run = run.snapshot()["run"]
    assert snap_run["status"] == "exception" and snap_run["request"]["status"] is None  # raised before a response
    assert snap_run["error"] == {"type": "RuntimeError", "message": "report for 2024 failed on purpose"}
    assert {"build_report", "explode_on_purpose"} <= run.functions()


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated")
def test_path_pattern_and_rate(tmp_path, webshop_root):
    from starlette.testclient import TestClient
    from webshop.fastapi_app import create_app

    app = create_app()
    app.add_middleware(SkeletonASGI, out_dir=tmp_path / "p", project_root=webshop_root, header=None,
                       paths=("re:^/orders/8$",))
    with TestClient(app) as client:  # Starlette's own test client (lifespan passes through untouched)
        for url in ("/orders/7", "/orders/8", "/stock/sku-b"):
            assert client.get(url).status_code == 200
    assert [r.folder.name.rsplit("-", 1)[1] for r in traced(tmp_path / "p")] == ["8"]
    app = create_app()
    app.add_middleware(SkeletonASGI, out_dir=tmp_path / "r", project_root=webshop_root, rate=1.0, header=None)
    fetch(app, ("/orders/7", {}))
    assert only(tmp_path / "r").snapshot()["run"]["request"]["selected_by"] == "rate"


def test_secrets_in_headers_and_query_never_reach_the_artifacts(make_app, tmp_path):
    app = make_app()
    secrets = ("s3cr3t-query-token-value", "AuthHeaderSecretValue123", "cookie-secret-value-456")
    headers = {**TRACE, "Authorization": f"Bearer {secrets[1]}", "Cookie": f"session={secrets[2]}"}
    assert fetch(app, (f"/account?token={secrets[0]}&user=bob", headers))[0].json() == {"user": "bob", "active": True}
    run = only(tmp_path)
    text = run.text()
    for s in secrets:
        assert s not in text
    req = run.snapshot()["run"]["request"]
    assert req["headers"]["authorization"]["redacted"] and req["headers"]["cookie"]["redacted"]
    assert req["query"]["token"]["redacted"]
    assert "lookup_account" in run.functions()


def test_a_streaming_response_is_traced_to_its_end(make_app, tmp_path):
    app = make_app()
    assert fetch(app, ("/stream", TRACE))[0].text == "0\n25\n50\n"
    assert {"stream_numbers", "numbers", "price"} <= only(tmp_path).functions()


def test_with_concurrent_2_two_overlapping_tasks_are_each_traced_alone(make_app, tmp_path, rendezvous):
    app = make_app(concurrent=2)
    rendezvous(2)
    a, b = fetch(app, ("/orders/7", TRACE), ("/stock/sku-c", TRACE))
    assert a.status_code == b.status_code == 200
    runs = {r.folder.name.split("-GET-")[1]: r for r in traced(tmp_path)}
    orders, stock = runs["orders-7"], runs["stock-sku-c"]
    assert {"show_order", "get_order", "price_later"} <= orders.functions()
    assert not {"show_stock", "count_stock", "find_level"} & orders.functions()
    assert {"show_stock", "count_stock", "find_level"} <= stock.functions()
    assert not {"show_order", "get_order", "price_later"} & stock.functions()
    assert '"sku-c"' not in orders.text() and '"lamp"' not in stock.text()  # "lamp": the report bundle says clamp
    for run in (orders, stock):
        assert run.snapshot()["stats"]["gaps"] == []
    assert sys.getprofile() is None  # 3.11: both stacked gated hooks are gone from the loop thread


def test_the_header_needs_the_token_or_debug(make_app, tmp_path):
    app = make_app(token=None)
    fetch(app, ("/orders/7", {"X-Skeleton-Trace": "1"}), ("/orders/8", TRACE))
    assert traced(tmp_path) == []
    app = make_app(token=None, debug=True)  # ASGI has no debug flag of its own: the operator says so
    fetch(app, ("/orders/7", {"X-Skeleton-Trace": "on"}))
    assert len(traced(tmp_path)) == 1


def test_a_wrong_token_is_ignored(make_app, tmp_path):
    app = make_app()
    fetch(app, ("/orders/7", {"X-Skeleton-Trace": "1"}), ("/orders/8", {"X-Skeleton-Trace": TOKEN[1:]}))
    assert traced(tmp_path) == []
    fetch(app, ("/orders/9", TRACE))
    assert only(tmp_path).folder.name.endswith("-GET-orders-9")
