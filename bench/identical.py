#!/usr/bin/env python3
"""Do post-processing changes leave the artifacts byte for byte as they were?

    python bench/identical.py --python .venv-3.12/bin/python                 # lane files at HEAD vs now
    python bench/identical.py --ref HEAD~3 --file skeleton_replay/events/jsonl.py --workload mixed

Records each workload once (`skeleton run` with SKELETON_KEEP_SPILL=1, so the raw records stay), then
rebuilds trace.jsonl, snapshot.json and workflow.md from those same records twice: with this working tree,
and with a copy of it in which the --file paths are put back as they were at --ref (`git show REF:PATH`;
the rest of the tree, other people's changes included, is the same in both). Each rebuild runs both
ways: in one process (SKELETON_SERIAL=1) and with the trace-writer helper where the run is big enough.
Every artifact must be identical (the same records give the same timestamps, so nothing is scrubbed).
Exit status 1 when any differs. Standard library only.
"""
from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench

LANE_FILES = ("skeleton_replay/pipeline.py", "skeleton_replay/postworker.py", "skeleton_replay/events/jsonl.py",
              "skeleton_replay/events/write_trace.py", "skeleton_replay/events/decode.py",
              "skeleton_replay/model/build.py", "skeleton_replay/model/calltree.py", "skeleton_replay/model/steps.py")
# scale, extra flags: ~1 M calls at the default cap, a run with every event recorded, text-heavy summaries
CASES = {"call_heavy": (0.5, []), "mixed": (0.3, []), "mixed-unlimited": (0.05, ["--max-events", "0"]),
         "text_heavy": (1.0, []), "stdlib_heavy": (0.3, [])}
ARTIFACTS = ("trace.jsonl", "snapshot.json", "workflow.md")
KEEP = (".trace.spill", ".trace-header.json", ".trace-end.json")
REBUILD = ("import sys; from pathlib import Path; from skeleton_replay.pipeline import from_killed_run; "
           "from_killed_run(Path(sys.argv[1]), False)")


def baseline_tree(ref: str, files: list[str], dest: str) -> str:
    """A copy of this tree's package with `files` as they were at `ref`."""
    shutil.copytree(os.path.join(bench.ROOT, "skeleton_replay"), os.path.join(dest, "skeleton_replay"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for path in files:
        old = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=bench.ROOT, capture_output=True)
        target = os.path.join(dest, path)
        if old.returncode != 0:  # new since ref: absent there
            if os.path.exists(target):
                os.unlink(target)
            continue
        with open(target, "wb") as fh:
            fh.write(old.stdout)
    return dest


def record(interp: str, name: str, scale: float, flags: list[str], out: str) -> None:
    script = name.split("-")[0] + ".py"
    cmd = [interp, "-m", "skeleton_replay", "run", "--no-open", "--no-html", *flags, "--out-dir", out, "--",
           script, "--scale", repr(scale)]
    env = bench.child_env({"SKELETON_KEEP_SPILL": "1"})
    subprocess.run(cmd, cwd=bench.WORKLOADS_DIR, env=env, check=True, stdout=subprocess.DEVNULL)


def rebuild(interp: str, tree: str, recorded: str, dest: str, serial: bool) -> None:
    os.makedirs(dest)
    for name in KEEP:
        shutil.copy(os.path.join(recorded, name), os.path.join(dest, name))
    env = dict(os.environ, PYTHONPATH=tree, SKELETON_KEEP_SPILL="1")
    env.pop("SKELETON_SERIAL", None)
    if serial:
        env["SKELETON_SERIAL"] = "1"
    subprocess.run([interp, "-c", REBUILD, dest], cwd=tree, env=env, check=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--ref", default="HEAD", help="the version to compare with (default HEAD)")
    p.add_argument("--file", action="append", help="paths put back at --ref (default: the post-processing files)")
    p.add_argument("--workload", action="append", choices=sorted(CASES))
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)
    if os.sep in args.python:  # the commands run from other folders
        args.python = os.path.abspath(args.python)
    base = tempfile.mkdtemp(prefix="skeleton-identical-")
    failures = 0
    try:
        old_tree = baseline_tree(args.ref, args.file or list(LANE_FILES), os.path.join(base, "old-tree"))
        for name in args.workload or list(CASES):
            scale, flags = CASES[name]
            recorded = os.path.join(base, name, "recorded")
            record(args.python, name, scale, flags, recorded)
            for serial in (True, False):
                mode = "serial" if serial else "helper"
                dirs = {}
                for label, tree in (("old", old_tree), ("new", bench.ROOT)):
                    dirs[label] = os.path.join(base, name, f"{label}-{mode}")
                    rebuild(args.python, tree, recorded, dirs[label], serial)
                for artifact in ARTIFACTS:
                    a, b = (os.path.join(dirs[k], artifact) for k in ("old", "new"))
                    same = os.path.exists(a) and os.path.exists(b) and filecmp.cmp(a, b, shallow=False)
                    failures += not same
                    size = os.path.getsize(b) if os.path.exists(b) else 0
                    verdict = "identical" if same else "DIFFERENT"
                    print(f"{name:16} {mode:6} {artifact:14} {size:>12,} bytes  {verdict}")
    finally:
        if args.keep:
            print("kept in", base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
