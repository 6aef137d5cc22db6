"""report.html: the prebuilt report UI with the snapshot embedded as JSON.

This module only stitches template + escaped data. The template is the single-file
Vite build of report-ui/ (committed as _static/report-template.html; rebuild with
`report-ui/scripts/build.sh`). It contains the marker MARKER exactly once; the
snapshot goes there inside <script type="application/json" id="skeleton-snapshot">.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

MARKER = "<!--SKELETON_SNAPSHOT-->"
TEMPLATE_NAME = "report-template.html"
BUILD_HINT = "rebuild the report UI with: bash report-ui/scripts/build.sh"

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


class ReportTemplateMissing(RuntimeError):
    pass


def embed_json(data: Any) -> str:
    """Serialise data as JSON that is safe inside a <script> element."""
    raw = orjson.dumps(data)
    for char, escaped in _ESCAPES:
        if char in raw:
            raw = raw.replace(char, escaped)
    return raw.decode("utf-8")


def load_template() -> str:
    try:
        return resources.files(__package__).joinpath("_static", TEMPLATE_NAME).read_text("utf-8")
    except FileNotFoundError:
        raise ReportTemplateMissing(f"the report UI bundle is missing ({TEMPLATE_NAME}); {BUILD_HINT}") from None


def render_html(snapshot: dict, template: str | None = None) -> str:
    template = load_template() if template is None else template
    if template.count(MARKER) != 1:
        raise ReportTemplateMissing(f"the report template has no single {MARKER} marker; {BUILD_HINT}")
    data = f'<script type="application/json" id="skeleton-snapshot">{embed_json(snapshot)}</script>'
    before, after = template.split(MARKER)
    return before + data + after


def write_report(snapshot: dict, path: str | os.PathLike[str], template: str | None = None) -> Path:
    """Write report.html atomically (temporary file + rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_html(snapshot, template), encoding="utf-8")
    os.replace(tmp, path)
    return path
