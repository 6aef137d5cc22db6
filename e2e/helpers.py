"""What the report should show, computed from the snapshot itself (never hard-coded ids)."""
from __future__ import annotations

NEVER = 2**31 - 1


def effective_reveal(snapshot: dict) -> dict[str, int]:
    """Replay position rule: node revealed at position p iff reveal < p (p=0 shows nothing).
    reveal = min(first_seen) over the node and its descendants, clamped to the last recorded step."""
    last = max(0, snapshot["steps"]["count"] - 1)
    reveal = {n["id"]: (NEVER if n["first_seen"] is None else min(n["first_seen"], last)) for n in snapshot["nodes"]}
    parent = {n["id"]: n["parent"] for n in snapshot["nodes"]}
    for nid in list(reveal):
        p, hops = parent[nid], 0
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
