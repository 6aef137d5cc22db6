"""What counts as a secret: secret names, secret-looking values, and the secrets seen so far in the run.

Used by the Summariser (summarise.py); the rules are described in docs/safety.md.

- Names: built-in words of 4 or fewer letters ("pw", "pin", "key") match a whole part of the name
  (snake_case, camelCase, kebab-case parts; a plural "s" allowed), longer words match anywhere in
  the name with separators removed. Words the user adds match anywhere in the lower-cased name.
- Values: bounded regular expressions (every repetition has an upper bound, so a scan costs at
  most a constant per character); callers scan only what they write plus a margin.
- Known secrets: every value redacted once is remembered (up to KNOWN_LIMIT, as its first
  KNOWN_PREFIX characters) and found again in any later text with one regular expression built
  as a trie, rebuilt in growing batches.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading

# Bound at import, before the program runs: a builtin the program replaces is never called here.
from builtins import bytearray, bytes, issubclass, len, set, sorted, str, tuple, type
from collections.abc import Iterable, Iterator
from typing import Any

REDACTED = "<redacted>"
_lower = str.lower  # the C method, also for a str subclass's value


def plain(text: str) -> str:
    """An exact str with text's characters: a str subclass's own methods are user code."""
    return text if type(text) is str else str.__str__(text)


# -- names ---------------------------------------------------------------------------------
DEFAULT_SECRET_NAMES = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "pw",
    "pass",
    "token",
    "secret",
    "key",
    "apikey",
    "accesskey",
    "privatekey",
    "auth",
    "authorization",
    "authorisation",
    "credential",
    "cookie",
    "session",
    "jwt",
    "private",
    "signature",
    "otp",
    "pin",
    "cvc",
    "cvv",
    "ssn",
    "card_number",
    "credit_card",
    "dsn",
    "conn_str",
    "connection_string",
)
SHORT_WORD = 4  # built-in words this long or shorter match whole name parts only
# Matching only these redacts in place but does not make the value a known secret: `key` names
# dictionary, cache and sort keys far more often than cryptographic keys.
WEAK_WORDS = frozenset({"key"})
# Function and property names: these words name objects or flags more often than secrets
# (get_session(), private_key_path is caught by "privatekey"), so they do not make a callable secret.
NOT_FOR_CALLABLES = frozenset({"key", "session", "private", "auth", "pass", "signature"})
# ...and these long words match only whole parts in callable names (tokenize(), tokenizer()).
PARTS_ONLY_FOR_CALLABLES = frozenset({"token", "secret", "cookie"})

_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

NONE, WEAK, STRONG = 0, 1, 2


def _norm(word: str) -> str:
    return _NOT_ALNUM.sub("", word.lower())


class NameRules:
    """Is this argument, key, header, function or property name a secret's name?"""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        builtin = {_norm(w) for w in DEFAULT_SECRET_NAMES if _norm(w)}
        self.short = frozenset(w for w in builtin if len(w) <= SHORT_WORD)
        self.long = tuple(sorted(w for w in builtin if len(w) > SHORT_WORD))
        self.long_re = re.compile("|".join(self.long))
        user = sorted({w.lower() for w in user_words if w} - set(DEFAULT_SECRET_NAMES))
        self.user_re = re.compile("|".join(re.escape(w) for w in user)) if user else None
        callable_long = [w for w in self.long if w not in NOT_FOR_CALLABLES and w not in PARTS_ONLY_FOR_CALLABLES]
        self.callable_long_re = re.compile("|".join(callable_long))
        self.callable_parts = (self.short | PARTS_ONLY_FOR_CALLABLES) - NOT_FOR_CALLABLES
        self._cache: dict[str, int] = {}
        self._callable_cache: dict[str, bool] = {}

    def level(self, name: str) -> int:
        """NONE, WEAK (redact, do not remember the value) or STRONG."""
        hit = self._cache.get(name)
        if hit is None:
            hit = self._level(name[:256])  # a name, not a text: a huge dict key is judged by its start
            if len(self._cache) < 10_000:
                self._cache[name] = hit
        return hit

    def _level(self, name: str) -> int:
        if self.user_re is not None and self.user_re.search(name.lower()):
            return STRONG
        words = set(self.long_re.findall(_norm(name)))
        for part in _PARTS.findall(name):
            part = part.lower()
            if part in self.short:
                words.add(part)
            elif part[-1:] == "s" and part[:-1] in self.short:
                words.add(part[:-1])
        if not words:
            return NONE
        return WEAK if words <= WEAK_WORDS else STRONG

    def secret_callable(self, qualname: str) -> bool:
        """A function or property whose return (or yielded) values are secrets: get_password(),
        settings.database_password, load_api_key(). Stricter than argument names (see NOT_FOR_CALLABLES)."""
        hit = self._callable_cache.get(qualname)
        if hit is None:
            name = qualname.rsplit(".", 1)[-1]
            hit = bool(self.user_re is not None and self.user_re.search(name.lower())) or bool(
                self.callable_long_re.search(_norm(name))
            )
            if not hit:
                for part in _PARTS.findall(name):
                    part = part.lower()
                    if part in self.callable_parts or (part[-1:] == "s" and part[:-1] in self.callable_parts):
                        hit = True
                        break
            if len(self._callable_cache) < 10_000:
                self._callable_cache[qualname] = hit
        return hit


# -- values --------------------------------------------------------------------------------
# (label, pattern, triggers, requires). Every repetition is bounded, so a search costs at most a constant per
# character scanned. (?P<v>...) marks the secret part of a match: what is remembered and what
# scrub_text() replaces. A pattern runs only on a text whose lower-cased form holds one of its
# triggers (one gate search finds them) and that holds one of its required characters, if any:
# ordinary text costs a single pass.
_B64URL = "[A-Za-z0-9_-]"
_VALUE_PATTERNS = (
    # a JWT starts a token (the lookbehind): one attempt per run of base64url characters, not one per "eyJ"
    ("jwt", rf"(?<![A-Za-z0-9_-])eyJ{_B64URL}{{8,512}}\.(?:eyJ|{_B64URL}{{8,512}}\.{_B64URL}{{4}})", ("eyj",), ()),
    ("bearer", r"(?i:\bbearer\s{1,8}(?P<v>[A-Za-z0-9._~+/=-]{8,512}))", ("bearer",), ()),
    ("basic", r"(?i:\bbasic\s{1,8}(?P<v>[A-Za-z0-9+/]{8,512}={0,2}))", ("basic",), ()),  # checked: base64 of "user:pw"
    ("aws", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", ("akia", "asia"), ()),
    ("private_key", r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----", ("private key",), ()),
    ("url_password", r"\b[A-Za-z][A-Za-z0-9+.-]{0,31}://[^/\s:@]{0,256}:(?P<v>[^/\s@]{1,256})@", ("://",), ("@",)),
    (
        "assignment",
        r"(?i:(?<![A-Za-z])(?:password|passwd|pwd|passphrase|secret|api[_-]?key|access[_-]?token)"
        r"['\"]?\s{0,4}[=:]\s{0,4}['\"]?(?P<v>[^\s&;'\",<>]{3,256}))",
        ("pass", "pwd", "secret", "api", "access"),
        ("=", ":"),
    ),
    (
        "github",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        (),
    ),
    ("slack", r"\bxox[abposr]-[A-Za-z0-9-]{10,255}", ("xox",), ()),
    ("stripe", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,255}", ("k_live_", "k_test_"), ()),
    ("google", r"\bAIza[0-9A-Za-z_-]{35}", ("aiza",), ()),
)
_SHORTEST_MATCH = 7  # "pwd=abc": shorter texts match no pattern
PRIVATE_KEY_MARK = "PRIVATE KEY"
VALUE_RES = tuple(re.compile(pattern) for _, pattern, _, _ in _VALUE_PATTERNS)
_HAS_V = tuple("(?P<v>" in pattern for _, pattern, _, _ in _VALUE_PATTERNS)
_LABELS = tuple(label for label, _, _, _ in _VALUE_PATTERNS)
_REQUIRES = tuple(requires for _, _, _, requires in _VALUE_PATTERNS)
_BY_TRIGGER: dict[str, tuple[int, ...]] = {}
for _i, _triggers in enumerate(triggers for _, _, triggers, _ in _VALUE_PATTERNS):
    for _t in _triggers:
        _BY_TRIGGER[_t] = (*_BY_TRIGGER.get(_t, ()), _i)


def _is_basic_credentials(token: str) -> bool:
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in raw and raw.isascii()


def value_matches(text: str) -> Iterator[tuple[str, int, int, str]]:
    """(label, start, end, piece) for each secret-looking piece of text, pattern by pattern; start
    and end delimit the secret part (the token after "Bearer ", the password of a URL...)."""
    if len(text) < _SHORTEST_MATCH:
        return
    found = _GATE.findall(_lower(text))
    if not found:
        return
    for i in sorted({i for t in found for i in _BY_TRIGGER[t]}):
        requires = _REQUIRES[i]
        if requires and not any(c in text for c in requires):
            continue
        has_v = _HAS_V[i]
        for m in VALUE_RES[i].finditer(text):
            piece = m.group("v") if has_v else m.group(0)
            if _LABELS[i] == "basic" and not _is_basic_credentials(piece):
                continue
            yield _LABELS[i], m.start("v") if has_v else m.start(), m.end("v") if has_v else m.end(), piece


# -- known secrets -----------------------------------------------------------------------------
KNOWN_MIN = 8  # shorter values are not remembered (too many false hits: "admin", "123456")
KNOWN_PREFIX = 64  # a value is remembered by its first 64 characters
KNOWN_LIMIT = 256  # values remembered per run; later ones are still redacted where found, not remembered
# Values added since the last rebuild of the matcher are checked one by one (str.__contains__); once
# there are _BATCH of them, or a quarter of all, the matcher is rebuilt: about 12 rebuilds up to the limit.
_BATCH = 8
_PLAIN_WORD = re.compile(r"[a-z_]+")
_EXTEND = re.compile(r"[^\s'\"]*")


# A text shorter than this matches no value pattern and holds no known secret: only the user's patterns can find one.
SHORTEST_SECRET = min(_SHORTEST_MATCH, KNOWN_MIN)


def worth_remembering(text: str) -> bool:
    """Long enough, and not a plain lower-case word or identifier (those are everywhere)."""
    return len(text) >= KNOWN_MIN and _PLAIN_WORD.fullmatch(text) is None


class KnownSecrets:
    """The secret strings seen so far; find() looks for any of them in a text."""

    def __init__(self) -> None:
        self._all: dict[str, None] = {}
        self._re: re.Pattern[str] | None = None
        self._pending: tuple[str, ...] = ()
        self._lock = threading.RLock()  # a signal handler may summarise while this thread holds it
        self.full = False  # KNOWN_LIMIT reached
        self.version = 0  # grows with every value added: a text found clean before may hold it now

    def __len__(self) -> int:
        return len(self._all)

    def add(self, text: str) -> None:
        text = text[:KNOWN_PREFIX]
        if text in self._all or not worth_remembering(text):
            return
        with self._lock:
            if len(self._all) >= KNOWN_LIMIT:
                self.full = True
                return
            self._all[text] = None
            self._pending = (*self._pending, text)
            self.version += 1

    def find(self, text: str) -> bool:
        if not self._all or len(text) < KNOWN_MIN:
            return False
        r = self._re
        if r is not None and r.search(text) is not None:
            return True
        pending = self._pending
        for s in pending:
            if s in text:
                return True
        if len(pending) >= _BATCH and len(pending) >= len(self._all) >> 2:
            self._rebuild()
        return False

    def scrub(self, text: str) -> str:
        """text with every known secret (and the rest of the word it starts) replaced by <redacted>."""
        if not self._all or len(text) < KNOWN_MIN:
            return text
        if self._pending:
            self._rebuild()
        r = self._re
        if r is None:
            return text
        out, pos = [], 0
        for m in r.finditer(text):
            if m.start() < pos:
                continue
            out.append(text[pos : m.start()])
            out.append(REDACTED)
            ext = _EXTEND.match(text, m.end())  # `[...]*`: always matches (maybe nothing)
            pos = ext.end() if ext is not None else m.end()
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)

    def _rebuild(self) -> None:
        with self._lock:
            pending = self._pending
            if not pending:
                return
            r = re.compile(trie_regex(self._all))  # holds at least everything in pending
            self._re = r
            self._pending = self._pending[len(pending) :]  # added meanwhile (a signal handler's call)


def trie_regex(words: Iterable[str]) -> str:
    """One regular expression matching any of words, shaped as a prefix tree so that a search
    tries one branch per character instead of every word; a word that has another word as a prefix
    is left out (finding the shorter one is enough)."""
    root: dict[str, Any] = {}  # a prefix tree: character -> subtree; "" -> True ends a word
    for w in sorted(set(words), key=len):
        node = root
        for ch in w:
            if "" in node:
                break
            node = node.setdefault(ch, {})
        else:
            node.clear()
            node[""] = True
    return _emit(root)


def _emit(node: dict[str, Any]) -> str:
    if "" in node:
        return ""
    branches = []
    for ch, child in sorted(node.items()):
        # a chain of single children becomes one literal
        text = ch
        while "" not in child and len(child) == 1:
            ((nxt, child),) = child.items()
            text += nxt
        branches.append(re.escape(text) + _emit(child))
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


_GATE = re.compile(trie_regex(_BY_TRIGGER))  # the triggers of every value pattern, in one pass


def private_key_lines(text: str) -> list[str]:
    """The body lines of a private key block in text (what to remember of it), at most 64."""
    start = text.find(PRIVATE_KEY_MARK)
    if start < 0:
        return []
    lines = []
    for line in text[start : start + 8192].splitlines()[1:65]:
        line = line.strip()
        if line.startswith("-----END"):
            break
        lines.append(line)
    return lines


# -- the redactor ------------------------------------------------------------------------------
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,100}")  # NAME=value words (environment-style assignments)
# Skeleton's own options name words and patterns, not secrets: kept so that `invocation` reproduces the run.
_OWN_OPTIONS = frozenset({"secret-name", "secret-pattern", "skeleton-secret-name", "skeleton-secret-pattern"})
_LEARN_WINDOW = 4096  # of a bytes value, what is decoded to be remembered


class Redactor:
    """Names, value patterns and known secrets of one run (the Summariser's redaction half)."""

    def __init__(self, secret_names: Iterable[str] = DEFAULT_SECRET_NAMES, extra_patterns: Iterable[str] = ()) -> None:
        self.names = NameRules(secret_names)
        # Each compiled on its own: a user's pattern may carry inline flags or groups of its own.
        self.extra = tuple(re.compile(p) for p in extra_patterns)
        self.known = KnownSecrets()

    def learn(self, value: Any) -> None:
        """Remember a str/bytes value as a known secret (values too short or too plain are not);
        of a private key block, its body lines too."""
        t = type(value)
        if t is bytes or t is bytearray:
            value = bytes(value[:_LEARN_WINDOW]).decode("latin-1")
        elif issubclass(t, str):
            value = plain(value)
        else:
            return
        self.known.add(value)
        if PRIVATE_KEY_MARK in value[:_LEARN_WINDOW]:
            for line in private_key_lines(value):
                self.known.add(line)

    def scan(self, text: str, whole: str | None = None) -> bool:
        """Patterns, the user's patterns, then known secrets, over all of text (callers bound it).
        whole: the value text was cut from (to remember a private key's body lines)."""
        if type(text) is not str:
            text = str.__str__(text)  # plain(text)
        # Most strings a program passes are short or hold no pattern's trigger: no generator for those
        if len(text) >= _SHORTEST_MATCH and _GATE.search(_lower(text)) is not None:
            for label, _, _, piece in value_matches(text):
                self.learn(piece if label != "private_key" else whole or text)
                return True
        for r in self.extra:
            m = r.search(text)
            if m is not None:
                self.learn(m.group(0))
                return True
        known = self.known
        return known.find(text) if known._all else False

    def scrub_text(self, text: str) -> str:
        text = plain(text)
        spans = sorted((start, end, piece) for _, start, end, piece in value_matches(text))
        if spans:
            out: list[str] = []
            pos = 0
            for start, end, piece in spans:
                if start < pos:  # overlaps a piece already replaced
                    continue
                self.learn(piece)
                out += (text[pos:start], REDACTED)
                pos = end
            text = "".join(out) + text[pos:]
        for r in self.extra:
            text = r.sub(REDACTED, text)
        return self.known.scrub(text)

    def redact_argv(self, argv: Iterable[str]) -> list[str]:
        out: list[str] = []
        hide_next = NONE  # the previous word was a secret-named option: its value follows
        for word in argv:
            word = plain(word)
            if hide_next:
                level, hide_next = hide_next, NONE
                if not word.startswith("-") or word == "-":
                    if level == STRONG:
                        self.learn(word)
                    out.append(REDACTED)
                    continue
            name, eq, rest = word.partition("=")
            flag = name.startswith("-") and len(name.lstrip("-")) > 1  # -p alone is too ambiguous (--port?)
            level = self._option_level(name) if flag or (eq and _ENV_NAME.fullmatch(name)) else NONE
            if eq and level:
                if level == STRONG:
                    self.learn(rest)
                out.append(f"{name}={REDACTED}")
                continue
            if flag and not eq:
                hide_next = level
            out.append(REDACTED if self.scan(word) else word)
        return out

    def _option_level(self, name: str) -> int:
        name = name.lstrip("-")
        return NONE if name in _OWN_OPTIONS else self.names.level(name)
