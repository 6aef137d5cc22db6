"""The output folder disappears or fills up while the program runs: the program still ends with
its own output and exit code, Skeleton says what was lost in one line, and shows no traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import BACKENDS  # noqa: E402

from ._checks import run_both

MANY_CALLS = """
import sys
def work(i):
    return i * 2
def main():
    t = 0
    for i in range(100_000):
        t += work(i)
    print("total", t)
    return 4
sys.exit(main())
"""


def skeleton_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("skeleton:")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_program_deletes_the_output_folder(tmp_path, backend):
    plain, traced, out = run_both(tmp_path, """
        import shutil, sys
        def work(i):
            return i * 2
        def main():
            for i in range(100):
                work(i)
            shutil.rmtree(sys.argv[1], ignore_errors=True)
            for i in range(100):
                work(i)
            print("done")
            return 3
        sys.exit(main())
    """, "out", backend=backend)
    assert plain.returncode == traced.returncode == 3
    assert traced.stdout == plain.stdout == "done\n"
    assert "Traceback" not in traced.stderr
    lines = skeleton_lines(traced.stderr)
    assert len(lines) == 1, traced.stderr
    assert lines[0].startswith("skeleton: error: the output folder ") and "disappeared during the run" in lines[0]
    assert not out.exists()


def _run_patched(tmp_path: Path, patch: str, *args: str) -> subprocess.CompletedProcess:
    """Skeleton's CLI in a process where `patch` (Python source) has broken one of its writers.

    SKELETON_SERIAL: the artifacts are written in this (patched) process, not by the worker."""
    code = textwrap.dedent(patch) + "\nfrom skeleton_replay.cli import main\nsys.exit(main())\n"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "CI": "1", "SKELETON_SERIAL": "1"})


ENOSPC_AFTER_FIRST_CHUNK = """
import errno, sys
from skeleton_replay.capture import records
real = records.SpillWriter._write_all
def write_all(self, data):
    if getattr(self, "bytes_written", 0) > 1000:  # the magic and the first chunk are written; the disk is now full
        real(self, data[: len(data) // 2])  # a torn chunk, then the error
        raise OSError(errno.ENOSPC, "No space left on device")
    real(self, data)
records.SpillWriter._write_all = write_all
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_disk_fills_up_during_the_run(tmp_path, backend):
    """The spill cannot grow: the torn chunk is cut off, the artifacts hold the first chunk, one warning."""
    script = tmp_path / "many.py"
    script.write_text(MANY_CALLS)
    plain = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    traced = _run_patched(tmp_path, ENOSPC_AFTER_FIRST_CHUNK, "run", "--no-open", "--no-html", "--max-events", "0",
                          "--backend", backend, "--out-dir", "out", str(script))
    assert plain.returncode == traced.returncode == 4
    assert traced.stdout == plain.stdout
    assert "Traceback" not in traced.stderr
    warnings = [line for line in skeleton_lines(traced.stderr) if "warning" in line or "error" in line]
    assert len(warnings) == 1, traced.stderr
    assert "failed during the run (No space left on device)" in warnings[0]
    lines = [json.loads(x) for x in (tmp_path / "out" / "trace.jsonl").read_text().splitlines()]
    events, end = lines[1:-1], lines[-1]
    assert 30_000 < len(events) < 32_768  # the first chunk (less its definition records), nothing torn
    assert [e["order"] for e in events] == list(range(len(events)))
    assert all(e["depth"] >= 0 for e in events)
    assert end["exit_code"] == 4
    gap = [g for g in end["gaps"] if g["kind"] == "truncated"]
    assert len(gap) == 1 and gap[0]["count"] > 100_000
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["session.json", "snapshot.json", "trace.jsonl",
                                                                    "workflow.md"]


REPORT_ENOSPC = """
import errno, sys
from skeleton_replay import safefiles
real = safefiles.write_atomic
def write_atomic(path, data):
    if path.name != "report.html":
        return real(path, data)
    safefiles.temp_name(path).write_bytes(b"half a report")  # as if the process had died here
    raise OSError(errno.ENOSPC, "No space left on device", str(path))
safefiles.write_atomic = write_atomic
"""


def test_disk_full_while_writing_the_artifacts(tmp_path):
    script = tmp_path / "many.py"
    script.write_text(MANY_CALLS)
    traced = _run_patched(tmp_path, REPORT_ENOSPC, "run", "--no-open", "--out-dir", "out", "--json", str(script))
    assert traced.returncode == 4
    assert traced.stdout.splitlines()[0] == "total 9999900000"
    assert "Traceback" not in traced.stderr
    lines = skeleton_lines(traced.stderr)
    assert lines == ["skeleton: error: the artifacts could not be written to " + str((tmp_path / "out").resolve())
                     + ": No space left on device (report.html); free some space or choose another folder with --out-dir"]
    line = json.loads(traced.stdout.splitlines()[-1])
    assert line["exit_code"] == 4 and line["report"] is None and "No space left" in line["lost"]
    leftovers = {p.name for p in (tmp_path / "out").iterdir()}
    assert not {n for n in leftovers if n.endswith((".tmp", ".partial")) or n.startswith(".trace")}, leftovers


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 64 KiB tmpfs (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


@pytest.mark.parametrize("html", [True, False])
def test_real_full_disk(tmp_path, tiny_tmpfs, html):
    script = tmp_path / "many.py"
    script.write_text(MANY_CALLS)
    plain = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    opts = ["run", "--no-open", "--max-events", "0", "--out-dir", str(tiny_tmpfs)] + ([] if html else ["--no-html"])
    traced = _run_patched(tmp_path, "import sys", *opts, str(script))
    assert plain.returncode == traced.returncode == 4
    assert traced.stdout == plain.stdout
    assert "Traceback" not in traced.stderr
    problems = [line for line in skeleton_lines(traced.stderr) if "warning" in line or "error" in line]
    assert len(problems) == 1, traced.stderr
    if html:  # the 2 MB report cannot fit: nothing is usable, say so
        assert problems[0].startswith("skeleton: error: the artifacts could not be written to ")
    else:  # the spill could not grow; the small artifacts fit once the torn chunk was cut off
        assert "failed during the run (No space left on device)" in problems[0]
        end = json.loads((tiny_tmpfs / "trace.jsonl").read_text().splitlines()[-1])
        assert end["exit_code"] == 4 and [g["kind"] for g in end["gaps"]] == ["truncated"]
    names = [p.name for p in tiny_tmpfs.iterdir()]
    assert not [n for n in names if n.endswith((".tmp", ".partial")) or n.startswith(".trace")], names


# -- planted links: an output folder others can write to (docs/safety.md#files) -----------------
def _fixed_names() -> list[str]:
    """Every name Skeleton writes in an output folder, from the code, with the temporaries' old names."""
    from skeleton_replay import pipeline, postworker

    finals = [pipeline.TRACE, pipeline.SNAPSHOT, pipeline.WORKFLOW, pipeline.REPORT, pipeline.SESSION,
              pipeline.SPILL, pipeline.HEADER_SIDECAR, pipeline.WRITER_ARGS]
    # The post-processing worker's exchange files have a random part per run; their names before it had one:
    finals += [f"{postworker.PREFIX}{tail}" for tail in (".json", "-end.json", "-result.json", ".log")]
    finals += [getattr(pipeline, "END_SIDECAR", ".trace-end.json")]
    return finals + [n + ".tmp" for n in finals] + [pipeline.TRACE + ".partial", ".skeleton-write-test"]


VICTIM = b"the victim's own data\n"


def _plant(out: Path, victim: Path) -> list[str]:
    victim.write_bytes(VICTIM)
    out.mkdir(exist_ok=True)
    names = _fixed_names()
    for name in names:
        (out / name).symlink_to(victim)
    return names


def _skeleton_cli(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skeleton_replay", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "CI": "1", **(env or {})})


@pytest.mark.parametrize("mode", ["serial", "postworker", "writer-helper"])
def test_links_planted_at_every_fixed_name_are_never_written_through(tmp_path, mode):
    script = tmp_path / "many.py"
    script.write_text(MANY_CALLS)
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    _plant(out, victim)
    env = {"serial": {"SKELETON_SERIAL": "1"}, "postworker": {"SKELETON_POSTWORKER": "1"}, "writer-helper": {}}[mode]
    args = ["run", "--no-open", "--out-dir", "out"] + (["--max-events", "0"] if mode == "writer-helper" else [])
    p = _skeleton_cli(tmp_path, *args, str(script), env=env)
    assert p.returncode == 4, p.stderr
    assert victim.read_bytes() == VICTIM
    for name in ("trace.jsonl", "snapshot.json", "workflow.md", "report.html", "session.json"):
        st = (out / name).lstat()
        assert not (out / name).is_symlink() and oct(st.st_mode & 0o777) == oct(0o600), name
    assert json.loads((out / "trace.jsonl").read_text().splitlines()[-1])["exit_code"] == 4
    if mode == "postworker":  # planted files did not pass for the worker's: its artifacts are the ones kept
        assert json.loads((out / "session.json").read_text())["metrics"]["worker_cpu_s"] > 0
        assert not [f for f in out.glob(f"{postworker_prefix()}-*") if not f.is_symlink()]  # (the planted stay)


def postworker_prefix() -> str:
    from skeleton_replay import postworker

    return postworker.PREFIX


def test_new_output_folders_are_private(tmp_path):
    script = tmp_path / "many.py"
    script.write_text(MANY_CALLS)
    p = _skeleton_cli(tmp_path, "run", "--no-open", "--out-dir", "new/deeper", str(script))
    assert p.returncode == 4, p.stderr
    for folder in (tmp_path / "new", tmp_path / "new" / "deeper"):
        assert oct(folder.stat().st_mode & 0o777) == oct(0o700), folder
    files = list((tmp_path / "new" / "deeper").iterdir())
    assert len(files) == 5 and all(oct(f.stat().st_mode & 0o777) == oct(0o600) for f in files), files


def test_report_recovers_a_killed_run_through_planted_links_and_leaves_nothing_behind(tmp_path):
    script = tmp_path / "dies.py"
    script.write_text("import os\ndef work(i):\n    return i\nfor i in range(5000):\n    work(i)\nos._exit(7)\n")
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    p = _skeleton_cli(tmp_path, "run", "--no-open", "--out-dir", "out", str(script))
    assert p.returncode == 7 and (out / ".trace.spill").exists() and not (out / "trace.jsonl").exists()
    victim.write_bytes(VICTIM)
    for name in _fixed_names():  # what a killed run leaves stays; every other name is a planted link
        if not (out / name).exists():
            (out / name).symlink_to(victim)
    (out / "trace.jsonl").unlink()  # a link there would mean "not killed": report reads it
    (out / ".snapshot.json.0123456789ab.tmp").write_bytes(b"stale temporary of a crashed writer")
    p = _skeleton_cli(tmp_path, "report", str(out))
    assert p.returncode == 0 and "before it finished" in p.stderr, p.stderr
    assert victim.read_bytes() == VICTIM
    files = sorted(f.name for f in out.iterdir() if not f.is_symlink())
    assert files == ["report.html", "snapshot.json", "trace.jsonl", "workflow.md"], files  # no spill, no temporaries
    assert all(oct((out / f).stat().st_mode & 0o777) == oct(0o600) for f in files)
    links = sorted(f.name for f in out.iterdir() if f.is_symlink())  # planted at names a recovery does not write
    assert links == [".skeleton-write-test", "session.json"], links


def test_public_writers_never_follow_a_planted_link(tmp_path):
    """render.html.write_report and render.workflow.write_text (public helpers) write like the pipeline:
    a private temporary renamed over the name, never through a link planted there."""
    from skeleton_replay.render.html import write_report
    from skeleton_replay.render.workflow import write_text
    victim = tmp_path / "victim"
    victim.write_text("keep")
    for name in ("workflow.md", "workflow.md.tmp", "report.html", "report.html.tmp"):
        (tmp_path / name).symlink_to(victim)
    write_text(tmp_path / "workflow.md", "# hi\n")
    snap = json.loads((Path(__file__).parents[2] / "report-ui" / "samples" / "shop.json").read_text("utf-8"))
    write_report(snap, tmp_path / "report.html")
    assert victim.read_text() == "keep"
    for name in ("workflow.md", "report.html"):
        assert not (tmp_path / name).is_symlink() and (tmp_path / name).stat().st_mode & 0o777 == 0o600
