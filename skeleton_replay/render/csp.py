"""The report template's Content-Security-Policy, pinned to the template's own inline code.

The template's <meta> policy gets its script-src and style-src set to the sha256 hashes of the
template's inline <script> and <style> elements, so the bundle runs and nothing else inline does.
Hashing the ~2 MB bundle costs more than the rest of a short run's report, so it is done once, when
the template is built: `report-ui/scripts/build.sh` runs this file as a script, which writes the
sidecar `report-template.csp.json` next to the template (the pinned policy, where it goes, where
the snapshot marker is, and the template's size and CRC-32). render/html.py uses the sidecar only
when size and CRC-32 match the template it reads, and pins at run time otherwise (same bytes).

    python skeleton_replay/render/csp.py skeleton_replay/render/_static/report-template.html

Standard library only: build.sh runs it without Skeleton installed.
"""

from __future__ import annotations

import re
import sys
import zlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

MARKER = "<!--SKELETON_SNAPSHOT-->"
BUILD_HINT = "rebuild the report UI with: bash report-ui/scripts/build.sh"
# Bump when pin_csp's rule changes: older sidecars are then ignored (pinned at run time) and the
# test comparing the committed sidecar with a fresh one fails until build.sh runs again.
SIDECAR_VERSION = 1


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, re.Pattern[str]]]:
    """The CSP meta tag, an opening <script>/<style> and their ends: compiled when pinning at run time (rare)."""
    meta = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"')
    opening = re.compile(r"<(script|style)\b([^>]*)>", re.I)
    return meta, opening, {tag: re.compile(rf"</{tag}", re.I) for tag in ("script", "style")}


class ReportTemplateMissing(RuntimeError):
    pass


def sidecar_path(template: Path) -> Path:
    """report-template.html -> report-template.csp.json"""
    return template.with_name(template.name.rsplit(".", 1)[0] + ".csp.json")


def csp_hash(source: str) -> str:
    """The CSP source expression for one inline element's text (as the HTML parser gives it)."""
    import base64  # here: only pinning needs them (a run uses the sidecar)
    import hashlib

    text = source.replace("\r\n", "\n").replace("\r", "\n") if "\r" in source else source
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _inline_elements(html: str) -> Iterator[tuple[str, str, str]]:
    """(tag, attributes, text) of each <script> and <style>: the text runs to the first "</script" or
    "</style", as the HTML tokeniser reads it (the bundle holds no such sequence inside)."""
    _, opening, closing = _patterns()
    pos = 0
    while (m := opening.search(html, pos)) is not None:
        tag = m.group(1).lower()
        close = closing[tag].search(html, m.end())
        if close is None:
            raise ReportTemplateMissing(f"the report template has an unclosed <{tag}>; {BUILD_HINT}")
        yield tag, m.group(2), html[m.end() : close.start()]
        pos = close.end()


def pinned_policy(template: str) -> tuple[int, int, str]:
    """(start, end) of the template's CSP meta content, and the content pinned to its inline code."""
    csp_meta, opening, _ = _patterns()
    meta = csp_meta.search(template)
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
    if opening.search(template, 0, meta.start()):  # a <meta> policy only covers what comes after it
        raise ReportTemplateMissing(f"the report template has a script or style before its CSP; {BUILD_HINT}")
    directives = [d.strip() for d in meta.group(1).split(";") if d.strip()]
    policy = {d.split()[0]: d for d in directives}
    policy["script-src"] = "script-src " + " ".join(dict.fromkeys(hashes["script"]))
    policy["style-src"] = "style-src " + (" ".join(dict.fromkeys(hashes["style"])) or "'none'")
    return meta.start(1), meta.end(1), "; ".join(policy.values())


def pin_csp(template: str) -> str:
    """Set the template's script-src and style-src to the hashes of its inline scripts and styles."""
    start, end, content = pinned_policy(template)
    return template[:start] + content + template[end:]


def stitchable(template: str) -> tuple[str, str]:
    """(before, after) the marker, with the template's CSP pinned to its own inline code."""
    if template.count(MARKER) != 1:
        raise ReportTemplateMissing(f"the report template has no single {MARKER} marker; {BUILD_HINT}")
    before, _, after = pin_csp(template).partition(MARKER)
    return before, after


def sidecar(data: bytes) -> dict[str, Any]:
    """What render/html.py needs to stitch the template `data` without reading or hashing its code."""
    template = data.decode("utf-8")
    stitchable(template)  # every check the run-time path makes, and the same errors
    start, end, content = pinned_policy(template)
    marker = template.index(MARKER)
    if marker < end:
        raise ReportTemplateMissing(f"the report template has its {MARKER} marker before its CSP; {BUILD_HINT}")
    return {
        "version": SIDECAR_VERSION,
        "template_bytes": len(data),
        "template_crc32": zlib.crc32(data),
        "csp": content,
        # byte offsets in the template: the CSP meta's content attribute, the marker
        "csp_start": len(template[:start].encode("utf-8")),
        "csp_end": len(template[:end].encode("utf-8")),
        "marker": len(template[:marker].encode("utf-8")),
    }


def sidecar_text(data: bytes) -> str:
    import json

    return json.dumps(sidecar(data), indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python skeleton_replay/render/csp.py TEMPLATE.html", file=sys.stderr)
        return 2
    template = Path(argv[0])
    try:
        text = sidecar_text(template.read_bytes())
    except (OSError, UnicodeDecodeError, ReportTemplateMissing) as exc:
        print(f"csp.py: cannot pin {template}: {exc}", file=sys.stderr)
        return 2
    out = sidecar_path(template)
    out.write_text(text, "utf-8")
    print(f"report template CSP: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
