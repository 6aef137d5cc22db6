"""The report of one traced web request: the request is the run, its HTTP status is shown."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEBSHOP = ROOT / "tests" / "apps" / "webshop"


@pytest.fixture(scope="module")
def failing_request(tmp_path_factory) -> Path:
    """report.html of a Flask request that answered 500 (written by the real middleware)."""
    pytest.importorskip("flask")
    out = tmp_path_factory.mktemp("web")
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(WEBSHOP)!r})
        from skeleton_replay.integrations.flask import install
        from webshop.flask_app import create_app
        app = create_app()
        install(app, out_dir={str(out)!r}, project_root={str(WEBSHOP)!r}, token="e2e-test-token-5a8c0f2d")
        headers = {{"X-Skeleton-Trace": "e2e-test-token-5a8c0f2d"}}
        assert app.test_client().get("/report/2024", headers=headers).status_code == 500
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (report,) = out.glob("requests/*/report.html")
    return report


def test_request_report_names_the_request_and_its_status(open_report, failing_request):
    o = open_report(failing_request)
    page = o.page
    assert page.get_by_test_id("app-name").inner_text() == "GET /report/2024"
    stats = page.get_by_test_id("run-stats")
    http = stats.locator(".stat", has_text="http")
    assert http.locator("dd").inner_text() == "500"
    assert "stat-warn" in (http.get_attribute("class") or "")
    assert "selected by header" in (http.get_attribute("title") or "")
    assert "RuntimeError" in page.get_by_test_id("run-error").inner_text()
    labels = page.locator(".react-flow__node").all_inner_texts()
    assert any("GET /report/2024" in t for t in labels)  # the request is the root of the map
    page.screenshot(path=str(ROOT / "e2e" / "artifacts" / "web-request-500.png"))
