"""Shared helper for the benchmark workloads (standard library only).

Each workload times its own main work with ``time.perf_counter()`` and, if the
environment variable ``SKELETON_BENCH_TIMING`` names a file, writes
``{"seconds": x, ...}`` there as JSON.  The harness (bench/run.py) uses it to
compute the slowdown "while the traced program runs", separately from the
tracer's start-up and post-processing.
"""
import argparse
import json
import os
import time


def parse_scale(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="work multiplier (1 = about 0.5-2 s untraced)")
    return parser.parse_args().scale


def report(seconds, **extra):
    """Write the timing file (if requested) and a one-line summary to stdout."""
    data = {"seconds": seconds}
    if Stopwatch.last_cpu is not None:  # the process's CPU seconds over the same stretch: steadier on a busy machine
        data["cpu_seconds"] = Stopwatch.last_cpu
    data.update(extra)
    path = os.environ.get("SKELETON_BENCH_TIMING")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
    print(json.dumps(data, sort_keys=True))


class Stopwatch:
    last_cpu = None

    def __enter__(self):
        self.start = time.perf_counter()
        self.start_cpu = time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.cpu_seconds = Stopwatch.last_cpu = time.process_time() - self.start_cpu
        return False
