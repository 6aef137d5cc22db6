"""`skeleton run` starts without the modules only other commands use (issue 16: start-up cost)."""
from __future__ import annotations

import subprocess
import sys

from conftest import skeleton

OTHER_COMMANDS = ("check", "diff", "export", "runs")


def test_the_cli_imports_other_commands_only_when_they_are_used(tmp_path):
    code = (
        "import sys\n"
        "from skeleton_replay import cli\n"
        "print(sorted(m for m in sys.modules if m.startswith('skeleton_replay.commands.')))\n"
        "print(sorted(m for m in ('skeleton_replay.compare', 'skeleton_replay.export', 'skeleton_replay.rules') "
        "if m in sys.modules))\n"
    )
    # from an empty folder: the Skeleton that is installed (or on PYTHONPATH), not a checkout in the cwd
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert out.splitlines() == ["[]", "[]"]


def test_lazy_commands_are_listed_and_run():
    p = skeleton("--help")
    assert p.returncode == 0, p.stderr
    listed = [line.split()[0] for line in p.stdout.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == sorted([*OTHER_COMMANDS, "pytest", "report", "run"])
    for name in OTHER_COMMANDS:
        h = skeleton(name, "--help")
        assert h.returncode == 0, h.stderr
        assert h.stdout.startswith(f"Usage: skeleton {name} ")
    bad = skeleton("nosuch")
    assert bad.returncode == 2 and "No such command 'nosuch'" in bad.stderr
