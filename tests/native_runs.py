"""What the tests of the optional C extensions share: the real programs they run both ways (each recorded once per
test session, record_kept), and the rule that where a C compiler is installed the extension must have been built (a
failed build must not pass as "skipped")."""
from __future__ import annotations

import importlib
import shutil
import sysconfig
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from conftest import REPO, skeleton

HAS_COMPILER = bool(shutil.which(str(sysconfig.get_config_var("CC") or "cc").split()[0]))


def require_compiled(module: ModuleType | None, source: str) -> None:
    """Skip without a compiler; fail when there is one and `source` (e.g. model/_aggregate.c) was not built."""
    if module is None:
        assert not HAS_COMPILER, f"skeleton_replay/{source} did not compile: see `pip install -v -e .`"
        pytest.skip("the C extensions were not compiled here (no compiler)")


def compiled_speedups() -> ModuleType:
    """capture/_speedups.c (skipped where nothing compiles, see require_compiled)."""
    try:
        module: ModuleType | None = importlib.import_module("skeleton_replay.capture._speedups")
    except ImportError:  # not compiled
        module = None
    require_compiled(module, "capture/_speedups.c")
    assert module is not None
    return module


def compiled_summariser(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """capture/_summarise.c with SKELETON_PURE_PYTHON unset (skipped where nothing compiles, see require_compiled)."""
    try:
        module: ModuleType | None = importlib.import_module("skeleton_replay.capture._summarise")
    except ImportError:  # not compiled
        module = None
    require_compiled(module, "capture/_summarise.c")
    monkeypatch.delenv("SKELETON_PURE_PYTHON", raising=False)
    assert module is not None
    return module


def package_root(name: str) -> Path:
    """The folder of an installed package (the project root of a run on it); skips when it is not installed."""
    return Path(str(pytest.importorskip(name).__file__)).parent


# a small sqlparse program: parse, format, split (run with --project-root at sqlparse's package)
SQLPARSE = """
import sqlparse
sql = "select a, b as c from t join u on t.id = u.id where x > 1.5e-6 and y = 'caf\\u00e9' -- note\\n; " * 3
for stmt in sqlparse.parse(sql):
    sqlparse.format(str(stmt), reindent=True, keyword_case="upper")
print(len(sqlparse.split(sql)))
"""


def real_command(name: str, sqlparse_script: Path | None = None) -> tuple[str, ...]:
    """The `skeleton` arguments of a real program by name. "sqlparse" runs `sqlparse_script` (SQLPARSE written
    to a file); "pytest-shop" is run from examples/shop."""
    real = REPO / "e2e" / "real_programs"
    if name == "rich":
        return ("run", "--project-root", str(package_root("rich")), str(real / "rich_render.py"))
    if name == "jinja2":
        return ("run", "--project-root", str(package_root("jinja2")), str(real / "jinja_templates.py"))
    if name == "jinja2-capped":
        return ("run", "--max-events", "300", "--project-root", str(package_root("jinja2")),
                str(real / "jinja_templates.py"))
    if name == "sqlparse":
        assert sqlparse_script is not None
        return ("run", "--project-root", str(package_root("sqlparse")), str(sqlparse_script))
    if name == "hot_loop":
        return ("run", "--max-events", "0", str(REPO / "examples" / "hot_loop" / "app.py"), "--steps", "30")
    if name in ("shop", "async_pipeline"):
        return ("run", str(REPO / "examples" / name / "app.py"))
    if name == "pytest-shop":
        return ("pytest", "--", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "tests")
    raise KeyError(name)


_KEPT: dict[str, Path] = {}


def record_kept(name: str, factory: pytest.TempPathFactory) -> Path:
    """The output folder of `skeleton` on the real program `name` (real_command; --no-open --no-html), recorded once
    per test session and shared by the four C-extension test files, which only read it: trace.jsonl, snapshot.json,
    workflow.md and the raw records kept (SKELETON_KEEP_SPILL=1: .trace.spill, .trace-header.json, .trace-end.json).
    Recorded with the C parts on (SKELETON_PURE_PYTHON unset, as each test unsets it), "pytest-shop" from
    examples/shop. The folder is under the session's tmp_path_factory, so its trace.jsonl is checked against the
    schema at the end of the session (tests/conftest.py)."""
    if name in _KEPT:
        return _KEPT[name]
    base = factory.mktemp(f"kept-{name}")
    script = base / "sqlparse_run.py"
    script.write_text(SQLPARSE)
    args = real_command(name, script)
    out = base / "out"
    cwd = REPO / "examples" / "shop" if args[0] == "pytest" else None
    p = skeleton(args[0], "--no-open", "--no-html", "--out-dir", str(out), *args[1:], cwd=cwd,
                 env={"SKELETON_KEEP_SPILL": "1", "SKELETON_PURE_PYTHON": ""})
    assert (out / "trace.jsonl").exists() and (out / ".trace.spill").exists(), p.stdout + p.stderr
    _KEPT[name] = out
    return out


def run_app(tmp_path: Path, app: str, name: str, backend: str, cap: str, pure: bool) -> tuple[list[dict[str, Any]],
                                                                                          dict[str, Any], str]:
    """`app` (a script's source, written to tmp_path/app.py, the project root) run by `skeleton run --max-events cap`
    with the C hooks or the pure-Python callbacks into tmp_path/name: (trace.jsonl's records without their clock
    readings, snapshot.json, the program's stdout). What the tests comparing the two kinds of callbacks share."""
    script = tmp_path / "app.py"
    script.write_text(app)
    out = tmp_path / name
    p = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(out), "--project-root",
                 str(tmp_path), "--max-events", cap, str(script),
                 env={"SKELETON_PURE_PYTHON": "1" if pure else "0"}, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = [orjson.loads(line) for line in (out / "trace.jsonl").read_bytes().splitlines()]
    for e in lines:
        e.pop("timestamp", None)
        e.pop("duration_ns", None)
    return lines, orjson.loads((out / "snapshot.json").read_bytes()), p.stdout
