"""Plant secrets everywhere a program can put them; no artifact and no Skeleton line may show one."""
from __future__ import annotations

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
