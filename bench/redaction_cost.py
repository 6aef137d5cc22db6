#!/usr/bin/env python3
"""Microseconds per summarised string: what redaction costs on text-heavy programs.

    python bench/redaction_cost.py                 # current interpreter, this checkout
    python bench/redaction_cost.py --known 0,8,250 # with that many known secrets in the run (random-looking)

Every string argument, return value and exception message of a sampled call is summarised, and
each summary is scanned for secrets (docs/safety.md). The shapes below are ordinary text and the
pathological shapes that made the old, unbounded patterns backtrack (`a.a.a…`, colons, `eyJeyJ…`).
Prints one row per shape: µs per Summariser.value() call (best of --repeat runs), then one row
for Summariser.secret_value() over the whole 60 KB `a.a.a…` text (what a web path check costs).
Standard library only.
"""
import argparse
import os
import random
import string
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from skeleton_replay.capture.summarise import Summariser  # noqa: E402

SHAPES = {
    "short word": "hello",
    "short sentence (40 chars)": "the quick brown fox jumps over the dog",
    "URL without a password": "https://example.com/api/v1/orders?page=2&sort=desc",
    "4 KB prose": ("lorem ipsum dolor sit amet, consectetur adipiscing elit " * 80)[:4096],
    "4 KB a.a.a…": "a." * 2048,
    "60 KB a.a.a…": "a." * 30000,
    "4 KB a:a:a…": "a:" * 2048,
    "4 KB ab+ab+… (scheme-like)": "ab+" * 1365,
    "4 KB eyJeyJ… (JWT-like)": "eyJ" * 1365,
    "4 KB /seg/seg… (path)": "/seg" * 1024,
    "4 KB x://a:b:c… (URL-like)": "x://" + "a:" * 2046,
    "4 KB base64": ("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" * 120)[:4096],
    "JWT (redacted)": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk",
}


def per_call(fn, arg, repeat: int) -> float:
    n = 1
    while True:  # calibrate: about 50 ms per timing
        t = time.perf_counter()
        for _ in range(n):
            fn(arg)
        dt = time.perf_counter() - t
        if dt > 0.05 or n >= 1 << 20:
            break
        n *= 4
    best = dt / n
    for _ in range(repeat - 1):
        t = time.perf_counter()
        for _ in range(n):
            fn(arg)
        best = min(best, (time.perf_counter() - t) / n)
    return best * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--known", default="0,8,250", help="numbers of known secrets to measure with (comma-separated)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    counts = [int(x) for x in args.known.split(",")]
    print(f"Python {sys.version.split()[0]}; µs per summarised string (best of {args.repeat})")
    print(f"{'shape':32}" + "".join(f"{f'{k} known':>12}" for k in counts))
    summarisers = []
    rng = random.Random(1)
    alphabet = string.ascii_letters + string.digits + "-_"
    for k in counts:
        s = Summariser()
        for _ in range(k):
            s.value("".join(rng.choice(alphabet) for _ in range(rng.randint(12, 40))), "password")
        s.value("warm up the known-secret matcher")
        summarisers.append(s)
    for label, text in SHAPES.items():
        print(f"{label:32}" + "".join(f"{per_call(s.value, text, args.repeat):12.1f}" for s in summarisers))
    whole = SHAPES["60 KB a.a.a…"]
    print(f"{'secret_value(60 KB a.a.a…)':32}"
          + "".join(f"{per_call(s.secret_value, whole, args.repeat):12.1f}" for s in summarisers))


if __name__ == "__main__":
    main()
