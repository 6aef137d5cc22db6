"""The traced program sees what `python script.py`, `python -m mod` and `python DIR` give it: the
same __main__ globals (names and their order, __file__, __cached__, __spec__, __loader__,
__package__, __builtins__, __doc__, __annotations__), sys.argv, sys.path[0], and the same
traceback text for an uncaught exception. Each probe runs plain and traced; the outputs must be
identical."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import skeleton  # noqa: E402

PROBE = '''\
"""probe doc"""
_names = list(globals())
import json, os, sys
x: int = 1
def _t(v):
    return None if v is None else type(v).__module__ + "." + type(v).__qualname__
_g = globals()
_spec = _g.get("__spec__")
_loader = _g.get("__loader__")
if not os.path.dirname(__file__).endswith(".zip"):
    os.chdir(os.path.dirname(__file__))  # works under plain python 3.9+: __file__ is absolute
print(json.dumps({
    "names": _names, "__name__": __name__, "__file__": _g.get("__file__"), "__cached__": _g.get("__cached__"),
    "__package__": _g.get("__package__", "<missing>"), "__doc__": __doc__,
    "__annotations__": sorted(_g.get("__annotations__", {"<missing>": 0})),
    "__builtins__": _t(_g.get("__builtins__")), "__loader__": _t(_loader),
    "loader.name": getattr(_loader, "name", None), "loader.path": getattr(_loader, "path", None),
    "__spec__": _t(_spec),
    "spec": None if _spec is None else [_spec.name, _spec.origin, _spec.parent, _spec.cached, _spec.has_location,
                                        _t(_spec.loader)],
    "argv": sys.argv, "path0": sys.path[0], "main": sys.modules["__main__"].__dict__ is _g,
    "cwd": os.getcwd(),
}, indent=1))
'''

PROBE_NO_ANNOTATIONS = '''\
import json, sys
print(json.dumps({"names": sorted(globals()), "annotations": globals().get("__annotations__", "<missing>"),
                  "builtins": type(__builtins__).__name__, "argv": sys.argv}))
'''

FAILING = '''\
import os
def inner(n):
    raise ValueError(f"boom {n}")
def outer():
    inner(3)
outer()
'''


def _layout(tmp_path: Path, source: str) -> None:
    """The same source as a script, a package module, a package __main__, a folder, a zip."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "probe.py").write_text(source)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(source)
    (tmp_path / "pkg" / "__main__.py").write_text(source)
    (tmp_path / "appdir").mkdir()
    (tmp_path / "appdir" / "__main__.py").write_text(source)
    with zipfile.ZipFile(tmp_path / "app.zip", "w") as z:
        z.writestr("__main__.py", source)
    (tmp_path / "link.py").symlink_to(tmp_path / "sub" / "probe.py")
    (tmp_path / "applink").symlink_to(tmp_path / "appdir")


FORMS = {
    "script": ["sub/probe.py"],
    "symlinked script": ["link.py"],
    "module": ["-m", "pkg.mod"],
    "package": ["-m", "pkg"],
    "folder": ["appdir"],
    "symlinked folder": ["applink"],
    "zip": ["app.zip"],
}


def _both(tmp_path: Path, form: list[str], *args: str, env: dict | None = None):
    plain = subprocess.run([sys.executable, *form, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                           env={**os.environ, **(env or {})})
    traced = skeleton("run", "--no-open", "--no-html", "--out-dir", str(tmp_path / "out"), *form, *args,
                      cwd=tmp_path, env=env)
    return plain, traced


def _program_stderr(traced: subprocess.CompletedProcess) -> str:
    return "".join(line for line in traced.stderr.splitlines(True) if not line.startswith("skeleton: "))


@pytest.mark.parametrize("form", list(FORMS))
def test_main_globals_argv_and_path_match_plain_python(tmp_path, form):
    _layout(tmp_path, PROBE)
    plain, traced = _both(tmp_path, FORMS[form], "a", "--flag")
    assert plain.returncode == 0, plain.stderr
    assert traced.returncode == 0, traced.stderr
    assert json.loads(traced.stdout) == json.loads(plain.stdout)
    assert (tmp_path / "out" / "trace.jsonl").exists()


@pytest.mark.parametrize("form", ["script", "module", "folder"])
def test_globals_without_annotations(tmp_path, form):
    """CPython's __main__ starts with an empty __annotations__ dict (3.11-3.13) and the builtins module."""
    _layout(tmp_path, PROBE_NO_ANNOTATIONS)
    plain, traced = _both(tmp_path, FORMS[form])
    assert traced.returncode == plain.returncode == 0, traced.stderr
    assert json.loads(traced.stdout) == json.loads(plain.stdout)


@pytest.mark.parametrize("form", list(FORMS))
def test_uncaught_exception_traceback_matches_plain_python(tmp_path, form):
    _layout(tmp_path, FAILING)
    plain, traced = _both(tmp_path, FORMS[form])
    assert plain.returncode == traced.returncode == 1
    assert _program_stderr(traced) == plain.stderr
    assert "skeleton_replay" not in traced.stderr
    end = json.loads((tmp_path / "out" / "trace.jsonl").read_text().splitlines()[-1])
    assert end["status"] == "exception" and end["error"]["type"] == "ValueError"


def test_exception_while_importing_the_package_of_a_module(tmp_path):
    """`python -m pkg.mod` imports pkg while the program runs: its error is the program's (exit 1, traceback)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("import sys\nprint('init sees', sys.argv[0] == '-m')\n"
                                                  "raise RuntimeError('broken package')\n")
    (tmp_path / "pkg" / "mod.py").write_text("print('never')\n")
    plain, traced = _both(tmp_path, ["-m", "pkg.mod"])
    assert plain.returncode == traced.returncode == 1
    assert traced.stdout == plain.stdout == "init sees True\n"
    assert _program_stderr(traced) == plain.stderr
    assert "RuntimeError: broken package" in plain.stderr


def test_package_init_runs_traced_with_the_programs_argv(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(textwrap.dedent("""
        import sys
        def setup():
            return sys.argv[1:]
        print("init", setup())
    """))
    (tmp_path / "pkg" / "mod.py").write_text("import sys\nprint('mod', sys.argv[1:])\n")
    (tmp_path / "pyproject.toml").write_text("")
    plain, traced = _both(tmp_path, ["-m", "pkg.mod"], "x")
    assert traced.returncode == plain.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout == "init ['x']\nmod ['x']\n"
    lines = [json.loads(line) for line in (tmp_path / "out" / "trace.jsonl").read_text().splitlines()]
    assert [e["callee"]["function"] for e in lines if e.get("event_type") == "call"] == ["setup"]


def test_compiled_script(tmp_path):
    """`python script.pyc` runs the bytecode with a SourcelessFileLoader."""
    import py_compile
    src = tmp_path / "src.py"
    src.write_text(PROBE)
    py_compile.compile(str(src), cfile=str(tmp_path / "probe.pyc"), doraise=True)
    plain, traced = _both(tmp_path, ["probe.pyc"])
    assert plain.returncode == 0, plain.stderr
    assert traced.returncode == 0, traced.stderr
    assert json.loads(traced.stdout) == json.loads(plain.stdout)


def test_safe_path_leaves_sys_path_alone(tmp_path):
    """PYTHONSAFEPATH=1: python adds no script folder to sys.path, so neither does Skeleton."""
    _layout(tmp_path, "import sys, json\nprint(json.dumps(sys.path))\n")
    for form in ("script", "folder"):
        plain, traced = _both(tmp_path, FORMS[form], env={"PYTHONSAFEPATH": "1"})
        assert traced.returncode == plain.returncode == 0, (form, traced.stderr)
        assert json.loads(traced.stdout)[:2] == json.loads(plain.stdout)[:2], form


def test_shutdown_in_pythons_order(tmp_path):
    """Python prints the traceback, then waits for threads, then runs atexit handlers: so does
    Skeleton, still tracing (the handlers are the program's), before its own summary."""
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""
        import atexit, builtins, threading, time
        def bye():
            print("bye from atexit", flush=True)
        def late():
            time.sleep(0.3)
            print("thread done", flush=True)
        def loud(*args, **kwargs):
            builtins.__dict__["__skeleton_test_print"](">>", *args, **kwargs)
        atexit.register(bye)
        threading.Thread(target=late).start()
        builtins.__dict__["__skeleton_test_print"] = print
        builtins.print = loud  # still patched when the atexit handler runs
        raise ValueError("x")
    """))
    run = dict(cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
               env={**os.environ, "CI": "1"})
    plain = subprocess.run([sys.executable, str(script)], **run)
    traced = subprocess.run([sys.executable, "-m", "skeleton_replay", "run", "--no-open", "--no-html", "--out-dir",
                             "out", str(script)], **run)
    assert plain.returncode == traced.returncode == 1
    lines = traced.stdout.splitlines(True)
    program = [x for x in lines if not x.startswith("skeleton: ")]
    assert "".join(program) == plain.stdout
    assert plain.stdout.index("ValueError: x") < plain.stdout.index("thread done") < plain.stdout.index(">> bye")
    assert lines[-1].startswith("skeleton: ") and lines.index(program[-1]) < lines.index(lines[-1])
    events = [json.loads(x) for x in (tmp_path / "out" / "trace.jsonl").read_text().splitlines()[1:-1]]
    calls = [e["callee"]["function"] for e in events if e["event_type"] == "call"]
    assert calls[0] == "late" and calls[-2:] == ["bye", "loud"] and set(calls) == {"late", "loud", "bye"}  # 3.13's
    # traceback printer calls the (patched) print too
