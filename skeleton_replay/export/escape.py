"""Program-derived text (module, class and function names, test ids) made inert for each diagram
language. Names come from the traced program and can hold anything: quotes, brackets, newlines,
`-->`, `}`, `@enduml`, HTML. Each function returns text that can only be the content of one
quoted label on one line:

- the text is capped (LABEL_LIMIT, `…` marks a cut) and made one line: line breaks and other
  non-printable characters become visible escapes (`\\n`, `\\x1b`), as in workflow.md;
- Mermaid: every character outside letters, digits and ` _.,:/=+?@()-` becomes an entity code
  (`#34;` for `"`), which Mermaid renders as the character;
- DOT: `\\` and `"` are backslash-escaped and `&` becomes `&amp;` (Graphviz reads entities in labels);
- PlantUML: every character outside letters, digits, ` ,:?()` and a lone `_`, `-`, `.` or `/`
  becomes `<U+XXXX>`, so no Creole markup (`**`, `--`, `__`, `//`, `~~`, `""`, `= heading`, `[[`), HTML tag,
  preprocessor `!`/`$`/`%`, `@` or backslash escape can start.
"""

from __future__ import annotations

import re

from ..render.md import clip, visible

LABEL_LIMIT = 80
_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 _.,:/=+?@()-]")
_PLANTUML_SAFE = re.compile(r"[A-Za-z0-9 ,:?()]")
_PLANTUML_SINGLE = "_-./"  # safe alone (snake_case, a.b, a/b); doubled they are Creole (__u__, --s--, //i//)


def one_line(s: object, limit: int = LABEL_LIMIT) -> str:
    return visible(clip(s, limit))


def _letter(c: str) -> bool:
    return ord(c) > 127 and c.isalnum()


def mermaid(s: object, limit: int = LABEL_LIMIT) -> str:
    return "".join(c if _MERMAID_SAFE.fullmatch(c) or _letter(c) else f"#{ord(c)};" for c in one_line(s, limit))


def dot(s: object, limit: int = LABEL_LIMIT) -> str:
    return one_line(s, limit).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


def plantuml(s: object, limit: int = LABEL_LIMIT) -> str:
    text = one_line(s, limit)
    out = []
    for i, c in enumerate(text):
        single = c in _PLANTUML_SINGLE and text[i - 1 : i] != c and text[i + 1 : i + 2] != c
        out.append(c if single or _PLANTUML_SAFE.fullmatch(c) or _letter(c) else f"<U+{ord(c):04X}>")
    return "".join(out)


def comment(s: object, limit: int = 300) -> str:
    """Text for a one-line comment in any of the three languages: printable ASCII only."""
    return "".join(c if 32 <= ord(c) < 127 else f"\\u{ord(c):04x}" for c in one_line(s, limit))
