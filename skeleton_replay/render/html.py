"""report.html: the prebuilt report UI with the snapshot embedded as JSON.

This module only stitches template + escaped data. The template is the single-file
Vite build of report-ui/ (committed as _static/report-template.html; rebuild with
`report-ui/scripts/build.sh`). It contains the marker MARKER exactly once; the
snapshot goes there inside <script type="application/json" id="skeleton-snapshot">.

Content-Security-Policy: the template's <meta> policy gets its script-src and style-src
set to the sha256 hashes of the template's own inline <script> and <style> elements, so
the bundle runs and nothing else inline does (an injected <script> or on* handler is
blocked). The JSON data block is not a script the browser runs: it needs no source.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
from collections.abc import Iterator
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


_CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"')
_OPEN = re.compile(r"<(script|style)\b([^>]*)>", re.I)
_CLOSE = {tag: re.compile(rf"</{tag}", re.I) for tag in ("script", "style")}


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


def render_html(snapshot: dict[str, Any], template: str | None = None) -> str:
    before, after = _stitchable(load_template() if template is None else template)
    data = f'<script type="application/json" id="skeleton-snapshot">{embed_json(snapshot)}</script>'
    return before + data + after


@functools.lru_cache(maxsize=4)
def _stitchable(template: str) -> tuple[str, str]:
    """(before, after) the marker, with the template's CSP pinned to its own inline code."""
    if template.count(MARKER) != 1:
        raise ReportTemplateMissing(f"the report template has no single {MARKER} marker; {BUILD_HINT}")
    before, _, after = pin_csp(template).partition(MARKER)
    return before, after


def csp_hash(source: str) -> str:
    """The CSP source expression for one inline element's text (as the HTML parser gives it)."""
    text = source.replace("\r\n", "\n").replace("\r", "\n") if "\r" in source else source
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _inline_elements(html: str) -> Iterator[tuple[str, str, str]]:
    """(tag, attributes, text) of each <script> and <style>: the text runs to the first "</script" or
    "</style", as the HTML tokeniser reads it (the bundle holds no such sequence inside)."""
    pos = 0
    while (m := _OPEN.search(html, pos)) is not None:
        tag = m.group(1).lower()
        close = _CLOSE[tag].search(html, m.end())
        if close is None:
            raise ReportTemplateMissing(f"the report template has an unclosed <{tag}>; {BUILD_HINT}")
        yield tag, m.group(2), html[m.end() : close.start()]
        pos = close.end()


def pin_csp(template: str) -> str:
    """Set the template's script-src and style-src to the hashes of its inline scripts and styles."""
    meta = _CSP_META.search(template)
    if meta is None or template.count('http-equiv="Content-Security-Policy"') != 1:
        raise ReportTemplateMissing(f"the report template has no single Content-Security-Policy meta tag; {BUILD_HINT}")
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for tag, attrs, text in _inline_elements(template):
        if tag == "script" and re.search(r"\bsrc\s*=", attrs, re.I):
            raise ReportTemplateMissing(f"the report template loads an external script; {BUILD_HINT}")
        if tag == "script" and re.search(r'\btype\s*=\s*"application/json"', attrs, re.I):
            continue  # data, never run
        hashes[tag].append(csp_hash(text))
    if not hashes["script"]:
        raise ReportTemplateMissing(f"the report template has no inline script (the UI bundle); {BUILD_HINT}")
    if _OPEN.search(template, 0, meta.start()):  # a <meta> policy only covers what comes after it
        raise ReportTemplateMissing(f"the report template has a script or style before its CSP; {BUILD_HINT}")
    directives = [d.strip() for d in meta.group(1).split(";") if d.strip()]
    policy = {d.split()[0]: d for d in directives}
    policy["script-src"] = "script-src " + " ".join(dict.fromkeys(hashes["script"]))
    policy["style-src"] = "style-src " + (" ".join(dict.fromkeys(hashes["style"])) or "'none'")
    content = "; ".join(policy.values())
    return template[: meta.start(1)] + content + template[meta.end(1) :]


def write_report(snapshot: dict[str, Any], path: str | os.PathLike[str], template: str | None = None) -> Path:
    """Write report.html atomically and privately (safefiles: a random temporary, never through a link)."""
    from ..safefiles import write_atomic

    return write_atomic(path, render_html(snapshot, template))
