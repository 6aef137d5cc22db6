"""Which code is traced: decided once per code object, cached by file name."""

from __future__ import annotations

import fnmatch
import os

# Bound at import, before the program runs: a builtin the program replaces is never called here.
from builtins import any, bool, getattr, len, tuple
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import CodeType
from typing import Any

from .summarise import utf8

# Test code in a pytest run: shown as the harness, apart from the system under test.
HARNESS_FILES = ("test_*.py", "*_test.py", "conftest.py")

# Skeleton's own code is never traced, even when it sits under the project root.
OWN_PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__))) + os.sep
INSTALLED_DIRS = frozenset({"site-packages", "dist-packages"})  # where installers put packages
EXCLUDED_DIRS = INSTALLED_DIRS | frozenset(
    {
        ".venv",
        "venv",
        ".git",
        ".skeleton",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
    }
)
# The running interpreter's standard library (where os.py is): never the project's, even under a project root
# that holds it (a pyenv or home folder that is a git checkout), unless the root lies inside it (traced on purpose).
STDLIB = os.path.dirname(os.path.realpath(os.__file__)) + os.sep


def in_stdlib_or_installed(path: str) -> bool:
    """Whether a file is the interpreter's standard library or an installed package (site-packages,
    dist-packages): code the project uses, not the project's."""
    real = os.path.realpath(path)
    return real.startswith(STDLIB) or not INSTALLED_DIRS.isdisjoint(Path(real).parts)


# Import hooks an installer writes into site-packages (setuptools' editable installs, virtualenv's): import
# machinery, not project code, even when the project root is site-packages itself.
INSTALLER_HOOKS = ("__editable__", "_virtualenv.py")

_CO_OPTIMIZED = 0x01
_CO_VARARGS = 0x04
_CO_VARKEYWORDS = 0x08
GENERATOR_FLAGS = 0x20 | 0x80 | 0x200  # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR


# CodeInfo.as_record(): the fields in order, as the spill file holds them (records.DEF_CODE)
CodeRecord = tuple[int, str, str, str, str | None, str, int, str, bool, tuple[str, ...], str | None, bool, str | None]


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """Static facts about one traced code object (one per code object)."""

    index: int
    module: str
    qualified_name: str
    function: str
    class_name: str | None  # defining class qualname (from the code's qualname)
    file: str  # relative to the project root, posix separators
    line: int
    callable_kind: str  # module_function | instance_method | class_method | static_method
    internal: bool
    arg_names: tuple[str, ...]  # bound at PY_START, self/cls excluded
    receiver: str | None  # "self" / "cls" when the first argument is the receiver
    generator: bool
    role: str | None = None  # "harness" for test code (pytest runs)

    def as_record(self) -> CodeRecord:
        return (
            self.index,
            self.module,
            self.qualified_name,
            self.function,
            self.class_name,
            self.file,
            self.line,
            self.callable_kind,
            self.internal,
            self.arg_names,
            self.receiver,
            self.generator,
            self.role,
        )

    @classmethod
    def from_record(cls, rec: Sequence[Any]) -> CodeInfo:  # a CodeRecord (12 fields from older spills)
        (index, module, qualname, function, class_name, file, line, kind, internal, arg_names, receiver, gen) = rec[:12]
        role = rec[12] if len(rec) > 12 else None
        return cls(
            index,
            module,
            qualname,
            function,
            class_name,
            file,
            line,
            kind,
            internal,
            tuple(arg_names),
            receiver,
            gen,
            role,
        )


def find_project_root(script: Path) -> Path:
    """Nearest ancestor of the script holding a project marker, else the script's folder."""
    start = script.resolve().parent
    for folder in (start, *start.parents):
        for marker in ("pyproject.toml", "setup.cfg", "setup.py", ".git"):
            if (folder / marker).exists():
                return folder
    return start


class CodeFilter:
    """Decides whether a code object is traced and describes it."""

    def __init__(
        self,
        project_root: Path,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        include_private: bool = False,
        main_module: str = "__main__",
        main_file: str | None = None,
        harness_files: Sequence[str] = (),
    ) -> None:
        self.root = Path(os.path.realpath(project_root))
        root = str(self.root)
        self._root_prefix = root if root.endswith(os.sep) else root + os.sep  # files under the root start so
        self._stdlib = "" if self._root_prefix.startswith(STDLIB) else STDLIB  # "": a root inside it traces it
        self._dirs: dict[str, str] = {}  # a folder -> its realpath (_realpath)
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.include_private = include_private
        self.main_module = main_module  # name used for the script's own module
        self._main_file = os.path.realpath(main_file) if main_file else None
        self.harness_files = tuple(harness_files)  # file name globs of test code (pytest runs)
        self._files: dict[str, str | None] = {}  # co_filename -> relative path, or None if not traced
        self.next_index = 0

    def relative_file(self, filename: str) -> str | None:
        """Relative posix path when the file belongs to the project, else None (cached)."""
        try:
            return self._files[filename]
        except KeyError:
            pass
        rel = self._relative(filename)
        self._files[filename] = rel
        return rel

    def _relative(self, filename: str) -> str | None:
        if not filename or filename.startswith("<"):
            return None
        real = self._realpath(filename)
        if real.startswith(OWN_PACKAGE):
            return None
        if os.sep == "/":  # a realpath is normalised: a string prefix is relative_to's test (~45 us less a file)
            if not real.startswith(self._root_prefix):
                return None
            parts: Sequence[str] = real[len(self._root_prefix) :].split("/")
        else:
            try:
                parts = Path(real).relative_to(self.root).parts
            except ValueError:
                return None
        if self._stdlib and real.startswith(self._stdlib):
            return None
        if any(p in EXCLUDED_DIRS for p in parts[:-1]) or parts[-1].startswith(INSTALLER_HOOKS):
            return None
        return PurePosixPath(*parts).as_posix()

    def _realpath(self, filename: str) -> str:
        """os.path.realpath(filename) with its folder's realpath cached: a file in a folder met before costs one
        lstat (is it a link?) instead of one per path component (a run meets hundreds of files in a few dozen
        folders, each once: relative_file caches per file)."""
        head, tail = os.path.split(filename)
        if not os.path.isabs(filename) or tail in ("", ".", ".."):
            return os.path.realpath(filename)
        d = self._dirs.get(head)
        if d is None:
            d = self._dirs[head] = os.path.realpath(head)
        full = os.path.join(d, tail)
        return os.path.realpath(full) if os.path.islink(full) else full

    def module_name(self, module_from_globals: str | None, filename: str, rel: str) -> str:
        if module_from_globals == "__main__" or not module_from_globals:
            if self._main_file is None or os.path.realpath(filename) == self._main_file:
                return self.main_module
            return module_from_path(rel)
        return module_from_globals

    def _selected(self, rel: str, module: str) -> bool:
        def match(pattern: str) -> bool:
            return (
                fnmatch.fnmatchcase(rel, pattern)
                or fnmatch.fnmatchcase(module, pattern)
                or module == pattern
                or module.startswith(pattern + ".")
            )

        if self.include and not any(match(p) for p in self.include):
            return False
        return not any(match(p) for p in self.exclude)

    def _role(self, rel: str) -> str | None:
        name = rel.rsplit("/", 1)[-1]
        return "harness" if any(fnmatch.fnmatchcase(name, p) for p in self.harness_files) else None

    def public(self, name: str) -> tuple[bool, bool]:
        """(traced, internal) for a function name."""
        if name.startswith("<") or (name.startswith("__") and name.endswith("__")):
            return False, False
        if name.startswith("_"):
            return self.include_private, True
        return True, False

    def init_receiver(self, code: CodeType) -> str | None:
        """The receiver's name when `code` is the __init__ of a class in the project (not traced, but
        watched: it tells a new object from a freed one at the same address), else None."""
        if not code.co_flags & _CO_OPTIMIZED or not code.co_argcount or self.relative_file(code.co_filename) is None:
            return None
        qualname = getattr(code, "co_qualname", code.co_name)
        owner = qualname.rpartition(".")[0]
        if not owner or owner.endswith("<locals>"):
            return None
        return code.co_varnames[0]

    def describe(self, code: CodeType, module_from_globals: str | None) -> CodeInfo | None:
        """CodeInfo when the code is traced, else None. Call once per code object."""
        if not code.co_flags & _CO_OPTIMIZED:  # module and class bodies are not calls
            return None
        rel = self.relative_file(code.co_filename)
        if rel is None:
            return None
        traced, internal = self.public(code.co_name)
        if not traced:
            return None
        module = self.module_name(module_from_globals, code.co_filename, rel)
        if not self._selected(rel, module):
            return None
        qualname = getattr(code, "co_qualname", code.co_name)
        owner, _, _ = qualname.rpartition(".")
        class_name = owner if owner and not owner.endswith("<locals>") else None
        nargs = code.co_argcount + code.co_kwonlyargcount
        nargs += bool(code.co_flags & _CO_VARARGS) + bool(code.co_flags & _CO_VARKEYWORDS)
        names = code.co_varnames[:nargs]
        receiver = None
        if class_name and code.co_argcount and names[0] in ("self", "cls", "mcs", "klass"):
            receiver = "self" if names[0] == "self" else "cls"
        if class_name is None:
            kind = "module_function"
        elif receiver == "self":
            kind = "instance_method"
        elif receiver == "cls":
            kind = "class_method"
        else:
            kind = "static_method"
        arg_names = tuple(names[1:] if receiver else names)
        info = CodeInfo(
            self.next_index,
            utf8(module),
            qualname,
            code.co_name,
            class_name,
            utf8(rel),
            code.co_firstlineno,
            kind,
            internal,
            arg_names,
            receiver,
            bool(code.co_flags & GENERATOR_FLAGS),
            self._role(rel),
        )
        self.next_index += 1
        return info


def module_from_path(rel: str) -> str:
    """Dotted name from a path relative to the project root: app/main.py -> app.main."""
    p = PurePosixPath(rel)
    parts = list(p.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or p.stem
