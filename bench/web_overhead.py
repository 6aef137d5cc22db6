"""What the web middlewares cost: untraced requests with and without them, and one traced request.

Drives the test webshop (tests/apps/webshop) in-process, without a server or test client:
WSGI (Flask) is called with a prepared environ, ASGI (FastAPI) with a scope and
receive/send callables, so the numbers are the app's own time plus the middleware's.

    python bench/web_overhead.py [--n 20000] [--repeat 5]

Needs flask and fastapi (the `test` extra). Prints microseconds per request (best of
--repeat runs) for: the bare app, the app with the middleware and no rule matching,
untraced requests while another request is being traced (gated callbacks active), and
a traced request including writing its artifacts (with and without report.html).
"""
from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEBSHOP = ROOT / "tests" / "apps" / "webshop"
sys.path[:0] = [str(ROOT), str(WEBSHOP)]

from skeleton_replay.integrations import SkeletonASGI, SkeletonWSGI  # noqa: E402
from skeleton_replay.integrations.request import RequestInfo  # noqa: E402


def environ(path: str, headers: dict[str, str] | None = None) -> dict:
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "", "SERVER_NAME": "bench",
           "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
           "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
           "HTTP_HOST": "bench", "HTTP_USER_AGENT": "bench/1", "HTTP_ACCEPT": "*/*"}
    for k, v in (headers or {}).items():
        env["HTTP_" + k.upper().replace("-", "_")] = v
    return env


def wsgi_call(app, env: dict) -> None:
    def start_response(status, headers, exc_info=None):
        return None
    body = app(dict(env), start_response)
    for _ in body:
        pass
    close = getattr(body, "close", None)
    if close:
        close()


def best_us(fn, n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e6


def paired_us(fns: dict, n: int, repeat: int) -> dict[str, float]:
    """Warm every variant up, then alternate them round by round (noise hits all alike); best round each."""
    for fn in fns.values():
        best_us(fn, max(1, n // 10), 1)
    best = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            best[k] = min(best[k], best_us(fn, n, 1))
    return best


def bench_trivial(n: int, repeat: int, out: Path) -> dict[str, float]:
    """The middleware's own cost per untraced request: around apps that do nothing."""
    def wsgi_app(env, start_response):
        start_response("200 OK", [])
        return [b""]

    async def asgi_app(scope, receive, send):
        return None

    wsgi = SkeletonWSGI(wsgi_app, out_dir=out / "t", project_root=WEBSHOP)
    asgi = SkeletonASGI(asgi_app, out_dir=out / "t", project_root=WEBSHOP)
    env = environ("/orders/7")
    sc = {"type": "http", "method": "GET", "path": "/orders/7", "query_string": b"",
          "headers": [(b"host", b"bench"), (b"user-agent", b"bench/1"), (b"accept", b"*/*")]}

    def drive(app):
        coro = app(sc, None, None)
        try:
            coro.send(None)
        except StopIteration:
            pass

    res = paired_us({"bare": lambda: wsgi_call(wsgi_app, env), "middleware, not selected": lambda: wsgi_call(wsgi, env),
                     "ASGI bare": lambda: drive(asgi_app), "ASGI middleware, not selected": lambda: drive(asgi)},
                    n * 10, repeat)
    return res


def bench_wsgi(n: int, repeat: int, out: Path) -> dict[str, float]:
    from webshop.flask_app import create_app

    bare = create_app().wsgi_app
    app = create_app()
    wrapped = SkeletonWSGI(app.wsgi_app, out_dir=out / "wsgi", project_root=WEBSHOP)
    env = environ("/orders/7")
    res = paired_us({"bare": lambda: wsgi_call(bare, env),
                     "middleware, not selected": lambda: wsgi_call(wrapped, env)}, n, repeat)
    handle = wrapped.tracer.begin(RequestInfo("GET", "/other", "", []), "header")  # traced elsewhere: gate closed here
    res["while another request is traced"] = best_us(lambda: wsgi_call(wrapped, env), n, repeat)
    handle.finish()
    traced = environ("/orders/7", {"X-Skeleton-Trace": "1"})
    res["traced, with report.html"] = best_us(lambda: wsgi_call(wrapped, traced), 1, 5)
    no_html = SkeletonWSGI(app.wsgi_app, out_dir=out / "wsgi-nohtml", project_root=WEBSHOP, html=False)
    res["traced, html=False"] = best_us(lambda: wsgi_call(no_html, traced), 1, 5)
    return res


def bench_asgi(n: int, repeat: int, out: Path) -> dict[str, float]:
    from webshop.fastapi_app import create_app

    def scope(path: str, headers: dict[str, str] | None = None) -> dict:
        hs = [(b"host", b"bench"), (b"user-agent", b"bench/1"), (b"accept", b"*/*")]
        hs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
                "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": hs,
                "server": ("bench", 80), "client": ("127.0.0.1", 1234)}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        return None

    async def loop_us(app, sc: dict, count: int) -> float:
        t0 = time.perf_counter()
        for _ in range(count):
            await app(dict(sc), receive, send)
        return (time.perf_counter() - t0) / count * 1e6

    async def paired(apps: dict, sc: dict) -> dict[str, float]:
        for app in apps.values():
            await loop_us(app, sc, max(1, n // 10))
        best = {k: float("inf") for k in apps}
        for _ in range(repeat):
            for k, app in apps.items():
                best[k] = min(best[k], await loop_us(app, sc, n))
        return best

    async def main() -> dict[str, float]:
        bare = create_app()
        wrapped = SkeletonASGI(create_app(), out_dir=out / "asgi", project_root=WEBSHOP)
        plain = scope("/orders/7")
        res = await paired({"bare": bare, "middleware, not selected": wrapped}, plain)
        handle = wrapped.tracer.begin(RequestInfo("GET", "/other", "", []), "header")
        res["while another request is traced"] = min([await loop_us(wrapped, plain, n) for _ in range(repeat)])
        handle.finish()
        traced = scope("/orders/7", {"X-Skeleton-Trace": "1"})
        res["traced, with report.html"] = min([await loop_us(wrapped, traced, 1) for _ in range(5)])
        return res

    return asyncio.run(main())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"Python {sys.version.split()[0]}; best of {args.repeat}; microseconds per request")
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("do-nothing apps (the middleware's own cost)", bench_trivial),
                         ("WSGI (Flask)", bench_wsgi), ("ASGI (FastAPI)", bench_asgi)):
            res = fn(args.n, args.repeat, Path(tmp))
            print(name)
            for k, v in res.items():
                base = res["ASGI bare" if k.startswith("ASGI") else "bare"]
                print(f"  {k:34s} {v:10.1f} us  ({v - base:+9.1f} us, {v / base:6.2f}x)")


if __name__ == "__main__":
    main()
