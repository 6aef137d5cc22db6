"""report.html: the prebuilt report UI with the snapshot embedded as JSON.

This module only stitches template + escaped data. The template is the single-file
Vite build of report-ui/ (committed as _static/report-template.html; rebuild with
`report-ui/scripts/build.sh`). It contains the marker MARKER exactly once; the
snapshot goes there inside <script type="application/json" id="skeleton-snapshot">.

Content-Security-Policy: the template's <meta> policy gets its script-src and style-src
set to the sha256 hashes of the template's own inline <script> and <style> elements, so
the bundle runs and nothing else inline does (an injected <script> or on* handler is
blocked). The JSON data block is not a script the browser runs: it needs no source.
The hashes are computed when the template is built (render/csp.py writes the sidecar
_static/report-template.csp.json); a run reads the template as bytes, checks the sidecar
against its size and CRC-32 and splices the pinned policy in, without decoding or hashing
the bundle. A missing or stale sidecar only costs time: the policy is then pinned here.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from .csp import BUILD_HINT, MARKER, SIDECAR_VERSION, ReportTemplateMissing, csp_hash, pin_csp, sidecar_path, stitchable

__all__ = [
    "MARKER",
    "ReportTemplateMissing",
    "csp_hash",
    "embed_json",
    "load_template",
    "pin_csp",
    "render_html",
    "render_report",
    "write_report",
]

TEMPLATE_NAME = "report-template.html"
TEMPLATE_PATH = Path(__file__).parent / "_static" / TEMPLATE_NAME
_DATA_OPEN = b'<script type="application/json" id="skeleton-snapshot">'
_DATA_CLOSE = b"</script>"

# Characters that could end the <script> element, open an HTML comment or end a
# JavaScript line inside the embedded JSON. All are legal in JSON as \\uXXXX.
# Replaced in the UTF-8 bytes (bytes.replace is ~50x faster than str.translate on a
# multi-megabyte snapshot); none of them can be part of another character's encoding.
_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


EMBED_CHUNK = 1 << 20  # bytes of JSON escaped at a time for report.html: a big snapshot is never copied whole


def _escape(raw: bytes) -> bytes:
    for char, escaped in _ESCAPES:
        # the last byte first: a one-byte search is memchr, a three-byte one (U+2028, U+2029) a slower scan that
        # was 2/3 of this function on a 30 MB snapshot; their last byte is rare in most JSON (sqlparse's suite:
        # in 89 places, in two of 30 parts)
        if char[-1:] in raw and char in raw:
            raw = raw.replace(char, escaped)
    return raw


def _embed(data: Any, raw: bytes | None = None) -> bytes:
    """data's JSON (or `raw`, that JSON already serialised) made safe inside a <script> element."""
    return _escape(orjson.dumps(data) if raw is None else raw)


def _embed_parts(raw: bytes) -> Iterator[bytes]:
    """_embed(raw) in parts of about EMBED_CHUNK bytes, each cut before an ASCII byte (never inside a
    character, so U+2028/U+2029 are escaped whole): the same bytes, without two or three escaped copies of
    a 30 MB snapshot alive at once (sqlparse's suite)."""
    start, size = 0, len(raw)
    while start < size:
        end = min(start + EMBED_CHUNK, size)
        while end < size and raw[end] >= 0x80:
            end += 1
        yield _escape(raw[start:end])
        start = end


def embed_json(data: Any) -> str:
    """Serialise data as JSON that is safe inside a <script> element."""
    return _embed(data).decode("utf-8")


def _template_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ReportTemplateMissing(f"the report UI bundle is missing ({path.name}); {BUILD_HINT}") from None


def load_template(path: Path = TEMPLATE_PATH) -> str:
    try:
        return _template_bytes(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportTemplateMissing(f"the report template is not UTF-8 ({exc.reason}); {BUILD_HINT}") from None


def _from_sidecar(data: bytes, path: Path) -> tuple[bytes, bytes] | None:
    """(before, after) the marker with the pinned policy spliced in, when the sidecar is this template's."""
    try:
        side = orjson.loads(sidecar_path(path).read_bytes())
        if (
            side["version"] != SIDECAR_VERSION
            or side["template_bytes"] != len(data)
            or side["template_crc32"] != zlib.crc32(data)
        ):
            return None
        start, end, marker, csp = side["csp_start"], side["csp_end"], side["marker"], side["csp"].encode("utf-8")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # missing, unreadable or not ours
        return None
    if not (0 < start <= end <= marker) or data[marker : marker + len(MARKER)] != MARKER.encode():
        return None
    return data[:start] + csp + data[end:marker], data[marker + len(MARKER) :]


def template_parts(path: Path = TEMPLATE_PATH) -> tuple[bytes, bytes]:
    """The template (UTF-8) before and after the marker, its CSP pinned: from the sidecar, else pinned here."""
    data = _template_bytes(path)
    parts = _from_sidecar(data, path)
    if parts is not None:
        return parts
    try:
        before, after = stitchable(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ReportTemplateMissing(f"the report template is not UTF-8 ({exc.reason}); {BUILD_HINT}") from None
    return before.encode("utf-8"), after.encode("utf-8")


def render_report(snapshot: dict[str, Any], path: Path = TEMPLATE_PATH) -> bytes:
    """report.html as UTF-8 bytes: the template at `path` with the snapshot embedded."""
    return b"".join(report_parts(snapshot, path=path))


def report_parts(snapshot: Any, snapshot_json: bytes | None = None, path: Path = TEMPLATE_PATH) -> Iterator[bytes]:
    """report.html's bytes in parts, to write one after the other (safefiles.write_atomic): a big run's
    report is never joined in memory, and its data is escaped a part at a time as it is written.
    snapshot_json: the snapshot already serialised (snapshot.json's bytes), not serialised a second time.
    The template is read before the first part is given (a missing one raises ReportTemplateMissing here)."""
    before, after = template_parts(path)
    raw = orjson.dumps(snapshot) if snapshot_json is None else snapshot_json

    def parts() -> Iterator[bytes]:
        yield before
        yield _DATA_OPEN
        yield from _embed_parts(raw)
        yield _DATA_CLOSE
        yield after

    return parts()


def render_html(snapshot: dict[str, Any], template: str | None = None) -> str:
    """report.html as text (render_report gives the bytes a file needs); `template`: its text instead of ours."""
    if template is None:
        return render_report(snapshot).decode("utf-8")
    before, after = stitchable(template)
    return before + _DATA_OPEN.decode() + embed_json(snapshot) + _DATA_CLOSE.decode() + after


def write_report(snapshot: dict[str, Any], path: str | os.PathLike[str], template: str | None = None) -> Path:
    """Write report.html atomically and privately (safefiles: a random temporary, never through a link)."""
    from ..safefiles import write_atomic

    return write_atomic(path, render_report(snapshot) if template is None else render_html(snapshot, template))
