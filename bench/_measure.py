"""Run ONE command and print its resource usage as JSON (standard library only).

    python bench/_measure.py [--cwd DIR] [--stdout FILE] [--stderr FILE] -- CMD [ARGS...]

Run this in a fresh process for every measurement: ``getrusage(RUSAGE_CHILDREN)``
sums CPU time over all waited-for descendants but reports ``ru_maxrss`` as the
maximum over them, so a long-lived parent would mix up the peaks of several
commands.  Here the only descendant tree is the command's.

Output (one JSON object on stdout):
  wall_s       perf_counter() around spawn + wait
  user_s/sys_s CPU time of the command and all its waited-for descendants
  cpu_s        user_s + sys_s
  maxrss_mib   peak resident set size of the largest process in the tree
  returncode
"""
import argparse
import json
import resource
import subprocess
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--cwd")
    parser.add_argument("--stdout", help="file for the command's stdout (default: discard)")
    parser.add_argument("--stderr", help="file for the command's stderr (default: discard)")
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        parser.error("no command given")

    out = open(args.stdout, "wb") if args.stdout else subprocess.DEVNULL
    err = open(args.stderr, "wb") if args.stderr else subprocess.DEVNULL
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    timed_out = False
    try:
        proc = subprocess.Popen(cmd, cwd=args.cwd, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        try:
            rc = proc.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
            timed_out = True
    except OSError as exc:
        print(json.dumps({"error": str(exc), "returncode": 127}))
        return 0
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user = after.ru_utime - before.ru_utime
    sys_ = after.ru_stime - before.ru_stime
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    div = 1024 * 1024 if sys.platform == "darwin" else 1024
    print(json.dumps({
        "wall_s": wall,
        "user_s": user,
        "sys_s": sys_,
        "cpu_s": user + sys_,
        "maxrss_mib": after.ru_maxrss / div,
        "returncode": rc,
        "timed_out": timed_out,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
