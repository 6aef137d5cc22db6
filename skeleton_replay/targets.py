"""What `python SCRIPT`, `python DIR` (or a zip) and `python -m MODULE` would run, and how.

Mirrors CPython (Modules/main.c pymain_run_python, Python/pythonrun.c _PyRun_SimpleFileObject,
Lib/runpy.py), checked by tests/hostile/test_globals.py against plain python:

- SCRIPT: `__file__` is the absolute path as given (symlinks kept), `__cached__` None,
  `__loader__` a SourceFileLoader (SourcelessFileLoader for a .pyc), `__spec__` and
  `__package__` None, `__builtins__` the builtins module, `__annotations__` {}; sys.argv[0] as
  typed; sys.path[0] the folder of the script with symlinks resolved.
- DIR or zip (anything a sys.path hook accepts): sys.path[0] is its absolute path and runpy runs
  its `__main__` module (`runpy._run_module_as_main("__main__", False)`); sys.argv[0] as typed.
- -m MODULE: sys.path[0] is the current folder; runpy imports the parent packages and runs the
  module while the program runs (`runpy._run_module_as_main(name)`, which sets sys.argv[0] to
  the file; it is '-m' until then). Skeleton only checks beforehand, without importing anything,
  that the module exists and compiles.
Under `python -P` / PYTHONSAFEPATH python adds no sys.path[0] for a script or -m, so neither do we.
"""

from __future__ import annotations

import builtins
import importlib.machinery
import importlib.util
import marshal
import os
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .options import UsageError
from .plain import PlainRecord

if TYPE_CHECKING:
    from _typeshed.importlib import PathEntryFinderProtocol

ModuleSpec = importlib.machinery.ModuleSpec


class Target(PlainRecord):
    """What to run as __main__, and the sys.argv[0] / sys.path[0] python would give it. (A plain record, not a
    dataclass: on the start-up path of every run, plain.py.)"""

    FIELDS = (
        "code",
        "argv0",
        "path0",
        "main_globals",
        "main_file",
        "module_name",
        "run_name",
        "alter_argv",
        "insert_path0",
    )

    def __init__(
        self,
        code: types.CodeType | None,
        argv0: str,
        path0: str | None,
        main_globals: dict[str, Any] | None = None,
        main_file: str = "",
        module_name: str | None = None,
        run_name: str | None = None,
        alter_argv: bool = False,
        insert_path0: bool = False,
    ) -> None:
        self.code = code  # a script's code; None when runpy finds and compiles it (DIR, -m)
        self.argv0 = argv0
        self.path0 = path0  # None: leave sys.path alone (python -P)
        # what python adds to a fresh __main__ module
        self.main_globals: dict[str, Any] = {} if main_globals is None else main_globals
        self.main_file = main_file  # the file whose functions are the __main__ module's
        self.module_name = module_name  # the real name of the module run by -m (pkg.__main__)
        self.run_name = run_name  # for runpy: the module to run ("__main__" for a folder or a zip)
        self.alter_argv = alter_argv  # runpy sets sys.argv[0] (-m)
        self.insert_path0 = insert_path0  # DIR/zip: python inserts sys.path[0] even under -P


def _safe_path() -> bool:
    return bool(getattr(sys.flags, "safe_path", False))


def _main_dict(extra: dict[str, Any]) -> dict[str, Any]:
    """A fresh __main__'s globals after interpreter start-up (pylifecycle.c add_main_module)."""
    return {"__annotations__": {}, "__builtins__": builtins, "__loader__": importlib.machinery.BuiltinImporter, **extra}


def load_script(path: Path, filename: str | None = None) -> tuple[types.CodeType, type]:
    """Compile the script (or load a .pyc), turning bad input into one clear UsageError line.
    Returns the code and the loader class python gives __main__ for it."""
    if not path.exists():
        raise UsageError(f"script {path} does not exist; check the path")
    if path.is_dir():
        raise UsageError(
            f"{path} is a folder without a __main__.py, not a Python script; pass a .py file "
            "(or a folder holding __main__.py)"
        )
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read script {path} ({exc.strerror or exc}); check its permissions") from None
    magic = importlib.util.MAGIC_NUMBER
    if path.suffix == ".pyc" or source[:2] == magic[:2]:  # as pythonrun.c maybe_pyc_file decides
        if source[:4] != magic:
            raise UsageError(f"{path}: bad magic number (compiled by another Python version); run its source")
        try:
            code = marshal.loads(source[16:])
        except (EOFError, ValueError, TypeError) as exc:
            raise UsageError(f"{path}: not a valid compiled Python file ({exc})") from None
        if not isinstance(code, types.CodeType):
            raise UsageError(f"{path}: not a valid compiled Python file")
        return code, importlib.machinery.SourcelessFileLoader
    try:
        return compile(source, filename or str(path), "exec", dont_inherit=True), importlib.machinery.SourceFileLoader
    except SyntaxError as exc:
        where = f"{exc.filename}:{exc.lineno}" if exc.lineno else str(path)
        raise UsageError(f"{where}: SyntaxError: {exc.msg}; fix the script and run again") from None
    except ValueError as exc:  # e.g. source with NUL bytes
        raise UsageError(f"cannot compile {path}: {exc}") from None


def _path_importer(path: str) -> PathEntryFinderProtocol | None:
    """What a sys.path hook makes of PATH (a folder: FileFinder, a zip: zipimporter), else None."""
    if not os.path.exists(path):
        return None
    for hook in sys.path_hooks:
        try:
            return hook(path)
        except ImportError:
            continue
    return None


def script_target(path: Path) -> Target:
    typed = os.fspath(path)
    full = os.path.abspath(typed)  # python makes the file name absolute without resolving symlinks
    importer = _path_importer(full)
    if importer is not None:
        return _main_package_target(path, typed, full, importer)
    code, loader = load_script(path, full)
    path0 = None if _safe_path() else os.path.dirname(os.path.realpath(full))
    return Target(
        code,
        typed,
        path0,
        _main_dict({"__file__": full, "__cached__": None, "__loader__": loader("__main__", full)}),
        full,
    )


def _main_package_target(path: Path, typed: str, full: str, importer: PathEntryFinderProtocol) -> Target:
    """`python DIR` / `python app.zip`: runpy runs the __main__ module found there."""
    kind = "folder" if os.path.isdir(full) else "file"
    try:
        spec = importer.find_spec("__main__")
    except (ImportError, OSError, ValueError):
        spec = None
    if spec is None or spec.loader is None:
        raise UsageError(
            f"{path} is a {kind} without a __main__.py, not a Python script; pass a .py file "
            "(or a folder holding __main__.py)"
        )
    _check_code(spec, "__main__", "fix it and run again")
    return Target(None, typed, full, _main_dict({}), spec.origin or full, run_name="__main__", insert_path0=True)


def _check_code(spec: ModuleSpec, name: str, what_to_do: str) -> None:
    """Compile once beforehand so a syntax error is one line of bad input (runpy compiles again)."""
    try:
        loader: Any = spec.loader  # any loader with get_code(), as runpy uses it (not only importlib.abc's)
        code = loader.get_code(name)
    except SyntaxError as exc:
        raise UsageError(f"{exc.filename}:{exc.lineno}: SyntaxError: {exc.msg}; {what_to_do}") from None
    except (ImportError, OSError, ValueError) as exc:
        raise UsageError(f"cannot load {name} from {spec.origin}: {exc}") from None
    if code is None:
        raise UsageError(f"module {name} has no code to run")


def module_target(name: str) -> Target:
    """Like `python -m name`: sys.path[0] is the current folder; a package runs its __main__."""
    if not name.strip():
        raise UsageError("-m needs a module name, not an empty string: give one as for python -m NAME")
    cwd = os.getcwd()
    path0 = None if _safe_path() else cwd
    if path0 is not None:
        sys.path.insert(0, path0)
    try:
        spec = _module_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            if name == "__main__" or name.endswith(".__main__"):
                raise UsageError(f"{name} is a package: it cannot run as __main__; name a module")
            spec = _module_spec(name + ".__main__")
            if spec is None:
                raise UsageError(f"{name} is a package with no __main__ module; name a module to run with -m")
        if spec is None and name.endswith(".py"):
            raise ImportError(name)
        parent = name.rpartition(".")[0]
        if spec is None and parent and _package_path(parent) is None and _find_quietly(parent) is not None:
            raise UsageError(f"cannot find module {name!r}: {parent} is a module, not a package; check the name")
        if spec is None:
            raise UsageError(f"no module named {name}; check the name and that it can be imported from {cwd}")
        if spec.loader is None:
            raise UsageError(f"{name} is a namespace package with no __main__ module; name a module to run with -m")
        _check_code(spec, spec.name, "fix the module and run again")
    except UsageError:
        raise
    except (ImportError, ValueError) as exc:  # ValueError: an empty or relative name
        if name.endswith(".py"):
            raise UsageError(
                f"-m takes a module name, not a file: use 'skeleton run {name}' (or -m {name[:-3]})"
            ) from None
        raise UsageError(f"cannot find module {name!r} ({exc}); check the name and sys.path") from None
    finally:
        if path0 is not None:
            sys.path.remove(path0)
    origin = spec.origin or name
    return Target(None, "-m", path0, _main_dict({}), origin, module_name=spec.name, run_name=name, alter_argv=True)


def _module_spec(name: str) -> ModuleSpec | None:
    """The module's spec without importing anything (python -m imports the parents while the
    program runs). Only where a package finds the module once imported (it extends its __path__,
    as with pkgutil.extend_path): the answer of importlib.util.find_spec, which imports it."""
    if name.startswith(".") or name.endswith(".") or ".." in name:
        raise ValueError(f"{name!r} is not an absolute module name")
    spec = _find_quietly(name)
    parent = name.rpartition(".")[0]
    if spec is not None or not parent or _package_path(parent) is None:
        return spec
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError, TypeError):
        raise
    except Exception as exc:  # the package failed to import: say so, do not run it twice
        raise UsageError(
            f"importing the package of {name} failed ({type(exc).__name__}: {exc}); "
            f"run python -m {name} to see the traceback"
        ) from None


def _package_path(name: str) -> Sequence[str] | None:
    """The __path__ a package would have (None: not a package, or not found), without importing it."""
    module = sys.modules.get(name)
    if module is not None:
        return getattr(module, "__path__", None)
    spec = _find_quietly(name)
    return spec.submodule_search_locations if spec is not None else None


def _find_quietly(name: str) -> ModuleSpec | None:
    """importlib's own search (sys.meta_path with the parent's __path__), minus importing the parents."""
    parent = name.rpartition(".")[0]
    path = None
    if parent:
        path = _package_path(parent)
        if path is None:
            return None
    if name in sys.modules:
        return importlib.util.find_spec(name)
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        spec: ModuleSpec | None = find_spec(name, path, None)
        if spec is not None:
            return spec
    return None
