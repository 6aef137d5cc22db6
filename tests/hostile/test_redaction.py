"""Configurable redaction: [tool.skeleton] secret_names / secret_patterns in the project's
pyproject.toml, --secret-name / --secret-pattern on the command line, and the same in Python.
Planted secrets must appear in no artifact and in none of Skeleton's own output."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import skeleton  # noqa: E402

from ._checks import read_trace

from skeleton_replay import Options, TraceSession, UsageError, trace

# Unique strings: none of them can occur by chance in the report's bundled code.
BY_CONFIG_NAME = "tangerine-quokka-41"      # passed as `pin=...` ([tool.skeleton] secret_names)
BY_CONFIG_PATTERN = "ACME-482913"            # matches [tool.skeleton] secret_patterns
BY_INLINE_FLAG = "ZeBrA-stripes-9q"          # matches "(?i)zebra-\w+" (a pattern with its own flag)
BY_CLI_PATTERN = "OTHERSECRET7731"           # matches --secret-pattern
BY_CLI_NAME = "marmalade-wombat-12"          # passed as `flavour=...` (--secret-name flav)
PLANTED = [BY_CONFIG_NAME, BY_CONFIG_PATTERN, BY_INLINE_FLAG, BY_CLI_PATTERN, BY_CLI_NAME]

PYPROJECT = """
[project]
name = "demo"

[tool.skeleton]
secret_names = ["pin"]
secret_patterns = ["ACME-[0-9]{6}", "(?i)zebra-\\\\w+"]
"""

APP = f"""
import sys, threading

def lookup(pin, code, flavour):
    return {{"code": code, "note": "ref " + code, "items": [code, 1]}}

def fail(code):
    raise ValueError("bad " + code)

def gen(code):
    yield [code, "x"]

def work(code):
    return len(code)

def main():
    lookup("{BY_CONFIG_NAME}", "{BY_CONFIG_PATTERN}", "{BY_CLI_NAME}")
    try:
        fail("{BY_CONFIG_PATTERN}")
    except ValueError:
        pass
    list(gen("{BY_INLINE_FLAG}"))
    t = threading.Thread(target=work, args=(sys.argv[1],))
    t.start()
    t.join()
    lookup("x", sys.argv[1], "y")
    raise RuntimeError("giving up on " + sys.argv[1])

main()
"""


def artifacts_text(out: Path) -> str:
    return "\n".join(p.read_text("utf-8", "replace") for p in sorted(out.iterdir()) if p.is_file())


def make_project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    return tmp_path / "app.py"


def test_planted_secrets_are_nowhere(tmp_path):
    script = make_project(tmp_path)
    out = tmp_path / "out"
    p = skeleton("run", "--no-open", "--json", "--out-dir", str(out), "--secret-pattern", "OTHERSECRET[0-9]+",
                 "--secret-name", "flav", str(script), BY_CLI_PATTERN, cwd=tmp_path)
    assert p.returncode == 1, p.stderr  # the program's own RuntimeError
    text = artifacts_text(out)
    assert {"trace.jsonl", "snapshot.json", "workflow.md", "report.html", "session.json"} == {x.name for x in out.iterdir()}
    skeleton_output = "\n".join(line for line in p.stderr.splitlines() if line.startswith("skeleton:"))
    skeleton_output += p.stdout.splitlines()[-1]  # the --json line
    for secret in PLANTED:
        assert secret not in text, secret
        assert secret not in skeleton_output, secret
    # ...and the values were there to be redacted: the events exist, redacted
    header, events, end = read_trace(out)
    calls = [e for e in events if e["event_type"] == "call"]
    lookup = [e["args"] for e in calls if e["callee"]["function"] == "lookup"]
    assert lookup[0]["pin"]["redacted"] and lookup[0]["code"]["redacted"] and lookup[0]["flavour"]["redacted"]
    assert lookup[1]["code"]["redacted"]  # by the command-line pattern
    assert [e["args"]["code"]["redacted"] for e in calls if e["callee"]["function"] in ("gen", "work")] == [True, True]
    assert "<redacted>" in header["command"] and "<redacted>" in header["target"]["args"]
    assert end["error"]["type"] == "RuntimeError" and end["error"]["message"].startswith("<redacted str")


def test_defaults_stay_when_the_config_adds_words(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.skeleton]\nsecret_names = ["pin"]\n')
    (tmp_path / "app.py").write_text("def login(password, pin, user):\n    return user\nlogin('hunter2-xyz', 'p-0042', 'ada')\n")
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", "o", "app.py", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    header, events, end = read_trace(tmp_path / "o")
    args = events[0]["args"]
    assert args["password"]["redacted"] and args["pin"]["redacted"] and args["user"] == {"type": "str", "value": "ada"}


def test_config_comes_from_the_project_root(tmp_path):
    """--project-root decides which pyproject.toml is read; one in the script's own folder is not."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.skeleton]\nsecret_patterns = ["BLUEFIN-[0-9]+"]\n')
    (root / "sub" / "pyproject.toml").write_text('[tool.skeleton]\nsecret_patterns = ["will-not-be-read("]\n')
    (root / "sub" / "app.py").write_text("def f(v):\n    return v\nf('BLUEFIN-77')\n")
    p = skeleton("run", "--no-open", "--no-html", "--project-root", str(root), "--out-dir", "o", "sub/app.py", cwd=root)
    assert p.returncode == 0, p.stderr
    assert "BLUEFIN-77" not in (root / "o" / "trace.jsonl").read_text()


@pytest.mark.parametrize("pyproject,args,needle", [
    (None, ["--secret-pattern", "x("], "skeleton: error: --secret-pattern 'x(' is not a valid regular expression (missing ), unterminated subpattern at position 1)"),
    (None, ["--secret-pattern", ""], "--secret-pattern must not be empty"),
    ('[tool.skeleton]\nsecret_patterns = ["ok", "[a-"]\n', [], "pyproject.toml: [tool.skeleton] secret_patterns: '[a-' is not a valid regular expression"),
    ('[tool.skeleton]\nsecret_names = "pin"\n', [], "[tool.skeleton] secret_names must be a list of non-empty strings, not 'pin'"),
    ('[tool.skeleton]\nsecret_names = [""]\n', [], "secret_names must be a list of non-empty strings"),
    ('[tool.skeleton]\nsecret_name = ["pin"]\n', [], "unknown key 'secret_name' in [tool.skeleton]; known keys: secret_names, secret_patterns"),
    ('[tool.skeleton\nsecret_names = ["pin"]\n', [], "pyproject.toml is not valid TOML"),
])
def test_bad_redaction_settings_are_one_line_exit_2(tmp_path, pyproject, args, needle):
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "app.py").write_text("print('ran')\n")
    p = skeleton("run", "--no-open", "--out-dir", "o", *args, "app.py", cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skeleton: error: ") and needle in lines[0], p.stderr
    assert "ran" not in p.stdout and "Traceback" not in p.stderr


def test_unrelated_broken_pyproject_is_ignored(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project\nname = 'x'\n")  # not ours to judge
    (tmp_path / "app.py").write_text("print('ran')\n")
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", "o", "app.py", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == "ran\n", p.stderr


def test_python_api_patterns(tmp_path):
    make_project(tmp_path)
    (tmp_path / "mod.py").write_text("def work(code, other):\n    return code + other\n")
    import importlib.util
    spec = importlib.util.spec_from_file_location("redaction_mod", tmp_path / "mod.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    work = mod.work

    with trace(out_dir=tmp_path / "t", project_root=tmp_path, secret_patterns=["OTHERSECRET[0-9]+"], html=False) as run:
        work("ACME-000001", BY_CLI_PATTERN)  # config pattern (project root) and API pattern
    text = artifacts_text(tmp_path / "t")
    assert "ACME-000001" not in text and BY_CLI_PATTERN not in text
    assert run["result"].event_count == 2
    with pytest.raises(UsageError, match=r"--secret-pattern '\(' is not a valid regular expression"):
        TraceSession(options=Options(secret_patterns=("(",))).run_script(tmp_path / "app.py")


NAMES_APP = """
def connect(pw, passphrase, otp, pin, cvc, signature, conn_str, dsn, apiKey, user_pass):
    return None

def draw(compass, spinner, shipping, footprint, monkey, author):
    return None

connect("pw-value-1", "pp-value-2", "otp-value-3", "pin-value-4", "cvc-value-5", "sig-value-6",
        "Driver=x;Server=db;Uid=app", "dbname=prod host=db", "ak-value-9", "up-value-10")
draw("north-by-nw", "spin-fast", "ship-by-sea", "big-feet", "banana-eater", "ada-lovelace")
"""


def test_secret_names_match_whole_words_for_short_words(tmp_path):
    (tmp_path / "app.py").write_text(NAMES_APP)
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", "o", "app.py", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    header, events, end = read_trace(tmp_path / "o")
    calls = {e["callee"]["function"]: e["args"] for e in events if e["event_type"] == "call"}
    assert all(v.get("redacted") for v in calls["connect"].values()), calls["connect"]
    assert not any(v.get("redacted") for v in calls["draw"].values()), calls["draw"]
    text = artifacts_text(tmp_path / "o")
    for secret in ("pw-value-1", "pp-value-2", "otp-value-3", "pin-value-4", "cvc-value-5", "sig-value-6",
                   "Uid=app", "dbname=prod", "ak-value-9", "up-value-10"):
        assert secret not in text, secret
    assert "north-by-nw" in text and "spin-fast" in text


def test_pytest_command_line_option_values_are_redacted(tmp_path):
    """`pytest --skeleton` records pytest's own command line: a secret-named option's value is hidden."""
    (tmp_path / "conftest.py").write_text("def pytest_addoption(parser):\n    parser.addoption('--db-password')\n")
    (tmp_path / "test_a.py").write_text("def test_a(request):\n    assert request.config.getoption('db_password')\n")
    p = skeleton("pytest", "--no-open", "--no-html", "--out-dir", "o", "--", "-q", "-p", "no:randomly",
                 "--db-password", "Pytest-Opt-Secret-77", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    text = artifacts_text(tmp_path / "o")
    assert "Pytest-Opt-Secret-77" not in text
    session = json.loads((tmp_path / "o" / "session.json").read_text())
    assert session["invocation"][-2:] == ["--db-password", "<redacted>"]
