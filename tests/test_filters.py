"""CodeFilter.relative_file: which files are project code, and their paths relative to the root.

The filter resolves each file once (its folder's realpath cached, a string prefix for the root): it must give
what os.path.realpath and Path.relative_to give, links and all."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path, PurePosixPath

import pytest

from skeleton_replay.capture.filters import EXCLUDED_DIRS, INSTALLER_HOOKS, OWN_PACKAGE, STDLIB, CodeFilter


def reference(filename: str, root: Path) -> str | None:
    """The straightforward answer: the whole path resolved, then relative_to."""
    if not filename or filename.startswith("<"):
        return None
    real = os.path.realpath(filename)
    if real.startswith(OWN_PACKAGE):
        return None
    try:
        parts = Path(real).relative_to(os.path.realpath(root)).parts
    except ValueError:
        return None
    if any(p in EXCLUDED_DIRS for p in parts[:-1]) or parts[-1].startswith(INSTALLER_HOOKS):
        return None
    return PurePosixPath(*parts).as_posix()


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, list[str]]:
    """A project with links every way: files and folders, into and out of it, and the files to ask about."""
    proj, outside = tmp_path / "proj", tmp_path / "outside"
    for d in (proj / "app" / "sub", proj / ".venv" / "lib", outside / "lib"):
        d.mkdir(parents=True)
    for f in (
        proj / "app" / "main.py",
        proj / "app" / "sub" / "x.py",
        proj / ".venv" / "lib" / "dep.py",
        proj / "app" / "_virtualenv.py",
        outside / "lib" / "ext.py",
        outside / "far.py",
    ):
        f.write_text("")
    (proj / "app" / "to_far.py").symlink_to(outside / "far.py")  # a file linked out of the project
    (outside / "to_main.py").symlink_to(proj / "app" / "main.py")  # a file outside, linked in
    (proj / "app" / "libdir").symlink_to(outside / "lib")  # a folder linked out
    (outside / "appdir").symlink_to(proj / "app")  # a folder outside, linked in
    (proj / "app" / "chain.py").symlink_to(proj / "app" / "to_far.py")  # a link to a link
    (tmp_path / "proj_link").symlink_to(proj)  # the root reached through a link
    names = [
        proj / "app" / "main.py",
        proj / "app" / "sub" / "x.py",
        proj / "app" / "sub" / ".." / "main.py",
        proj / "app" / "to_far.py",
        outside / "to_main.py",
        proj / "app" / "libdir" / "ext.py",
        outside / "appdir" / "sub" / "x.py",
        proj / "app" / "chain.py",
        tmp_path / "proj_link" / "app" / "main.py",
        proj / ".venv" / "lib" / "dep.py",
        proj / "app" / "_virtualenv.py",
        proj / "app" / "missing.py",
        outside / "far.py",
        proj / "app" / "sub",
        Path(OWN_PACKAGE) / "cli.py",
    ]
    return proj, [str(n) for n in names] + ["<string>", "", "relative/main.py", os.sep]


@pytest.mark.parametrize("via_link", [False, True])
def test_relative_file_is_what_realpath_and_relative_to_give(tree, via_link):
    proj, names = tree
    root = proj.parent / "proj_link" if via_link else proj
    f = CodeFilter(root)
    got = {n: f.relative_file(n) for n in names}
    assert got == {n: reference(n, root) for n in names}
    # the cases the links make: resolved where they lead, in the project or not
    assert got[str(proj / "app" / "to_far.py")] is None and got[str(proj / "app" / "chain.py")] is None
    assert got[str(proj.parent / "outside" / "to_main.py")] == "app/main.py"
    assert got[str(proj.parent / "outside" / "appdir" / "sub" / "x.py")] == "app/sub/x.py"
    assert got[str(proj / "app" / "sub" / ".." / "main.py")] == "app/main.py"
    assert got[str(proj / ".venv" / "lib" / "dep.py")] is None


def test_a_file_replaced_by_a_link_in_a_folder_met_before_is_resolved(tree):
    proj, _ = tree
    f = CodeFilter(proj)
    assert f.relative_file(str(proj / "app" / "main.py")) == "app/main.py"  # the folder's realpath is now cached
    other = proj / "app" / "late.py"
    other.symlink_to(proj.parent / "outside" / "far.py")
    assert f.relative_file(str(other)) is None


def test_the_standard_library_is_never_project_code_unless_the_root_lies_inside_it():
    """A project root that holds the interpreter (a pyenv folder or a home folder that is a git checkout)
    does not make the standard library project code; a root inside it (tracing it on purpose) does."""
    json_init = os.path.realpath(json.__file__)
    assert json_init.startswith(STDLIB)
    above = CodeFilter(Path(STDLIB).parent)
    assert above.relative_file(json_init) is None
    assert above.relative_file(os.path.realpath(textwrap.__file__)) is None
    inside = CodeFilter(Path(json_init).parent)
    assert inside.relative_file(json_init) == "__init__.py"
    whole = CodeFilter(Path(STDLIB))
    assert whole.relative_file(json_init) == "json/__init__.py"
