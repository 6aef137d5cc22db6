"""Which requests are traced: a header, a path pattern or a sampling rate. No rule, no trace.

The header rule is the operator's, never the client's alone: it selects a request only when the
header carries the configured token (compared in constant time), or when the app runs in debug
mode (Flask's app.debug, Django's settings.DEBUG, debug=True) and the header says 1/true/yes/on.
Every input a pattern is matched against is bounded first (MAX_PATH, MAX_HEADER_VALUE).
"""

from __future__ import annotations

import fnmatch
import hmac
import logging
import os
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from re import Pattern
from typing import Any

DEFAULT_HEADER = "X-Skeleton-Trace"
TOKEN_ENV = "SKELETON_TRACE_TOKEN"
TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
MIN_TOKEN = 16  # characters: secrets.token_urlsafe() gives 43
MAX_HEADER_VALUE = 256  # a longer header value selects nothing
MAX_PATH = 2048  # a longer path is never selected by a path rule (the rules are the operator's regexes)

PathPattern = str | Pattern[str]
log = logging.getLogger("skeleton_replay.web")


@dataclass
class Selection:
    """The selection rules; the first that matches names the reason ("header", "path", "rate").

    header: the header's name (None turns the rule off). A request is selected by it when the
            value is `token`, or, with `debug` true and allow_header_in_debug, a true value
            (1, true, yes, on). Without either, the header is ignored (logged once).
    paths:  glob patterns ("/orders/*") matched against the whole path, or regular
            expressions (a compiled pattern, or a string starting with "re:") searched in it.
    rate:   the fraction of the other requests traced at random (0 = none, 1 = all).
    token:  the secret the header must carry; default: the SKELETON_TRACE_TOKEN environment variable.
    debug:  the app is in debug mode: a bool, or a function asked at each request that carries
            the header (Flask's and Django's helpers pass the framework's own flag).
    """

    header: str | None = DEFAULT_HEADER
    paths: tuple[PathPattern, ...] = ()
    rate: float = 0.0
    random: Callable[[], float] = field(default=random.random, repr=False)
    token: str | None = field(default=None, repr=False)
    debug: bool | Callable[[], bool] = False
    allow_header_in_debug: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.paths, (str, re.Pattern)):
            self.paths = (self.paths,)
        self.paths = tuple(self.paths)
        if not 0.0 <= float(self.rate) <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, not {self.rate!r}")
        self._header_key = self.header.lower() if self.header else None
        self._matchers = [_matcher(p) for p in self.paths]
        token = self.token if self.token is not None else os.environ.get(TOKEN_ENV) or None
        self._token = _check_token(token) if token is not None else None
        self._warned = False

    @property
    def header_key(self) -> str | None:
        """The header name in lower case (ASGI and Django spelling)."""
        return self._header_key

    @property
    def environ_key(self) -> str | None:
        """The header as a WSGI environ key: X-Skeleton-Trace -> HTTP_X_SKELETON_TRACE."""
        return "HTTP_" + self._header_key.upper().replace("-", "_") if self._header_key else None

    def match(self, path: str, header_value: str | None) -> str | None:
        """The rule that selects this request, or None (the request is not traced)."""
        if header_value is not None and self._header_selects(header_value):
            return "header"
        if self._matchers and len(path) <= MAX_PATH:
            for m in self._matchers:
                if m(path):
                    return "path"
        if self.rate and (self.rate >= 1.0 or self.random() < self.rate):
            return "rate"
        return None

    def _header_selects(self, value: str) -> bool:
        if len(value) > MAX_HEADER_VALUE:
            return False
        value = value.strip()
        if self._token is not None and hmac.compare_digest(value.encode("utf-8", "replace"), self._token):
            return True
        if value.lower() in TRUE_VALUES and self.allow_header_in_debug and self._in_debug():
            return True
        if not self._warned:
            self._warned = True
            why = (
                "the value is not the configured token"
                if self._token is not None
                else "no token is configured and the app is not in debug mode"
            )
            log.warning(
                "skeleton: a request's %s header was ignored: %s (further ones are not logged; "
                "see 'Safe setup' in docs/web.md)",
                self.header,
                why,
            )
        return False

    def _in_debug(self) -> bool:
        debug = self.debug
        try:
            return bool(debug() if callable(debug) else debug)
        except Exception:  # the app's own flag could not be read: not in debug mode
            return False

    @property
    def active(self) -> bool:
        """False when no rule can ever match (then the middleware only passes requests through)."""
        return bool(self._header_key or self._matchers or self.rate)


def _check_token(token: object) -> bytes:
    if not isinstance(token, str):
        raise ValueError(f"token must be a string, not {type(token).__name__}")
    if len(token) < MIN_TOKEN or len(token) > MAX_HEADER_VALUE or not re.fullmatch(r"[!-~]+", token):
        raise ValueError(
            f"token must be {MIN_TOKEN} to {MAX_HEADER_VALUE} printable ASCII characters without "
            "spaces; make one with: python -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    return token.encode("ascii")


def _matcher(pattern: PathPattern) -> Callable[[str], bool]:
    if isinstance(pattern, re.Pattern):
        return lambda path: pattern.search(path) is not None
    if not isinstance(pattern, str):
        raise TypeError(
            f"a path pattern is a glob string, 're:<regex>' or a compiled regex, not {type(pattern).__name__}"
        )
    if pattern.startswith("re:"):
        rx = re.compile(pattern[3:])
        return lambda path: rx.search(path) is not None
    return lambda path: fnmatch.fnmatchcase(path, pattern)


def selection_from(
    header: str | None = DEFAULT_HEADER,
    paths: Iterable[PathPattern] | PathPattern = (),
    rate: float = 0.0,
    selection: Selection | None = None,
    **header_rule: Any,
) -> Selection:
    """A Selection from middleware keyword arguments (header_rule: token, debug, allow_header_in_debug)."""
    if selection is not None:
        return selection
    if isinstance(paths, (str, re.Pattern)):
        paths = (paths,)
    return Selection(header=header, paths=tuple(paths), rate=rate, **header_rule)
