"""What is recorded about a request: method, path, status, duration, redacted summaries.

Header and query values go through the run's Summariser (the same secret names and patterns as
`skeleton run`, [tool.skeleton] included), plus the names web requests use for secrets
(signatures, OAuth codes). In the path, a segment that matches a secret pattern, looks random
(a token) or follows a secret-named segment (/reset/<token>) becomes <redacted>: in the logs, the
request summary and the folder name. The raw query string is never stored. Every text a pattern
is searched in is bounded first (MAX_PATH, MAX_QUERY_STRING), so a huge request costs little.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from .. import safefiles
from ..capture.summarise import Summariser
from .select import MAX_PATH

MAX_HEADERS = 40
MAX_QUERY = 40
MAX_QUERY_STRING = 8192  # characters of the query string that are parsed
SLUG_LIMIT = 60
MAX_NAME = 256  # characters of a header name kept (a longer one is garbage, not a name)
REDACTED = "<redacted>"
CUT = "..."  # ends a path cut at MAX_PATH

# Query parameter and header names that carry secrets on the web, besides the Summariser's words:
# OAuth authorization codes, signed-URL signatures (S3, GCS, Azure), webhook signatures.
WEB_SECRET_NAMES = frozenset({"code", "sig", "hmac", "otp", "x-amz-credential", "x-goog-credential"})
WEB_SECRET_WORDS = ("signature", "security-token")  # anywhere in the name: x-hub-signature-256, x-amz-signature
# A path segment after one of these (or after a secret-named one: /token/, /key/) is redacted.
WEB_SECRET_SEGMENTS = frozenset(
    {
        "reset",
        "verify",
        "confirm",
        "activate",
        "invite",
        "invitation",
        "magic",
        "unsubscribe",
        "otp",
        "sig",
        "signature",
        "signed",
    }
)
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]{20,}")
_LETTER_AND_DIGIT = re.compile(r"[A-Za-z][0-9]|[0-9][A-Za-z]")

Headers = Mapping[Any, object] | Iterable[tuple[object, object]]  # names and values: str, or bytes (ASGI)


@dataclass
class RequestInfo:
    """A request as the middleware sees it."""

    method: str
    path: str
    query: str  # the raw query string: only ever summarised
    headers: Headers  # (name, value) pairs, str or bytes (ASGI), or a mapping

    def __post_init__(self) -> None:
        self.headers = header_pairs(self.headers)


def _text(v: object) -> str:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("latin-1")  # HTTP header bytes, as ASGI gives them
    return v if isinstance(v, str) else str(v)


def header_pairs(headers: Headers) -> list[tuple[str, str]]:
    """(lower-case name, value) strings, in order, from pairs (str or bytes) or a mapping: the one place where
    the WSGI, ASGI and Django integrations' headers are decoded (RequestInfo calls it)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(_text(name)[:MAX_NAME].lower(), _text(value)) for name, value in items]


def web_secret_name(name: str, summariser: Summariser) -> bool:
    """A header or query parameter name whose value is a secret."""
    low = name.lower()
    return (
        summariser.secret_name(name)
        or low in WEB_SECRET_NAMES
        or any(w in low.replace("_", "-") for w in WEB_SECRET_WORDS)
    )


def random_looking(segment: str) -> bool:
    """A token-like path segment: 20+ of [A-Za-z0-9_-] with a letter next to a digit somewhere
    (so /how-to-install-python-3-12 and long numeric ids stay readable)."""
    return _TOKEN_CHARS.fullmatch(segment) is not None and _LETTER_AND_DIGIT.search(segment) is not None


def _secret_segment_name(segment: str, summariser: Summariser) -> bool:
    if len(segment) > 64:  # words, not data: and the Summariser caches the names it is asked about
        return False
    return segment.lower() in WEB_SECRET_SEGMENTS or summariser.secret_name(segment)


def safe_path(path: str, summariser: Summariser) -> str:
    """The path (cut at MAX_PATH characters) with every secret-looking segment replaced by <redacted>."""
    if len(path) > MAX_PATH:
        path = path[:MAX_PATH] + CUT
    out: list[str] = []
    after_secret_name = False
    for seg in path.split("/"):
        if not seg:
            out.append(seg)
            continue
        secret = after_secret_name or random_looking(seg) or summariser.secret_value(seg)
        out.append(REDACTED if secret else seg)
        after_secret_name = _secret_segment_name(seg, summariser)
    shown = "/".join(out)
    if summariser.secret_value(shown):  # a secret across segments (scheme://user:password@host)
        return "/" + REDACTED
    return shown


def summarise_pairs(
    pairs: Iterable[tuple[str, str]], summariser: Summariser, limit: int, join: bool
) -> dict[str, dict[str, Any]]:
    """At most `limit` names; repeated names joined (headers) or listed (query); secrets redacted."""
    grouped: dict[str, list[str]] = {}
    for i, (name, value) in enumerate(pairs):
        if i >= limit * 4:
            break
        if name in grouped or len(grouped) < limit:
            grouped.setdefault(name, []).append(value)
    out: dict[str, dict[str, Any]] = {}
    for name, values in grouped.items():
        shown: str | list[str] = ", ".join(values) if join else (values[0] if len(values) == 1 else values)
        if web_secret_name(name, summariser):
            for v in values:  # the Summariser remembers redacted values: found again in the trace, they stay hidden
                summariser.redacted(v)
            out[name] = summariser.redacted(shown)
        else:
            out[name] = summariser.value(shown, name)
    return out


def summarise_request(
    req: RequestInfo, summariser: Summariser, status: int | None, duration_s: float, selected_by: str
) -> dict[str, Any]:
    """The run's `request` object (schema: RequestInfo in snapshot.schema.json)."""
    query = parse_qsl(req.query[:MAX_QUERY_STRING], keep_blank_values=True)
    return {
        "method": req.method,
        "path": safe_path(req.path, summariser),
        "status": status,
        "duration_s": round(duration_s, 6),
        "selected_by": selected_by,
        "headers": summarise_pairs(header_pairs(req.headers), summariser, MAX_HEADERS, join=True),  # pairs: unchanged
        "query": summarise_pairs(query, summariser, MAX_QUERY, join=False),
    }


def folder_name(now: _dt.datetime, method: str, path: str, summariser: Summariser) -> str:
    """<UTC time>-<METHOD>-<path slug>, e.g. 20261126T081530.123Z-GET-orders-7."""
    stamp = now.astimezone(_dt.UTC).strftime("%Y%m%dT%H%M%S.") + f"{now.microsecond // 1000:03d}Z"
    slug = re.sub(r"[^A-Za-z0-9_.]+", "-", safe_path(path, summariser).replace(REDACTED, "redacted")).strip("-.")
    slug = slug[:SLUG_LIMIT].rstrip("-.") or "root"
    verb = re.sub(r"[^A-Za-z]+", "", method[:32]).upper() or "REQUEST"
    return f"{stamp}-{verb}-{slug}"


def unique_folder(parent: Path, name: str) -> Path:
    """parent/name, or parent/name-2, -3, ... when two requests start in the same millisecond.

    Folders are created private (0700); parent must be a real folder, not a symbolic link."""
    safefiles.make_dirs(parent)
    if parent.is_symlink():
        raise OSError(f"{parent} is a symbolic link; Skeleton writes requests only into a real folder")
    n = 1
    while True:
        folder = parent / (name if n == 1 else f"{name}-{n}")
        try:
            os.mkdir(folder, safefiles.DIR_MODE)
            return folder
        except FileExistsError:
            n += 1
