#!/usr/bin/env python3
"""`skeleton pytest` on a real project's own test suite against plain pytest: wall and CPU of every process.

    python bench/pytest_suite.py --python .venv-3.12/bin/python                 # sqlparse's suite, repeat 3
    python bench/pytest_suite.py --python .venv-3.12/bin/python --suite DIR --tests tests --repeat 5

The suite is a source distribution's folder (its package and its tests side by side, so the package is
project code, as in a checkout). Without --suite, the sdist of the interpreter's installed sqlparse
(537 tests, pure Python) is fetched once with the interpreter's own pip (`pip download --no-binary :all:
--no-deps`) into bench/.cache/ and unpacked there. Each round runs, in rotating order,
`python -m pytest -q -p no:randomly -p no:cacheprovider TESTS` and
`python -m skeleton_replay pytest --no-open --out-dir DIR -- (the same arguments)` with the default
settings (all five artifacts), from the suite's folder. Reported: median wall and CPU (user+sys of the
command and every process it waited for), and their ratios. Target (issue 16): wall <= 1.5x plain pytest.
Also the split of `skeleton pytest`'s wall from its session.json: the traced session (tracing_s, the
tests and collection) and the post-processing (postprocess_s). --serial adds a third variant with
SKELETON_SERIAL=1 (trace.jsonl always written in Skeleton's own process; the default differs from it only
from 64 MiB of spill, a big suite or a raised cap, where the trace-writer helper trades CPU for wall).
pytest's own "N passed in X s" line is no guide: the artifacts are written in pytest_sessionfinish,
inside the time pytest prints.
Standard library only.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench

CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache")
PYTEST_ARGS = ["-q", "-p", "no:randomly", "-p", "no:cacheprovider"]


def fetch_sqlparse(python: str) -> str:
    """sqlparse's sdist for the installed version, unpacked under bench/.cache (fetched once)."""
    version = subprocess.run([python, "-c", "import sqlparse; print(sqlparse.__version__)"], capture_output=True,
                             text=True, check=True).stdout.strip()
    folder = os.path.join(CACHE, f"sqlparse-{version}")
    if os.path.isdir(os.path.join(folder, "tests")):
        return folder
    os.makedirs(CACHE, exist_ok=True)
    subprocess.run([python, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps", "-d", CACHE,
                    f"sqlparse=={version}"], check=True)
    (sdist,) = glob.glob(os.path.join(CACHE, f"sqlparse-{version}.tar.gz"))
    with tarfile.open(sdist) as tar:
        tar.extractall(CACHE, filter="data")
    return folder


def run_once(cmd: list[str], cwd: str, env: dict[str, str]) -> dict[str, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: some tests failed, the same way in both variants
        raise SystemExit(f"{' '.join(cmd)} exited with {code}:\n{err[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_mib": usage.ru_maxrss / 1024}


def session_metrics(path: str) -> dict[str, float]:
    """tracing_s and postprocess_s of a `skeleton pytest` run (its session.json)."""
    with open(path, encoding="utf-8") as fh:
        metrics = json.load(fh)["metrics"]
    return {"tracing_s": float(metrics["tracing_s"]), "postprocess_s": float(metrics["postprocess_s"])}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--suite", help="the project folder (default: sqlparse's sdist, fetched into bench/.cache)")
    p.add_argument("--tests", default="tests", help="what pytest is given, relative to --suite")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--serial", action="store_true", help="also `skeleton pytest` with SKELETON_SERIAL=1")
    args = p.parse_args(argv)
    python = os.path.abspath(args.python) if os.sep in args.python else args.python
    suite = os.path.abspath(args.suite) if args.suite else fetch_sqlparse(python)
    env = bench.child_env()
    env.pop("PYTHONPATH", None)  # the suite's own package from its folder, Skeleton from the interpreter
    out = tempfile.mkdtemp(prefix="skeleton-pytest-suite-")
    cmds = {
        "pytest": [python, "-m", "pytest", *PYTEST_ARGS, args.tests],
        "skeleton": [python, "-m", "skeleton_replay", "pytest", "--no-open", "--out-dir", os.path.join(out, "run"),
                     "--", *PYTEST_ARGS, args.tests],
    }
    envs = dict.fromkeys(cmds, env)
    if args.serial:
        cmds["serial"] = cmds["skeleton"]
        envs["serial"] = {**env, "SKELETON_SERIAL": "1"}
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in cmds}
    split: list[dict[str, float]] = []  # skeleton's session.json metrics: traced session, post-processing
    try:
        for name, cmd in cmds.items():  # warm-up: .pyc files, caches
            run_once(cmd, suite, envs[name])
        for r in range(args.repeat):
            for name in (list(cmds) if r % 2 == 0 else list(reversed(cmds))):
                runs[name].append(run_once(cmds[name], suite, envs[name]))
                if name == "skeleton":
                    split.append(session_metrics(os.path.join(out, "run", "session.json")))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    med = {k: {m: statistics.median(x[m] for x in v) for m in ("wall_s", "cpu_s", "maxrss_mib")}
           for k, v in runs.items()}
    pairs = list(zip(runs["skeleton"], runs["pytest"], strict=True))
    wall_ratio = statistics.median(s["wall_s"] / u["wall_s"] for s, u in pairs)
    cpu_ratio = statistics.median(s["cpu_s"] / u["cpu_s"] for s, u in pairs)
    version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True,
                             text=True).stdout.strip()
    print(f"python {version}, suite {os.path.basename(suite)} ({args.tests}), median of {args.repeat}")
    for k in cmds:
        m = med[k]
        print(f"  {k:9} wall {m['wall_s']:.2f} s  CPU {m['cpu_s']:.2f} s  peak {m['maxrss_mib']:.0f} MiB")
    if split:
        traced, post = (statistics.median(m[k] for m in split) for k in ("tracing_s", "postprocess_s"))
        print(f"  skeleton: traced session {traced:.2f} s, post-processing {post:.2f} s (wall, session.json)")
    verdict = "PASS" if wall_ratio <= 1.5 else "FAIL"
    print(f"  skeleton pytest / pytest: wall {wall_ratio:.2f}x (target 1.5x: {verdict}), CPU {cpu_ratio:.2f}x")
    if args.serial:
        serial = list(zip(runs["serial"], runs["pytest"], strict=True))
        s_wall = statistics.median(s["wall_s"] / u["wall_s"] for s, u in serial)
        s_cpu = statistics.median(s["cpu_s"] / u["cpu_s"] for s, u in serial)
        print(f"  SKELETON_SERIAL=1 / pytest: wall {s_wall:.2f}x, CPU {s_cpu:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
