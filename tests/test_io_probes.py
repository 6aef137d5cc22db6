"""I/O probes: environment reads, stdout/stderr writes and SQL statements (docs/boundaries.md "What is recorded").

The program reads environment variables, prints, writes to sys.stderr and runs sqlite3 statements that carry a
secret-looking literal and parameters, from traced functions and from its module body. The boundaries must name
the variable (never its value), the stream, the statement's shape (never a literal or a parameter), the callable
(or the module) that did it, and the step to replay; no secret may reach any artifact; the tracer must never call
the program's code (hooks count calls made from Skeleton's frames, as in tests/hostile/) and the program's
output must be the same as without Skeleton.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import BACKENDS, skeleton

VARIANTS = [(b, pure) for b in BACKENDS for pure in (False, True)]
SECRETS = ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "plain-literal-in-sql-77", "param-alice-391", "pa55word-param-882",
           "env-value-never-read-55", "script-literal-903")

PROGRAM = '''
import asyncio, io, os, sqlite3, sys

calls = {}

def count(name):  # a call made by Skeleton's code (the program's own calls are not counted)
    if "skeleton_replay" in sys._getframe(2).f_code.co_filename:
        calls[name] = calls.get(name, 0) + 1


class Sql(str):  # a statement that is a str subclass: never converted, compared or hashed by the tracer
    def __str__(self):
        count("Sql.__str__"); return str.__str__(self)
    def __eq__(self, other):
        count("Sql.__eq__"); return str.__eq__(self, other)
    def __hash__(self):
        count("Sql.__hash__"); return str.__hash__(self)
    def __len__(self):
        count("Sql.__len__"); return str.__len__(self)


class MyCursor(sqlite3.Cursor):  # its `connection` is a property: the tracer reads the C member, never this
    @property
    def connection(self):
        count("MyCursor.connection"); return sqlite3.Cursor.connection.__get__(self)


class Buffer(io.StringIO):  # a stream that is not the console: compared by identity only
    def __eq__(self, other):
        count("Buffer.__eq__"); return False
    def __hash__(self):
        count("Buffer.__hash__"); return 1


SELECT = "SELECT name FROM customers WHERE token = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'"


def config():
    mode = os.environ.get("SHOP_MODE", "dev")
    has_key = os.getenv("SHOP_API_KEY") is not None
    every = len(list(os.environ.values()))  # all variables: one read of `*`
    os.environ.get("PYTHONSHOP_DEBUG")  # a PYTHON* name read by the program itself: recorded
    return mode == "dev", has_key, "SHOP_REGION" in os.environ, every > 0


def report(n):
    print("orders:", n)
    sys.stdout.write("done\\n")
    print("warning: none", file=sys.stderr)
    out = Buffer()
    out.write("not the console")
    print("to a buffer", file=out)


def store():
    os.makedirs("data", exist_ok=True)
    c = sqlite3.connect(os.path.join("data", "shop.db"))
    c.execute("DROP TABLE IF EXISTS customers")
    c.execute("CREATE TABLE customers (name TEXT, token TEXT)")
    cur = c.cursor(MyCursor)
    cur.execute("INSERT INTO customers VALUES ('bob', 'plain-literal-in-sql-77')")
    cur.execute("INSERT INTO customers VALUES (?, ?)", ("param-alice-391", "pa55word-param-882"))
    cur.executemany("INSERT INTO customers VALUES (?, ?)", [("x", "pa55word-param-882")])
    rows = cur.execute(SELECT).fetchall()
    cur.execute(Sql("SELECT count(*) FROM customers")).fetchall()
    c.executescript("UPDATE customers SET token = 'script-literal-903'; DELETE FROM customers WHERE name = 'x'")
    c.commit()
    c.close()
    return len(rows)


async def ping():
    return 1


def main():
    config()
    asyncio.run(ping())  # asyncio reads PYTHONASYNCIODEBUG: the interpreter's setting, not the program's I/O
    report(store())


os.environ.get("SHOP_TOP")  # module body: attributed to the module
print("start")
main()
print("calls", sorted(calls.items()))
'''


def _run(tmp_path: Path, backend: str, pure: bool) -> tuple[dict, list[dict], Path]:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'probes'\n")
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(PROGRAM))
    env = {"SHOP_API_KEY": "env-value-never-read-55", "SHOP_MODE": "dev"}
    plain = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           env={**os.environ, **env})
    assert plain.returncode == 0, plain.stderr
    traced = skeleton("run", "--no-open", "--no-html", "--out-dir", "out", "--backend", backend, str(script),
                      cwd=tmp_path, env={**env, "SKELETON_PURE_PYTHON": "1" if pure else "0"}, timeout=180)
    assert traced.returncode == 0, traced.stderr[-3000:]
    assert traced.stdout == plain.stdout  # the same output: nothing of the program was called or changed
    assert traced.stdout.splitlines()[-1] == "calls []"
    assert "warning: none" in traced.stderr
    out = tmp_path / "out"
    lines = [json.loads(x) for x in (out / "trace.jsonl").read_text("utf-8").splitlines()]
    return json.loads((out / "snapshot.json").read_text("utf-8")), lines, out


def _uses(snap: dict) -> dict[tuple[str, str], dict]:
    return {(b["id"], u["actor"]): u for b in snap["boundaries"] for u in b["uses"]}


@pytest.mark.parametrize("backend,pure", VARIANTS)
def test_env_console_and_sql_are_recorded_by_name_and_shape_never_by_value(tmp_path, backend, pure):
    snap, lines, out = _run(tmp_path, backend, pure)
    uses = _uses(snap)
    kinds = {b["id"]: b["kind"] for b in snap["boundaries"]}

    # environment: the names read, by the callable that read them; never a value
    for name in ("SHOP_MODE", "SHOP_API_KEY", "SHOP_REGION", "PYTHONSHOP_DEBUG"):
        u = uses[(f"io:env:{name}", "fn:prog:config")]
        assert kinds[f"io:env:{name}"] == "env" and u["ops"] == ["read"] and u["count"] == 1
        step = lines[u["first_seen"] + 1]  # the last event before the read: config's own call
        assert step["event_type"] == "call" and step["callee"]["function"] == "config"
    assert uses[("io:env:*", "fn:prog:config")]["ops"] == ["read"]  # values(): the whole environment, once
    assert not [k for k in kinds if k.startswith("io:env:") and k[7:] not in (
        "SHOP_MODE", "SHOP_API_KEY", "SHOP_REGION", "PYTHONSHOP_DEBUG", "SHOP_TOP", "*")], kinds
    # the module body's read: the module is the actor
    top = uses[("io:env:SHOP_TOP", "mod:prog")]
    assert top["ops"] == ["read"]
    assert any(n["id"] == "mod:prog" and n["kind"] == "module" for n in snap["nodes"])

    # console: print and sys.stdout.write are stdout, print(file=sys.stderr) is stderr; a buffer is not the console
    stdout = uses[("io:console:stdout", "fn:prog:report")]
    assert stdout["ops"] == ["write"] and stdout["count"] == 2
    assert lines[stdout["first_seen"] + 1]["callee"]["function"] == "report"
    assert uses[("io:console:stderr", "fn:prog:report")]["count"] == 1
    assert uses[("io:console:stdout", "mod:prog")]["count"] == 2  # "start" and "calls ..." from the module body
    assert not [k for k in kinds if k.startswith("io:console:") and k not in ("io:console:stdout",
                                                                            "io:console:stderr")]

    # SQL: verb and tables, on the connection's database; literals and parameters never kept
    db = uses[("io:database:sqlite:data/shop.db", "fn:prog:store")]
    assert db["ops"] == ["connect", "create", "drop", "execute", "insert", "script", "select"]
    assert db["count"] == 1 + 2 + 3 + 2 + 1  # connect, drop+create, 3 inserts, 2 selects, the script
    assert lines[db["first_seen"] + 1]["callee"]["function"] == "store"
    everything = "\n".join(p.read_text("utf-8", "replace") for p in out.iterdir() if p.is_file())
    for shape in ("DROP TABLE customers", "CREATE TABLE customers", "INSERT INTO customers"):
        assert shape in everything
    assert "SELECT FROM customers" in everything  # SELECT (a module constant) read from the frame's globals
    assert "UPDATE customers; DELETE FROM customers" in everything  # the script's statements
    assert "(statement not seen)" in everything  # the str subclass: not a str, never converted

    # no secret, parameter or variable value in any artifact
    for secret in SECRETS:
        assert secret not in everything, secret
    assert "sk_live" not in everything and "bob" not in everything
