"""report.html's fixed cost: the template's CSP is pinned at build time (render/csp.py's sidecar), and a
run splices it in without decoding or hashing the ~2 MB bundle; the bytes are those of pinning at run time."""
from __future__ import annotations

import shutil
import subprocess
import sys

import orjson
import pytest

from skeleton_replay.render import csp
from skeleton_replay.render.html import TEMPLATE_PATH, embed_json, render_html, render_report, template_parts

HOSTILE = {"name": "</script><script>alert(1)</script><!--", "u": "\u2028\u2029 é 😀 & > <", "n": [1, None, True]}


def _pinned_at_run_time(template: bytes) -> tuple[bytes, bytes]:
    before, after = csp.stitchable(template.decode("utf-8"))
    return before.encode(), after.encode()


def test_the_committed_sidecar_is_the_committed_templates():
    """Fails when the template was rebuilt without its sidecar: run `bash report-ui/scripts/build.sh`."""
    committed = csp.sidecar_path(TEMPLATE_PATH).read_text("utf-8")
    assert committed == csp.sidecar_text(TEMPLATE_PATH.read_bytes())


def test_the_report_is_the_template_pinned_at_run_time_with_the_snapshot(tmp_path):
    data = TEMPLATE_PATH.read_bytes()
    before, after = _pinned_at_run_time(data)
    data_block = b'<script type="application/json" id="skeleton-snapshot">' + embed_json(HOSTILE).encode()
    data_block += b"</script>"
    expected = before + data_block + after
    assert render_report(HOSTILE) == expected
    assert render_html(HOSTILE) == render_html(HOSTILE, template=data.decode())
    assert template_parts() == (before, after)


def _copy(tmp_path, with_sidecar=True):
    path = tmp_path / "report-template.html"
    shutil.copyfile(TEMPLATE_PATH, path)
    if with_sidecar:
        shutil.copyfile(csp.sidecar_path(TEMPLATE_PATH), csp.sidecar_path(path))
    return path


def test_without_a_sidecar_the_policy_is_pinned_at_run_time(tmp_path):
    path = _copy(tmp_path, with_sidecar=False)
    assert render_report(HOSTILE, path) == render_report(HOSTILE)


def test_a_stale_sidecar_is_not_trusted(tmp_path):
    """The template changed after its sidecar was written (same size even): its own hashes are used."""
    path = _copy(tmp_path)
    data = path.read_bytes()
    start = data.index(b">", data.index(b'<script type="module"')) + 1
    changed = data[:start] + b"/*x*/" + data[start + 5 :]  # the bundle's first 5 bytes replaced, same length
    path.write_bytes(changed)
    before, _ = template_parts(path)
    assert before == _pinned_at_run_time(changed)[0]
    assert csp.csp_hash(changed[start : changed.index(b"</script>", start)].decode()) in before.decode()
    assert before != template_parts()[0]


@pytest.mark.parametrize("field, value", [("version", 0), ("marker", 5), ("csp_start", -1), ("csp", 7)])
def test_a_sidecar_that_is_not_ours_is_ignored(tmp_path, field, value):
    path = _copy(tmp_path)
    side = orjson.loads(csp.sidecar_path(path).read_bytes())
    side[field] = value
    csp.sidecar_path(path).write_bytes(orjson.dumps(side))
    assert render_report(HOSTILE, path) == render_report(HOSTILE)


def test_a_run_does_not_hash_the_bundle():
    """The hashes come from the sidecar: no sha256 in the run (decoding and hashing the template cost ~180 M
    instructions of a 600 M empty-script run)."""
    code = (
        "import hashlib, sys\n"
        "def boom(*a, **k): raise AssertionError('sha256 called')\n"
        "hashlib.sha256 = boom\n"
        "from skeleton_replay.render import html\n"
        "out = html.render_report({'x': 1})\n"
        "sys.stdout.write(str(len(out)))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert int(p.stdout) > TEMPLATE_PATH.stat().st_size


def test_the_pinning_script_writes_the_sidecar_and_says_what_is_wrong(tmp_path):
    path = _copy(tmp_path, with_sidecar=False)
    p = subprocess.run([sys.executable, csp.__file__, str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert csp.sidecar_path(path).read_text() == csp.sidecar_path(TEMPLATE_PATH).read_text()
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body>no marker</body></html>")
    p = subprocess.run([sys.executable, csp.__file__, str(bad)], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "no single <!--SKELETON_SNAPSHOT--> marker" in p.stderr
