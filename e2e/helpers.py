"""What the report should show, computed from the snapshot itself (never hard-coded ids)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

NEVER = 2**31 - 1

# How the tests start Skeleton. Under scripts/test.sh (SKELETON_TEST_INSTALLED=1) the suite runs against the
# installed wheel: the installed `skeleton` command, since `python -m skeleton_replay` run from the repository
# would import the checkout instead.
SKELETON_CMD = ([str(Path(sys.executable).parent / "skeleton")] if os.environ.get("SKELETON_TEST_INSTALLED") == "1"
                else [sys.executable, "-m", "skeleton_replay"])


def effective_reveal(snapshot: dict) -> dict[str, int]:
    """Replay position rule: node revealed at position p iff reveal < p (p=0 shows nothing).
    reveal = min(first_seen) over the node and its descendants, clamped to the last recorded step."""
    last = max(0, snapshot["steps"]["count"] - 1)
    reveal = {n["id"]: (NEVER if n["first_seen"] is None else min(n["first_seen"], last)) for n in snapshot["nodes"]}
    # I/O boundaries are boxes of their own, shown from their first use
    for b in snapshot.get("boundaries") or []:
        seen = b["first_seen"] if b["first_seen"] is not None else (last if b["count"] > 0 else NEVER)
        reveal.setdefault(b["id"], min(seen, last) if seen != NEVER else NEVER)
    parent: dict[str, str | None] = {n["id"]: n["parent"] for n in snapshot["nodes"]}
    for nid in list(reveal):
        p, hops = parent.get(nid), 0
        while p is not None and p in reveal and hops < 64:
            reveal[p] = min(reveal[p], reveal[nid])
            p, hops = parent.get(p), hops + 1
    return reveal


def summary_text(s: dict) -> str | None:
    """The simple cases of the UI's summary formatting, enough to check what the inspector shows."""
    if s.get("redacted"):
        return f"<redacted {s['type']}" + (f" len={s['len']}>" if s.get("len") is not None else ">")
    if "items" not in s and "entries" not in s and "id" in s and "value" not in s:
        return f"<{s['type']} #{s['id']}>"
    return None


# What a person sees on the map: for each box drawn inside the map's viewport, the on-screen size of its
# label (font size × the map zoom, the first number of the .react-flow__viewport transform matrix).
LABEL_SIZES_JS = """() => {
  const vp = document.querySelector('.react-flow__viewport');
  const zoom = new DOMMatrixReadOnly(getComputedStyle(vp).transform).a;
  const map = document.querySelector('[data-testid=view-map] .react-flow').getBoundingClientRect();
  const boxes = [];
  for (const el of document.querySelectorAll('.react-flow__node [data-testid^="node-"]')) {
    if (el.classList.contains('unrevealed') || el.classList.contains('filtered')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= map.left || r.left >= map.right || r.bottom <= map.top || r.top >= map.bottom) continue;
    const label = el.querySelector('[data-label]');
    const px = label ? parseFloat(getComputedStyle(label).fontSize) * zoom : 0;
    // the share of the label's text that fits its box (1: whole; less: cut with an ellipsis)
    const shown = label && label.scrollWidth > 0 ? Math.min(1, label.clientWidth / label.scrollWidth) : 1;
    boxes.push({id: el.dataset.testid.slice(5), px, text: label ? label.textContent : '', shown});
  }
  return {zoom, boxes};
}"""


def label_sizes(page) -> dict:
    """{'zoom': map zoom, 'boxes': [{'id', 'px', 'text', 'shown'}]} for the boxes inside the visible map
    (`shown`: the share of the label's width that fits its box)."""
    return page.evaluate(LABEL_SIZES_JS)


def readable_share(sizes: dict, min_px: float = 10.0) -> float:
    boxes = sizes["boxes"]
    return sum(1 for b in boxes if b["px"] >= min_px and b["text"].strip()) / len(boxes) if boxes else 0.0


def on_screen(page, node_id: str) -> bool:
    """The node's box is drawn inside the visible map."""
    return page.evaluate("""(id) => {
      const el = document.querySelector(`[data-testid="node-${CSS.escape(id)}"]`);
      if (!el) return false;
      const r = el.getBoundingClientRect(), m = document.querySelector('[data-testid=view-map] .react-flow').getBoundingClientRect();
      return r.width > 0 && r.left >= m.left - 1 && r.right <= m.right + 1 && r.top >= m.top - 1 && r.bottom <= m.bottom + 1;
    }""", node_id)


def matrix_units(snapshot: dict) -> dict[str, str]:
    """Node id -> the id of its row in the dependency matrix (modules; a package's own code is `init:<name>`)."""
    nodes = {n["id"]: n for n in snapshot["nodes"]}
    kids: dict[str, list[str]] = {}
    for n in snapshot["nodes"]:
        if n["parent"] in nodes:
            kids.setdefault(n["parent"], []).append(n["id"])
    has_sub = {i for i, ks in kids.items() if any(nodes[k]["kind"] in ("module", "package") for k in ks)}
    out: dict[str, str] = {}
    for n in snapshot["nodes"]:
        p, hops = n, 0
        while p is not None and hops < 64:
            if p["kind"] == "module":
                if p["id"] in has_sub:
                    out[n["id"]] = None if p is n else f"init:{p['module']}"
                else:
                    out[n["id"]] = p["id"]
                break
            p, hops = nodes.get(p["parent"]), hops + 1
    return {k: v for k, v in out.items() if v}


def run_checked(example: Path, rules: Path, out: Path):
    """`skeleton run --check --rules RULES` on an example app into OUT: (completed process, snapshot dict).
    Exit code 1 means a rule is violated (the run itself went fine)."""
    import json
    import subprocess

    cmd = [*SKELETON_CMD, "run", "--no-open", "--check", "--rules", str(rules), "--out-dir", str(out), str(example)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "CI": "1"}, timeout=300)
    snap = json.loads((out / "snapshot.json").read_text("utf-8")) if (out / "snapshot.json").exists() else {}
    return proc, snap
