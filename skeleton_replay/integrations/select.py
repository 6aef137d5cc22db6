"""Which requests are traced: a header, a path pattern or a sampling rate. No rule, no trace."""
from __future__ import annotations

import fnmatch
import random
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Pattern, Union

DEFAULT_HEADER = "X-Skeleton-Trace"
TRUE_VALUES = frozenset({"1", "true", "yes", "on"})

PathPattern = Union[str, Pattern[str]]


@dataclass
class Selection:
    """The selection rules; the first that matches names the reason ("header", "path", "rate").

    header: a request carrying this header with a true value (1, true, yes, on) is traced;
            None turns the rule off.
    paths:  glob patterns ("/orders/*") matched against the whole path, or regular
            expressions (a compiled pattern, or a string starting with "re:") searched in it.
    rate:   the fraction of the other requests traced at random (0 = none, 1 = all).
    """

    header: str | None = DEFAULT_HEADER
    paths: tuple[PathPattern, ...] = ()
    rate: float = 0.0
    random: Callable[[], float] = field(default=random.random, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.paths, (str, re.Pattern)):
            self.paths = (self.paths,)
        self.paths = tuple(self.paths)
        if not 0.0 <= float(self.rate) <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, not {self.rate!r}")
        self._header_key = self.header.lower() if self.header else None
        self._matchers = [_matcher(p) for p in self.paths]

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
        if header_value is not None and header_value.strip().lower() in TRUE_VALUES:
            return "header"
        for m in self._matchers:
            if m(path):
                return "path"
        if self.rate and (self.rate >= 1.0 or self.random() < self.rate):
            return "rate"
        return None

    @property
    def active(self) -> bool:
        """False when no rule can ever match (then the middleware only passes requests through)."""
        return bool(self._header_key or self._matchers or self.rate)


def _matcher(pattern: PathPattern) -> Callable[[str], bool]:
    if isinstance(pattern, re.Pattern):
        return lambda path: pattern.search(path) is not None
    if not isinstance(pattern, str):
        raise TypeError(f"a path pattern is a glob string, 're:<regex>' or a compiled regex, not {type(pattern).__name__}")
    if pattern.startswith("re:"):
        rx = re.compile(pattern[3:])
        return lambda path: rx.search(path) is not None
    return lambda path: fnmatch.fnmatchcase(path, pattern)


def selection_from(header: str | None = DEFAULT_HEADER, paths: Iterable[PathPattern] | PathPattern = (),
                   rate: float = 0.0, selection: Selection | None = None) -> Selection:
    if selection is not None:
        return selection
    if isinstance(paths, (str, re.Pattern)):
        paths = (paths,)
    return Selection(header=header, paths=tuple(paths), rate=rate)
