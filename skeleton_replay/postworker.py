"""Post-processing on the other core while the traced program runs (opt-in: SKELETON_POSTWORKER=1).

The tracer's records reach the spill file in chunks from the start of the run, and with the
default event cap the recorded part of a long run is over early: afterwards the program only
counts calls. So `skeleton run` starts this worker process next to the program: it follows
the growing spill and decodes it, builds the snapshot model and the call tree and writes
trace.jsonl as the chunks arrive, on the core the program is not using. When the program ends
the main process drops the run's end (exit code, status, gaps) into END; the worker reads the
last chunks, writes every artifact and then RESULT, and exits. What is left after the program is
the tail of the work instead of all of it.

Nothing depends on the worker: if it cannot start, fails, or is killed, the main process
post-processes the spill itself as before (the spill is only removed after success). The
worker never deletes the spill, exits without writing when the traced process dies (so
`skeleton report` can still recover a killed run), ignores Ctrl-C (the main process handles it), and
leaves runs it cannot reproduce exactly to the main process: runs longer than the step list's
default time unit allows, and unlimited recording (`--max-events 0`, which has its own helper).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from . import safefiles
from .capture.records import _LEN, SPILL_MAGIC, packed_spill, stored_chunk
from .pipeline import REPORT, SNAPSHOT, TRACE, WORKFLOW, Artifacts, from_records, write_json

PREFIX = ".post-worker"  # every file the worker and the main process exchange starts with it
POLL_S = 0.02
MAX_EVENTS_STREAMED = 2_000_000  # above this (or unlimited), the main process and its trace-writer helper do it
MAX_DURATION_S = 4000  # the step list's microsecond unit holds 71 minutes; longer runs are redone by the main process
FALLBACK_EXIT = 4  # "not for me": the main process post-processes the spill itself


def names(token: str) -> tuple[str, str, str, str]:
    """The exchange files of one run: ARGS, END, RESULT, LOG. The token (random, per run) keeps a stale
    file of an earlier run, or one planted by someone else who can write to the folder, from passing
    for this run's END or RESULT (the worker would stop early; the main process would give up on it)."""
    return (
        f"{PREFIX}-{token}.json",
        f"{PREFIX}-{token}-end.json",
        f"{PREFIX}-{token}-result.json",
        f"{PREFIX}-{token}.log",
    )


class Worker:
    """The main process's handle on a running worker (not its child: see start())."""

    def __init__(self, pid: int, out_dir: Path, token: str) -> None:
        self.pid = pid
        self.out_dir = out_dir
        self.args, self.end, self.result, self.log = names(token)
        self.metrics: dict[str, Any] = {}  # its own CPU seconds and peak RSS, once it has finished

    def finish(self, end: dict[str, Any], progress: Callable[[str], None] | None = None) -> Artifacts | None:
        """Hand over the run's end; the artifacts when the worker wrote them all, else None, and then the
        worker is gone: the main process, which does the work itself, never races it for a file."""
        out = self.out_dir
        done = False
        try:
            write_json(out / self.end, end)
            if progress is not None:
                progress("writing the artifacts")
            while not (out / self.result).exists():
                if not _alive(self.pid):
                    if (out / self.result).exists():
                        break
                    return None
                time.sleep(POLL_S / 2)
            result = orjson.loads((out / self.result).read_bytes())
            snapshot = orjson.loads((out / SNAPSHOT).read_bytes())
            done = True
        except (OSError, ValueError):
            return None
        finally:
            if not done:
                self._kill()
            self.cleanup()
        self.metrics = {"worker_cpu_s": result.get("cpu_s"), "worker_max_rss_kib": result.get("max_rss_kib")}
        report = out / REPORT if result.get("report") else None
        warnings = list(result.get("warnings", []))
        return Artifacts(out, out / TRACE, out / SNAPSHOT, out / WORKFLOW, report, snapshot, warnings)

    def abandon(self) -> None:
        """The main process goes its own way (a forked child of the program, an error)."""
        self._kill()
        self.cleanup()

    def _kill(self, timeout_s: float = 5.0) -> None:
        """SIGKILL, then wait until it is gone: a write or rename of its own cannot land after this returns
        (it is not our child: it is gone when /proc says so; init reaps it)."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            return
        deadline = time.monotonic() + timeout_s
        while _alive(self.pid) and time.monotonic() < deadline:
            time.sleep(POLL_S / 4)

    def cleanup(self) -> None:
        for name in (self.args, self.end, self.result, self.log):
            try:
                (self.out_dir / name).unlink()
            except OSError:
                pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process nobody has reaped yet is a zombie: dead for us
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


# The worker is started through a launcher that exits at once, so it is nobody's child here:
# a program that reaps any child (os.wait()) can neither reap it nor block on it.
_LAUNCHER = (
    "import subprocess, sys; p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, "
    "stdout=subprocess.DEVNULL, start_new_session=True, close_fds=True); print(p.pid)"
)


def wanted() -> bool:
    """Opt-in (SKELETON_POSTWORKER=1): measured, it shortens `skeleton run` but slows the program.

    On this project's 2-core benchmark VM the worker's decoding and model building, although on
    the other core, slowed the traced program by 30-100 % (shared caches and memory bandwidth; a
    busy loop on that core did not): the mixed workload ran at 11.3x untraced instead of ~5x,
    while the whole command finished ~1 s sooner. The program's own slowdown is what a tracer
    must keep low, so the worker is off unless asked for."""
    return os.environ.get("SKELETON_POSTWORKER", "") not in ("", "0") and not os.environ.get("SKELETON_SERIAL")


def start(out_dir: Path, spill: Path, header: dict[str, Any], max_events: int, html: bool) -> Worker | None:
    """Start the worker for a run, or None where the main process should do it all."""
    if not wanted() or not sys.executable or max_events <= 0 or max_events > MAX_EVENTS_STREAMED:
        return None
    token = os.urandom(8).hex()
    args_name, _, _, log_name = names(token)
    try:
        write_json(
            out_dir / args_name,
            {
                "token": token,
                "spill": str(spill),
                "out_dir": str(out_dir),
                "header": header,
                "max_events": max_events,
                "html": html,
                "parent": os.getpid(),
            },
        )
        package_parent = str(Path(__file__).resolve().parent.parent)  # this very copy of skeleton_replay
        python_path = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "PYTHONPATH": python_path}
        with safefiles.open_new(out_dir / log_name) as log:  # private; a planted link is replaced
            launched = subprocess.run(
                [
                    sys.executable,
                    "-S",
                    "-c",
                    _LAUNCHER,
                    sys.executable,
                    "-c",
                    "from skeleton_replay.postworker import main; main()",
                    str(out_dir / args_name),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                timeout=30,
            )
        pid = int(launched.stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        for name in (args_name, log_name):
            with contextlib.suppress(OSError):
                (out_dir / name).unlink()
        return None
    return Worker(pid, out_dir, token)


def follow(spill: Path, end_file: Path, parent: int, orphaned: Callable[[], None]) -> Iterator[Any]:
    """The record chunks of a spill that is still being written, until the run's END appears: packed bytes,
    or lists of records for a spill of marshalled chunks (capture.records.read_chunks)."""
    with open(spill, "rb") as f:
        buf = b""
        magic_seen = packed = False
        while True:
            data = f.read()
            if data:
                buf += data
                if not magic_seen:
                    if len(buf) < len(SPILL_MAGIC):
                        continue
                    packed = packed_spill(buf[: len(SPILL_MAGIC)], spill)
                    buf = buf[len(SPILL_MAGIC) :]
                    magic_seen = True
                pos = 0
                while len(buf) - pos >= 4:
                    (n,) = _LEN.unpack_from(buf, pos)
                    if len(buf) - pos - 4 < n:
                        break
                    yield stored_chunk(buf[pos + 4 : pos + 4 + n], packed)
                    pos += 4 + n
                buf = buf[pos:]
                continue
            if end_file.exists():
                rest = f.read()  # written before END: the tracer closed the spill first
                if rest:
                    f.seek(-len(rest), os.SEEK_CUR)
                    continue
                return
            if not _alive(parent):  # the program was killed: leave the spill to `skeleton report`
                orphaned()
                os._exit(3)
            time.sleep(POLL_S)


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    try:
        os.nice(10)  # where the two meet on one CPU, the traced program comes first
    except OSError:
        pass
    args = orjson.loads(Path((argv or sys.argv[1:])[0]).read_bytes())
    out_dir = Path(args["out_dir"])
    args_name, end_name, result_name, log_name = names(args["token"])
    end_file = out_dir / end_name

    def get_end() -> dict[str, Any]:
        end: dict[str, Any] = orjson.loads(end_file.read_bytes())  # the main process wrote it (finish())
        if (end.get("duration_s") or 0) >= MAX_DURATION_S:
            sys.exit(FALLBACK_EXIT)
        return end

    def orphaned() -> None:
        for leftover in (TRACE + ".partial", args_name, log_name):
            try:
                (out_dir / leftover).unlink()
            except OSError:
                pass

    arts = from_records(
        follow(Path(args["spill"]), end_file, args["parent"], orphaned),
        out_dir,
        args["header"],
        get_end,
        args["max_events"],
        args["html"],
    )
    import resource  # POSIX, as is the rest of this worker

    usage = resource.getrusage(resource.RUSAGE_SELF)  # not the program's child: report its own cost
    write_json(
        out_dir / result_name,
        {
            "warnings": arts.warnings,
            "report": arts.report_path is not None,
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 6),
            "max_rss_kib": usage.ru_maxrss,
        },
    )
