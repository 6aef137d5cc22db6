"""What is recorded about a request: method, path, status, duration, redacted summaries.

Header and query values go through the Summariser, so a secret-looking name
(authorization, cookie, token, key, ...) or value (bearer tokens, JWTs, ...) is
redacted, and never appear in any artifact. The raw query string is never stored.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from ..capture.summarise import Summariser

MAX_HEADERS = 40
MAX_QUERY = 40
SLUG_LIMIT = 60
REDACTED = "<redacted>"


@dataclass
class RequestInfo:
    """A request as the middleware sees it (strings already decoded)."""

    method: str
    path: str
    query: str  # the raw query string: only ever summarised
    headers: list[tuple[str, str]]  # (lower-case name, value), in order


def safe_path(path: str, summariser: Summariser) -> str:
    """The path with every secret-looking segment replaced by <redacted>."""
    if not summariser.secret_value(path):
        return path
    return "/".join(REDACTED if summariser.secret_value(seg) else seg for seg in path.split("/"))


def summarise_request(req: RequestInfo, summariser: Summariser, status: int | None, duration_s: float,
                      selected_by: str) -> dict:
    """The run's `request` object (schema: RequestInfo in snapshot.schema.json)."""
    headers: dict[str, list[str]] = {}
    for name, value in req.headers[:MAX_HEADERS * 4]:
        if name in headers or len(headers) < MAX_HEADERS:
            headers.setdefault(name, []).append(value)
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(req.query, keep_blank_values=True)[:MAX_QUERY * 4]:
        if name in query or len(query) < MAX_QUERY:
            query.setdefault(name, []).append(value)
    return {
        "method": req.method,
        "path": safe_path(req.path, summariser),
        "status": status,
        "duration_s": round(duration_s, 6),
        "selected_by": selected_by,
        "headers": {n: summariser.value(", ".join(v), n) for n, v in headers.items()},
        "query": {n: summariser.value(v[0] if len(v) == 1 else v, n) for n, v in query.items()},
    }


def folder_name(now: _dt.datetime, method: str, path: str, summariser: Summariser) -> str:
    """<UTC time>-<METHOD>-<path slug>, e.g. 20261126T081530.123Z-GET-orders-7."""
    stamp = now.astimezone(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S.") + f"{now.microsecond // 1000:03d}Z"
    slug = re.sub(r"[^A-Za-z0-9_.]+", "-", safe_path(path, summariser).replace(REDACTED, "redacted")).strip("-.")
    slug = slug[:SLUG_LIMIT].rstrip("-.") or "root"
    verb = re.sub(r"[^A-Za-z]+", "", method).upper() or "REQUEST"
    return f"{stamp}-{verb}-{slug}"


def unique_folder(parent: Path, name: str) -> Path:
    """parent/name, or parent/name-2, -3, ... when two requests start in the same millisecond."""
    parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        folder = parent / (name if n == 1 else f"{name}-{n}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            n += 1
