#!/usr/bin/env python3
"""The fixed cost of `skeleton run`: an empty script and short real programs, over EVERY process (issue 16).

    python bench/startup.py --python .venv-3.12/bin/python                  # empty, rich, tomlkit
    python bench/startup.py --python .venv-3.12/bin/python --before 2028743 # side by side with Skeleton at a ref
    python bench/startup.py --python .venv-3.12/bin/python --no-callgrind --repeat 7

For each program: plain `python PROG`, `skeleton run --no-open PROG` (all five artifacts, report.html included)
with this checkout, and with --before REF the same with skeleton_replay as it was at REF (`git archive`, the
checkout's compiled extensions copied in). The real programs are traced with --project-root at the library's
folder in site-packages (rich renders a table and some Markdown; tomlkit parses, edits and writes a document);
a library that is not installed for that Python is skipped with a note.

* instructions  valgrind --tool=callgrind --trace-children=yes, each process's `Collected` summed (exact,
                deterministic: PYTHONHASHSEED=0 and compiled bytecode, written once before measuring).
* CPU s         user+sys of the command and every process it waited for (os.wait4), median of --repeat.
Standard library only.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_COLLECTED = re.compile(rb"==\d+== Collected : (\d+)")

PROGRAMS: dict[str, tuple[str, str | None]] = {  # name -> (source, library traced as the project)
    "empty": ("", None),
    "rich": (
        "import io\n"
        "from rich.console import Console\n"
        "from rich.markdown import Markdown\n"
        "from rich.table import Table\n"
        "console = Console(file=io.StringIO(), width=100, force_terminal=True)\n"
        "table = Table(title='Inventory')\n"
        "for name in ('item', 'count', 'price'):\n"
        "    table.add_column(name)\n"
        "for i in range(30):\n"
        "    table.add_row(f'part {i}', str(i * 3), f'{i * 1.5:.2f}')\n"
        "console.print(table)\n"
        "console.print(Markdown('# Title\\n\\nSome *text* with `code`.\\n\\n- one\\n- two\\n'))\n"
        "print(len(console.file.getvalue()))\n",
        "rich",
    ),
    "tomlkit": (
        "import tomlkit\n"
        "doc = tomlkit.parse('''\n"
        "[project]\nname = \"demo\"  # the name\nversion = \"1.0\"\ndependencies = [\"a>=1\", \"b\"]\n"
        "[tool.demo]\nlevel = 3\nflags = { fast = true, safe = false }\n"
        "''')\n"
        "doc['project']['version'] = '1.1'\n"
        "doc['tool']['demo']['level'] = 4\n"
        "for i in range(20):\n"
        "    doc['tool']['demo'][f'k{i}'] = i\n"
        "print(len(tomlkit.dumps(doc)))\n",
        "tomlkit",
    ),
}


def _env(pythonpath: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "SKELETON_PURE_PYTHON")}
    env["PYTHONPATH"] = pythonpath
    env["PYTHONHASHSEED"] = "0"
    return env


def _library_dir(python: str, name: str) -> str | None:
    code = f"import importlib.util as u, os; s = u.find_spec({name!r}); print(os.path.dirname(s.origin) if s else '')"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()
    return out or None


def _before_tree(ref: str, work: str) -> str:
    """skeleton_replay as it was at REF, with this checkout's compiled extensions."""
    dest = os.path.join(work, "before")
    os.makedirs(dest)
    archive = subprocess.run(["git", "-C", ROOT, "archive", ref, "skeleton_replay"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", dest], input=archive.stdout, check=True)
    for so in glob.glob(os.path.join(ROOT, "skeleton_replay", "**", "*.so"), recursive=True):
        target = os.path.join(dest, os.path.relpath(so, ROOT))
        if os.path.isdir(os.path.dirname(target)):
            shutil.copy2(so, target)
    return dest


def _cpu(cmd: list[str], env: dict[str, str], cwd: str) -> float:
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"startup.py: {' '.join(cmd)} exited with {proc.returncode}:\n{tail}")
    return usage.ru_utime + usage.ru_stime


def _instructions(cmd: list[str], env: dict[str, str], cwd: str, logs: str) -> int:
    os.makedirs(logs)
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--trace-children=yes", "--callgrind-out-file=/dev/null",
         f"--log-file={logs}/cg.%p", *cmd],
        env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
    )
    total = 0
    for log in glob.glob(os.path.join(logs, "cg.*")):
        with open(log, "rb") as f:
            total += sum(int(m.group(1)) for m in _COLLECTED.finditer(f.read()))
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=os.path.join(ROOT, ".venv-3.12", "bin", "python"))
    ap.add_argument("--before", metavar="REF", help="also measure skeleton_replay as it was at this git ref")
    ap.add_argument("--program", action="append", choices=sorted(PROGRAMS), help="default: all")
    ap.add_argument("--repeat", type=int, default=5, help="CPU rounds (median)")
    ap.add_argument("--no-callgrind", action="store_true")
    args = ap.parse_args(argv)
    if os.sep in args.python:  # the commands run in a temporary folder
        args.python = os.path.abspath(args.python)
    if not args.no_callgrind and shutil.which("valgrind") is None:
        print("startup.py: valgrind not found; install it or pass --no-callgrind", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="skeleton-startup-")
    try:
        trees = {"skeleton": ROOT}
        if args.before:
            trees = {"before": _before_tree(args.before, work), **trees}
        rows: list[dict[str, Any]] = []
        for name in args.program or list(PROGRAMS):
            source, library = PROGRAMS[name]
            flags: list[str] = []
            if library is not None:
                folder = _library_dir(args.python, library)
                if folder is None:
                    print(f"startup.py: {library} is not installed for {args.python}: {name} skipped", file=sys.stderr)
                    continue
                flags = ["--project-root", folder]
            prog = os.path.join(work, f"prog_{name}.py")  # not rich.py: it would shadow the library
            with open(prog, "w") as f:
                f.write(source)
            variants = {"python": ([args.python, prog], _env(""))}
            for label, tree in trees.items():
                out = os.path.join(work, f"out-{name}-{label}")
                cmd = [args.python, "-m", "skeleton_replay", "run", "--no-open", "--out-dir", out, *flags, prog]
                variants[label] = (cmd, _env(tree))
            for label, (cmd, env) in variants.items():
                _cpu(cmd, env, work)  # writes the bytecode caches; not measured
                cpu = statistics.median(_cpu(cmd, env, work) for _ in range(args.repeat))
                instr = None if args.no_callgrind else _instructions(cmd, env, work, f"{work}/cg-{name}-{label}")
                rows.append({"program": name, "variant": label, "cpu_s": cpu, "instructions": instr})
        print(f"{'program':10} {'variant':10} {'CPU s':>8} {'M instr':>10}")
        for r in rows:
            count = "-" if r["instructions"] is None else f"{r['instructions'] / 1e6:.1f}"
            print(f"{r['program']:10} {r['variant']:10} {r['cpu_s']:8.3f} {count:>10}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
