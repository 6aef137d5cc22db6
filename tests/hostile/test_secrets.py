"""Plant secrets everywhere a program can put them; no artifact and no Skeleton line may show one."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import BACKENDS, skeleton  # noqa: E402

SECRETS = {
    "password": "hunter2-correct-horse",
    "kwonly_token": "tok_kwonly_93a7f1c2",
    "kwargs_secret": "kw-secret-5521-zz",
    "nested_key": "nested-credential-77ab",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEiLCJyb2xlIjoiYWRtaW4ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
    "bearer": "Bearer abcDEF123456ghiJKL789",
    "aws_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "github": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7secretpemmaterial\n-----END RSA PRIVATE KEY-----",
    "dsn": "postgres://admin:s3cr3tpassw0rd@db.internal:5432/prod",
}

APP = textwrap.dedent('''
    import dataclasses
    S = {secrets!r}

    @dataclasses.dataclass
    class Credentials:
        user: str
        password: str

    class Vault:
        def store(self, name, value):
            return {{"name": name, "value": value}}

        def fetch(self, *, api_token, **options):
            return options

    def login(user, password):
        return Credentials(user, password)

    def configure(settings):
        return settings

    def leak_back(kind):
        return S[kind]

    def explode(dsn):
        raise ValueError("cannot connect to " + dsn)

    def main():
        vault = Vault()
        login("ada", S["password"])
        vault.fetch(api_token=S["kwonly_token"], client_secret=S["kwargs_secret"])
        configure({{"db": {{"auth": {{"credential": S["nested_key"]}}}}, "level": 1}})
        for kind in ("jwt", "bearer", "aws_id", "github", "pem", "dsn"):
            vault.store(kind, S[kind])
            leak_back(kind)
        configure({{"aws_secret_access_key": S["aws_secret"]}})
        try:
            explode(S["dsn"])
        except ValueError:
            pass
        raise RuntimeError("fatal: token " + S["jwt"])

    main()
''')


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_secret_reaches_any_artifact_or_skeleton_line(tmp_path, backend):
    script = tmp_path / "secrets_app.py"
    script.write_text(APP.format(secrets=SECRETS))
    out = tmp_path / "out"
    p = skeleton("run", "--no-open", "--backend", backend, "--out-dir", str(out), str(script), "--", SECRETS["bearer"])
    assert p.returncode == 1, p.stderr  # the program's own RuntimeError
    artifacts = {f.name: f.read_text("utf-8") for f in out.iterdir() if f.is_file()}
    assert {"trace.jsonl", "snapshot.json", "workflow.md", "report.html", "session.json"} <= set(artifacts)
    skeleton_lines = "\n".join(l for l in p.stderr.splitlines() if l.startswith("skeleton:")) + p.stdout
    for label, secret in SECRETS.items():
        for piece in {secret, secret.split("\n")[1] if "\n" in secret else secret}:
            for name, text in artifacts.items():
                assert piece not in text, f"{label} leaked into {name}"
                assert piece.replace("/", "\\/") not in text, f"{label} leaked (escaped) into {name}"
            assert piece not in skeleton_lines, f"{label} leaked into Skeleton's output"
    # the run is still fully recorded: redaction keeps type and length
    assert '"redacted":true' in artifacts["trace.jsonl"]
    assert "fn:secrets_app:explode" in artifacts["snapshot.json"]


# -- a secret redacted once stays redacted: the same value one step away ----------------------------

ONE_STEP = {
    "token": "tok_live_93a7f1c2e5",           # login(user, token) raises ValueError(f"bad token {token}")
    "user_token": "utok-5521-abcdef77",       # f(user_token) returns f"Token {user_token}"
    "password": "Yield-Pa55word-0042",        # stream(password) yields it
    "innocent": "Passed-0n-as-x-1337",        # remember(password) then g(x) receives the same string
    "argv": "Argv-Secret-Positional-99",      # a positional command-line word the program logs in with
    "option": "Cli0pt-Password-31337",        # skeleton run app.py --password VALUE
    "api_key": "AK-cli-12345678-zz",          # skeleton run app.py --api-key=VALUE
}

ONE_STEP_APP = textwrap.dedent('''
    import sys
    S = {secrets!r}

    def login(user, token):
        raise ValueError(f"bad token {{token}}")

    def bearer(user_token):
        return f"Token {{user_token}}"

    def stream(password):
        yield "first"
        yield password

    def remember(password):
        return len(password)

    def g(x):
        return [x, "done"]

    def log(message):
        return message

    def connect(user, password):
        return {{"user": user, "ok": True}}

    def main():
        try:
            login("ada", S["token"])
        except ValueError as exc:
            log(str(exc))
        log(bearer(S["user_token"]))
        list(stream(S["password"]))
        remember(S["innocent"])
        g(S["innocent"])
        connect("ada", sys.argv[1])
        log("logged in with " + sys.argv[1])
        log(sys.argv[3])  # the --password option's value, now under an innocent name
        raise RuntimeError("giving up: token " + S["token"])

    main()
''')


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_secret_stays_redacted_one_step_away(tmp_path, backend):
    script = tmp_path / "one_step.py"
    script.write_text(ONE_STEP_APP.format(secrets=ONE_STEP))
    out = tmp_path / "out"
    p = skeleton("run", "--no-open", "--backend", backend, "--out-dir", str(out), str(script), ONE_STEP["argv"],
                 "--password", ONE_STEP["option"], f"--api-key={ONE_STEP['api_key']}")
    assert p.returncode == 1, p.stderr  # the program's own RuntimeError
    artifacts = {f.name: f.read_text("utf-8") for f in out.iterdir() if f.is_file()}
    assert {"trace.jsonl", "snapshot.json", "workflow.md", "report.html", "session.json"} <= set(artifacts)
    for label, secret in ONE_STEP.items():
        for name, text in artifacts.items():
            assert secret not in text, f"{label} leaked into {name}"
        assert secret not in p.stdout + "\n".join(l for l in p.stderr.splitlines() if l.startswith("skeleton:"))
    session = json.loads(artifacts["session.json"])
    assert "--password" in session["invocation"] and f"--api-key=<redacted>" in session["invocation"]
    assert session["error"]["type"] == "RuntimeError" and session["error"]["message"].startswith("<redacted str")
    # the trace still shows the calls: only the values are gone
    assert "fn:one_step:g" in artifacts["snapshot.json"] and "fn:one_step:stream" in artifacts["snapshot.json"]


SECRET_GETTERS = textwrap.dedent('''
    class Settings:
        @property
        def database_password(self):
            return "db-Pa55-9911-prop"

    def get_password():
        return "Pa55word-from-vault-7"

    def get_session():
        return Settings()

    def load_api_key():  # a generator: what it yields is redacted too
        yield "Zq9-apikey-77881-vault"

    get_password()
    Settings().database_password
    get_session()
    next(load_api_key())
''')


@pytest.mark.parametrize("backend", BACKENDS)
def test_what_secret_named_functions_return_is_redacted(tmp_path, backend):
    script = tmp_path / "getters.py"
    script.write_text(SECRET_GETTERS)
    p = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(tmp_path / "o"), str(script))
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "o" / "trace.jsonl").read_text("utf-8")
    assert "Pa55word-from-vault-7" not in text and "db-Pa55-9911-prop" not in text
    assert "Zq9-apikey-77881-vault" not in text and '"redacted":true,"len":22' in text.replace(" ", "")
    # get_session(): an object, kept (a script's classes are named after the script's module, as its nodes are)
    assert '"type":"getters.Settings","id"' in text.replace(" ", "")
    assert '"redacted":true,"len":21' in text.replace(" ", "") and '"redacted":true,"len":17' in text.replace(" ", "")


PYTEST_PROJECT = {
    "pyproject.toml": "[tool.pytest.ini_options]\n",
    "auth.py": "def login(user, password):\n    return {'user': user, 'password': password, 'ok': False}\n",
    "test_auth.py": textwrap.dedent('''
        import pytest
        from auth import login

        def test_login_dict():
            r = login("ada", "HUNTER2-horse-battery")
            assert r == {"user": "ada", "ok": True}

        def test_login_message():
            r = login("ada", "HUNTER2-horse-battery")
            assert r["ok"], r

        def test_login_compare():
            r = login("bob", "HUNTER3-horse-battery")
            assert r["password"] == "x"

        @pytest.mark.parametrize("header", ["Bearer abcdef0123456789xyz"])
        def test_header(header):
            assert header.startswith("Basic")
    '''),
}


def test_pytest_failure_messages_do_not_show_a_password(tmp_path):
    for name, text in PYTEST_PROJECT.items():
        (tmp_path / name).write_text(text)
    out = tmp_path / "out"
    p = skeleton("pytest", "--no-open", "--out-dir", str(out), "--", "-q", "-p", "no:randomly",
                 "-p", "no:cacheprovider", cwd=tmp_path)
    assert "4 failed" in p.stdout, p.stdout + p.stderr
    artifacts = {f.name: f.read_text("utf-8") for f in out.iterdir() if f.is_file()}
    assert {"trace.jsonl", "snapshot.json", "workflow.md", "report.html", "session.json"} <= set(artifacts)
    for secret in ("HUNTER2-horse-battery", "HUNTER3-horse-battery", "abcdef0123456789xyz"):
        for name, text in artifacts.items():
            assert secret not in text, f"{secret} leaked into {name}"
    snap = json.loads(artifacts["snapshot.json"])
    outcomes = {s["name"]: s["outcome"] for s in snap["scenarios"]}
    assert sorted(outcomes.values()) == ["failed"] * 4, outcomes  # the tests are all there, with their outcome
