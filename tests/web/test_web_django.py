"""Django: the middleware class path in MIDDLEWARE, under WSGI (threads) and ASGI (tasks)."""
from __future__ import annotations

import asyncio
import sys
import threading

import pytest
from webtrace import ARTIFACTS, FOLDER_RE, only, rendezvous, webshop_root  # noqa: F401 (fixtures)

pytest.importorskip("django")

TOKEN = "django-test-token-0e9d6c3b"
TRACE = {"HTTP_X_SKELETON_TRACE": TOKEN}


@pytest.fixture
def client_for(tmp_path, webshop_root):
    """client_for(**SKELETON_TRACE) -> a new django.test.Client using those settings."""
    from webshop import django_app

    def make(async_client: bool = False, debug: bool = False, **options):
        django_app.configure({"out_dir": str(tmp_path), "project_root": str(webshop_root), "token": TOKEN, **options})
        from django.conf import settings

        settings.DEBUG = debug
        from django.test import AsyncClient, Client

        return (AsyncClient if async_client else Client)(raise_request_exception=False)

    return make


def test_header_selects_and_artifacts_are_written(client_for, tmp_path):
    client = client_for()
    assert client.get("/orders/7", **TRACE).json()["total"] == 50
    assert client.get("/orders/8").status_code == 200
    run = only(tmp_path)
    assert FOLDER_RE.match(run.folder.name) and run.folder.name.endswith("-GET-orders-7")
    assert {p.name for p in run.folder.iterdir()} == set(ARTIFACTS)
    run.validate()
    req = run.snapshot()["run"]["request"]
    assert (req["method"], req["path"], req["status"], req["selected_by"]) == ("GET", "/orders/7", 200, "header")
    assert {"show_order", "get_order", "load"} <= run.functions()


def test_only_the_selected_request_is_recorded_while_another_overlaps(client_for, tmp_path, rendezvous):
    client_for()
    rendezvous(2)
    from django.test import Client

    results: dict[str, object] = {}

    def get(name: str, url: str, extra: dict) -> None:
        results[name] = Client(raise_request_exception=False).get(url, **extra).json()

    threads = [threading.Thread(target=get, args=("a", "/orders/7", TRACE)),
               threading.Thread(target=get, args=("b", "/stock/sku-b", {}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results["b"] == {"sku": "sku-b", "level": 11} and results["a"]["total"] == 50
    run = only(tmp_path)
    assert {"show_order", "get_order"} <= run.functions()
    assert not {"show_stock", "count_stock", "find_level"} & run.functions()
    assert "sku-b" not in run.text()


def test_a_failing_view_answers_500_and_still_writes_artifacts(client_for, tmp_path):
    client = client_for()
    assert client.get("/report/2024", **TRACE).status_code == 500
    run = only(tmp_path)
    run.validate()
    snap_run = run.snapshot()["run"]
    assert snap_run["status"] == "exception" and snap_run["request"]["status"] == 500
    assert snap_run["error"] == {"type": "RuntimeError", "message": "report for 2024 failed on purpose"}
    assert "explode_on_purpose" in run.functions()


def test_path_rule_and_redaction(client_for, tmp_path):
    client = client_for(paths=["/account"], header=None)
    secrets = ("s3cr3t-query-token-value", "AuthHeaderSecretValue123", "cookie-secret-value-456")
    client.cookies["sessionid"] = secrets[2]
    response = client.get("/account", {"token": secrets[0], "user": "bob"}, HTTP_AUTHORIZATION=f"Bearer {secrets[1]}")
    assert response.json() == {"user": "bob", "active": True}
    client.get("/orders/7", **TRACE)  # the header rule is off
    run = only(tmp_path)
    assert run.snapshot()["run"]["request"]["selected_by"] == "path"
    text = run.text()
    for s in secrets:
        assert s not in text
    headers = run.snapshot()["run"]["request"]["headers"]
    assert headers["authorization"]["redacted"] and headers["cookie"]["redacted"]


@pytest.mark.parametrize("url", ["/async-orders/7", pytest.param("/orders/7", marks=pytest.mark.skipif(
    sys.version_info < (3, 12), reason="3.11 (setprofile) hooks only the event loop thread, not sync views' threads"))])
def test_under_asgi_only_the_selected_task_is_recorded(client_for, tmp_path, url):
    client = client_for(async_client=True)

    async def main():
        return await asyncio.gather(client.get(url, headers={"X-Skeleton-Trace": TOKEN}),
                                    client.get("/account", {"user": "carol"}))

    a, b = asyncio.run(main())
    assert a.json()["total"] == 50 and b.status_code == 200
    run = only(tmp_path)
    assert "get_order" in run.functions() and "lookup_account" not in run.functions()
    assert "carol" not in run.text()


def test_the_header_needs_the_token_or_debug(client_for, tmp_path):
    client = client_for(token=None)
    client.get("/orders/7", HTTP_X_SKELETON_TRACE="1")
    client.get("/orders/7", **TRACE)
    from webtrace import traced

    assert traced(tmp_path) == []
    client = client_for(token=None, debug=True)  # settings.DEBUG
    client.get("/orders/7", HTTP_X_SKELETON_TRACE="1")
    assert only(tmp_path).snapshot()["run"]["request"]["selected_by"] == "header"


def test_a_wrong_token_is_ignored(client_for, tmp_path):
    client = client_for()
    client.get("/orders/7", HTTP_X_SKELETON_TRACE="yes")
    client.get("/orders/7", HTTP_X_SKELETON_TRACE=TOKEN.upper())
    from webtrace import traced

    assert traced(tmp_path) == []
    client.get("/orders/7", **TRACE)
    assert len(traced(tmp_path)) == 1
