"""Markdown-safe program text for workflow.md: the only way program-derived strings enter the file.

Program text (names, messages, paths, values, test ids, thread names, request paths, ...) is
untrusted: it must never become Markdown structure (headings, lists, quotes, tables, code fences),
raw HTML, links or images, and must never swallow the text around it. Two forms:

- `code(s)`: an inline code span, fenced with more backticks than any run inside it (and padded
  when it starts or ends with a backtick or a space), so it always ends where we end it. Nothing
  inside a code span is Markdown or HTML (CommonMark), so `<` stays readable (`<locals>`,
  `<redacted str len=8>`). For ids and values.
- `text(s)`: plain text with backslashes doubled where they would escape something, `` ` ``, `[`,
  `]` and `|` backslash-escaped, every `<` written `&lt;` and every `&` that would start an entity
  written `&amp;`, and a leading `#`, `>`, `-`, `+`, `=`, `*`, `_`, `~` or `1.` escaped. For prose:
  messages, thread names, titles. Emphasis characters elsewhere (`*`, `_`, `~`) are left alone: at
  worst they change emphasis, never structure, and snake_case stays readable.

Both: line breaks and every other non-printable character (controls, U+2028/9, bidi overrides,
zero-width characters) become visible escapes (`\\n`, `\\x1b`, `\\u202e`), so one value is always one
line; and the text is capped (`…` marks a cut) before it is escaped.
"""

from __future__ import annotations

import re

TEXT_LIMIT = 200
CODE_LIMIT = 300

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BACKTICKS = re.compile(r"`+")
_PLAIN = re.compile(r"[`\[\]|<]|&(?=#?[0-9A-Za-z]+;)")
_PLAIN_SUB = {"`": "\\`", "[": "\\[", "]": "\\]", "|": "\\|", "<": "&lt;", "&": "&amp;"}
_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~]|$)")  # one that would escape what follows (or us)
_LEADING = re.compile(r"([#>+=*_~-]|\d{1,9}[.)](?= |$))")


def visible(s: str) -> str:
    """Non-printable characters as escapes, like repr() does (`\\n`, `\\x00`, `\\u2028`)."""
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else _escape(c) for c in s)


def _escape(c: str) -> str:
    if c in _NAMED:
        return _NAMED[c]
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def clip(s: object, limit: int) -> str:
    s = "" if s is None else str(s)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def text(s: object, limit: int = TEXT_LIMIT) -> str:
    """Program text as inert plain Markdown on one line."""
    s = _BACKSLASH.sub(r"\\\\", clip(s, limit))
    s = _PLAIN.sub(lambda m: _PLAIN_SUB[m.group()[0]], visible(s))
    m = _LEADING.match(s)
    if m:  # could open a heading, quote, list or setext underline at the start of a block
        s = s[: m.end() - 1] + "\\" + s[m.end() - 1 :]
    return s


def code(s: object, limit: int = CODE_LIMIT) -> str:
    """Program text as one inline code span that cannot end early."""
    s = visible(clip(s, limit))
    if not s:
        return "` `"
    runs = _BACKTICKS.findall(s)
    fence = "`" * (max(map(len, runs)) + 1 if runs else 1)
    pad = " " if s[0] in "` " or s[-1] in "` " else ""
    return f"{fence}{pad}{s}{pad}{fence}"
