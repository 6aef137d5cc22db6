"""Patterns that pick nodes of a snapshot: module globs (the default), class:GLOB and id:GLOB.

- `shop.services` or `shop.services.*`: a glob on the node's dotted module (fnmatch rules, case-sensitive;
  `*` also crosses dots). A pattern also covers the submodules of what it matches, so `shop.services`
  covers `shop.services.orders`, as a layer in import-linter does.
- `class:GLOB`: nodes of a class (instances, the class actor, their methods): GLOB is matched against
  `<module>.<ClassQualname>` and against the bare `<ClassQualname>`.
- `id:GLOB`: the node id itself (`id:fn:shop.util:*`, `id:meth:shop.adapters.storage.FileStorage#1.*`).

The scenario node (`scenario:run`, the source of root calls) only ever matches an `id:` pattern.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

PREFIXES = ("module", "class", "id")
_SPACE = re.compile(r"\s")


class PatternError(ValueError):
    """A pattern that cannot be used; the message says what to write instead."""


@dataclass(frozen=True)
class Pattern:
    text: str  # as written in the rule file
    kind: str  # module | class | id
    glob: str
    _regex: re.Pattern[str] = field(compare=False, repr=False)
    _below: re.Pattern[str] | None = field(compare=False, repr=False)  # module patterns: submodules of a match

    def matches(self, node: dict[str, Any]) -> bool:
        if self.kind == "id":
            return self._regex.match(node.get("id") or "") is not None
        if node.get("kind") == "scenario":
            return False
        module = node.get("module") or ""
        if self.kind == "module":
            return bool(module) and (
                self._regex.match(module) is not None
                or (self._below is not None and self._below.match(module) is not None)
            )
        cls = node.get("class_name")
        if not isinstance(cls, str) or not cls:
            return False
        return self._regex.match(f"{module}.{cls}" if module else cls) is not None or self._regex.match(cls) is not None

    @property
    def specificity(self) -> int:
        """Longer patterns are more specific: `shop.domain` wins over `shop` where both match."""
        return len(self.glob) - self.glob.count("*") - self.glob.count("?")


def parse(text: object) -> Pattern:
    """A Pattern from its text; PatternError (with what to write instead) when it cannot be one."""
    if not isinstance(text, str):
        raise PatternError(f"a pattern must be a string, not {text!r}")
    if not text.strip():
        raise PatternError("a pattern is empty; write a module glob such as 'shop.domain' or 'shop.*.memory'")
    if _SPACE.search(text):
        raise PatternError(
            f"pattern {text!r} contains spaces; write one module glob per string "
            '(several patterns of one layer go in a list: ["shop.a", "shop.b"])'
        )
    kind, glob = "module", text
    if ":" in text:
        prefix, rest = text.split(":", 1)
        if prefix not in PREFIXES:
            raise PatternError(
                f"pattern {text!r} starts with an unknown prefix {prefix + ':'!r}; write a module "
                "glob (shop.domain.*), class:GLOB, or id:GLOB to match node ids such as "
                f"'id:{text}'"
            )
        kind, glob = prefix, rest
        if not glob:
            raise PatternError(f"pattern {text!r} has nothing after {prefix + ':'!r}; add a glob")
    if kind == "module" and ":" in glob:
        raise PatternError(
            f"module pattern {text!r} contains ':'; module names are dotted (use id:{glob} to match node ids)"
        )
    regex = re.compile(fnmatch.translate(glob))
    below = re.compile(fnmatch.translate(glob + ".*")) if kind == "module" else None
    return Pattern(text, kind, glob, regex, below)
