"""Who may select a trace, how much is written, what never reaches a file or a folder name (docs/web.md#safe-setup)."""
from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import textwrap

import pytest
from webtrace import traced

from skeleton_replay.capture.summarise import Summariser
from skeleton_replay.integrations import SkeletonWSGI
from skeleton_replay.integrations.request import RequestInfo, folder_name, safe_path, summarise_request
from skeleton_replay.integrations.select import Selection

TOKEN = "t0k3n-for-tests-only-3f9a1c"


def plain_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def get(app, path: str, headers: dict | None = None, query: str = "") -> list[bytes]:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
               **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()}}
    return list(app(environ, lambda status, headers, exc_info=None: None))


# -- who may select a request by header ----------------------------------------------------------
def test_the_header_alone_selects_nothing():
    sel = Selection()
    assert [sel.match("/x", v) for v in ("1", "true", "yes", "on", TOKEN)] == [None] * 5


def test_a_configured_token_selects_and_anything_else_is_ignored():
    sel = Selection(token=TOKEN)
    assert sel.match("/x", TOKEN) == "header" and sel.match("/x", f"  {TOKEN} ") == "header"
    assert [sel.match("/x", v) for v in ("1", "true", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "", "é" * 40,
                                         TOKEN * 1000)] == [None] * 8


def test_the_token_comes_from_the_environment_too(monkeypatch):
    monkeypatch.setenv("SKELETON_TRACE_TOKEN", TOKEN)
    assert Selection().match("/x", TOKEN) == "header" and Selection().match("/x", "1") is None


def test_a_short_or_odd_token_is_refused():
    for bad in ("short", "with space in the token", "non-ascii-token-ééééé"):
        with pytest.raises(ValueError, match="token"):
            Selection(token=bad)


def test_debug_mode_accepts_a_true_value():
    debug = [True]
    sel = Selection(debug=lambda: debug[0])
    assert [sel.match("/x", v) for v in ("1", "true", " YES ", "on", "0", "")] == ["header"] * 4 + [None] * 2
    debug[0] = False
    assert sel.match("/x", "1") is None
    assert Selection(debug=True, allow_header_in_debug=False).match("/x", "1") is None


def test_an_ignored_header_is_logged_once(caplog):
    app = SkeletonWSGI(plain_app, out_dir="unused")
    with caplog.at_level(logging.WARNING, logger="skeleton_replay.web"):
        for _ in range(5):
            get(app, "/x", {"X-Skeleton-Trace": "1"})
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "ignored" in lines[0] and "token" in lines[0], lines
    assert app.tracer.stats.selected == 0


# -- regex inputs are bounded ---------------------------------------------------------------------
def test_a_huge_path_does_not_stall_selection_naming_or_summaries():
    """A quadratic path rule and the secret-value scans on a 200 kB path: bounded input, fast."""
    code = textwrap.dedent("""
        import datetime as dt, time
        from skeleton_replay.capture.summarise import Summariser
        from skeleton_replay.integrations.request import RequestInfo, folder_name, summarise_request
        from skeleton_replay.integrations.select import Selection
        t0 = time.perf_counter()
        sel = Selection(header=None, paths=("re:a*b", "re:/.*/export$"))
        assert sel.match("/" + "a" * 200_000, None) is None
        s = Summariser()
        huge = "/" + "eyJ" * 70_000
        name = folder_name(dt.datetime.now(dt.timezone.utc), "GET", huge, s)
        out = summarise_request(RequestInfo("GET", huge, "q=" + "eyJ" * 70_000, [("x-h", "eyJ" * 70_000)]),
                                s, 200, 0.1, "path")
        assert len(name) < 120 and len(out["path"]) <= 2100
        print(round(time.perf_counter() - t0, 3))
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    assert float(p.stdout) < 2.0


# -- secrets in requests ------------------------------------------------------------------------
BASIC = "Basic dXNlcjpwYXNzd29yZA=="


@pytest.mark.parametrize("headers", [
    [("authorization", BASIC), ("x-hub-signature-256", "sha256=9f86d081884c7d659a2f")],
    [(b"authorization", BASIC.encode()), (b"x-hub-signature-256", b"sha256=9f86d081884c7d659a2f")],  # ASGI
    {"Authorization": BASIC, "X-Hub-Signature-256": "sha256=9f86d081884c7d659a2f"},
], ids=["pairs", "asgi-bytes-pairs", "dict"])
def test_headers_in_every_shape_are_redacted(headers):
    out = summarise_request(RequestInfo("GET", "/", "", headers), Summariser(), 200, 0.1, "header")
    assert out["headers"]["authorization"]["redacted"] and out["headers"]["x-hub-signature-256"]["redacted"]
    assert "dXNlcjpwYXNzd29yZA" not in repr(out) and "9f86d081884c7d659a2f" not in repr(out)


def test_signature_and_oauth_query_parameters_are_redacted():
    query = ("code=4/0AdQt8qh7rZ&sig=AbCdEf0123&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027&"
             "X-Amz-Credential=AKIDEXAMPLE%2F20130524&X-Hub-Signature=sha1%3D7d38cd&page=2")
    out = summarise_request(RequestInfo("GET", "/cb", query, []), Summariser(), 200, 0.1, "header")
    for name in ("code", "sig", "X-Amz-Signature", "X-Amz-Credential", "X-Hub-Signature"):
        assert out["query"][name]["redacted"], name
    assert out["query"]["page"] == {"type": "str", "value": "2"}
    for secret in ("0AdQt8qh7rZ", "AbCdEf0123", "fe5f80f77d5fa3beca038a248ff027", "7d38cd"):
        assert secret not in repr(out)


@pytest.mark.parametrize("path, shown", [
    ("/reset/QmFzZTY0VG9rZW5fc2VjcmV0", "/reset/<redacted>"),  # follows a secret-named segment
    ("/password-reset/confirm/abcdefgh", "/password-reset/<redacted>/<redacted>"),
    ("/api/token/abc/orders", "/api/token/<redacted>/orders"),
    ("/files/Zx8kP2mQ9vR4tY7wB3nL/view", "/files/<redacted>/view"),  # random-looking: letters and digits, 20+
    ("/s/3f2a7c9e-1b2d-4e5f-8a9b-0c1d2e3f4a5b", "/s/<redacted>"),
    ("/orders/7", "/orders/7"),
    ("/blog/how-to-install-python-3-12-on-debian", "/blog/how-to-install-python-3-12-on-debian"),
    ("/users/12345678901234567890123", "/users/12345678901234567890123"),  # digits only: an id
])
def test_tokens_in_the_path_are_redacted(path, shown):
    s = Summariser()
    assert safe_path(path, s) == shown
    t = dt.datetime(2026, 11, 26, 9, 15, 30, tzinfo=dt.timezone.utc)
    name = folder_name(t, "GET", path, s)
    assert name.endswith(shown.strip("/").replace("/", "-").replace("<redacted>", "redacted")), name


def test_configured_names_and_patterns_apply_to_requests(tmp_path, caplog):
    """[tool.skeleton] of the project: the folder name, the log line and the request summary."""
    (tmp_path / "pyproject.toml").write_text('[tool.skeleton]\nsecret_names = ["zipcode"]\n'
                                             'secret_patterns = ["ACME-[0-9]{6}"]\n')
    app = SkeletonWSGI(plain_app, out_dir=tmp_path / "out", project_root=tmp_path, token=TOKEN, html=False,
                       max_per_minute=1)
    get(app, "/invoices/ACME-123456", {"X-Skeleton-Trace": TOKEN, "X-Ref": "ACME-654321"}, "zipcode=90210&q=ok")
    with caplog.at_level(logging.WARNING, logger="skeleton_replay.web"):
        get(app, "/invoices/ACME-777777", {"X-Skeleton-Trace": TOKEN})  # over the rate limit: logged
    (run,) = traced(tmp_path / "out")
    assert run.folder.name.endswith("-GET-invoices-redacted"), run.folder.name
    req = run.snapshot()["run"]["request"]
    assert req["path"] == "/invoices/<redacted>"
    assert req["query"]["zipcode"]["redacted"] and req["headers"]["x-ref"]["redacted"]
    assert "ACME-" not in run.text() and "90210" not in run.text()
    assert caplog.records and not any("ACME-" in r.getMessage() for r in caplog.records)


# -- how much is written --------------------------------------------------------------------------
def test_the_rate_limit_runs_excess_requests_untraced_and_logs_once_per_window(tmp_path, caplog):
    app = SkeletonWSGI(plain_app, out_dir=tmp_path, token=TOKEN, html=False, max_per_minute=2)
    now = [1000.0]
    app.tracer.rate.clock = lambda: now[0]
    with caplog.at_level(logging.WARNING, logger="skeleton_replay.web"):
        for n in range(5):
            assert get(app, f"/r/{n}", {"X-Skeleton-Trace": TOKEN}) == [b"ok"]
        now[0] += 61
        get(app, "/r/5", {"X-Skeleton-Trace": TOKEN})
    assert [r.folder.name.rsplit("-", 1)[1] for r in traced(tmp_path)] == ["0", "1", "5"]
    stats = app.tracer.stats
    assert (stats.selected, stats.traced, stats.skipped_rate) == (6, 3, 3)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "2 traced requests per minute" in lines[0], lines


def test_the_quota_removes_the_oldest_runs(tmp_path):
    app = SkeletonWSGI(plain_app, out_dir=tmp_path, token=TOKEN, html=False, max_runs=3)
    (tmp_path / "requests").mkdir()
    (tmp_path / "requests" / "not-a-run").mkdir()  # not Skeleton's: never removed
    for n in range(5):
        get(app, f"/r/{n}", {"X-Skeleton-Trace": TOKEN})
    names = sorted(p.name for p in (tmp_path / "requests").iterdir())
    assert names[-1] == "not-a-run" and [n.rsplit("-", 1)[1] for n in names[:-1]] == ["2", "3", "4"], names
    assert app.tracer.stats.pruned == 2


def test_the_byte_quota_keeps_the_newest_run(tmp_path):
    app = SkeletonWSGI(plain_app, out_dir=tmp_path, token=TOKEN, html=False, max_bytes=1)
    for n in range(3):
        get(app, f"/r/{n}", {"X-Skeleton-Trace": TOKEN})
    assert [r.folder.name.rsplit("-", 1)[1] for r in traced(tmp_path)] == ["2"]


def test_limits_have_documented_defaults_and_are_checked():
    tracer = SkeletonWSGI(plain_app, out_dir="unused").tracer
    assert (tracer.quota.max_runs, tracer.quota.max_bytes, tracer.rate.per_minute) == (200, 500_000_000, 30)
    for bad in ({"max_runs": 0}, {"max_bytes": -1}, {"max_per_minute": 1.5}):
        with pytest.raises(ValueError):
            SkeletonWSGI(plain_app, out_dir="unused", **bad)


# -- files ----------------------------------------------------------------------------------------
def test_request_folders_are_private_and_a_planted_link_is_refused(tmp_path):
    app = SkeletonWSGI(plain_app, out_dir=tmp_path / "out", token=TOKEN, html=False)
    get(app, "/r/1", {"X-Skeleton-Trace": TOKEN})
    (run,) = traced(tmp_path / "out")
    assert oct(os.stat(tmp_path / "out" / "requests").st_mode & 0o777) == oct(0o700)
    assert oct(run.folder.stat().st_mode & 0o777) == oct(0o700)
    assert {oct(p.stat().st_mode & 0o777) for p in run.folder.iterdir()} == {oct(0o600)}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").mkdir()
    (tmp_path / "link" / "requests").symlink_to(elsewhere)
    app = SkeletonWSGI(plain_app, out_dir=tmp_path / "link", token=TOKEN, html=False)
    assert get(app, "/r/2", {"X-Skeleton-Trace": TOKEN}) == [b"ok"]
    assert list(elsewhere.iterdir()) == [] and app.tracer.stats.failed == 1
