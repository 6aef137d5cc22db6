"""Safe summaries never call user code, stay small, and redact secrets."""
from __future__ import annotations

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from skeleton_replay.capture.summarise import Summariser

CALLS: list[str] = []


class Hostile:
    def __repr__(self):
        CALLS.append("repr")
        raise RuntimeError

    def __str__(self):
        CALLS.append("str")
        raise RuntimeError

    def __len__(self):
        CALLS.append("len")
        return 1

    def __iter__(self):
        CALLS.append("iter")
        return iter([])

    def __eq__(self, other):
        CALLS.append("eq")
        return True

    def __hash__(self):
        CALLS.append("hash")
        return 1

    def __getattr__(self, name):
        CALLS.append("getattr " + name)
        raise AttributeError(name)

    @property
    def __class__(self):
        CALLS.append("class")
        return int


class MyList(list):
    def __len__(self):
        CALLS.append("len")
        return 0


class MyDict(dict):
    def items(self):
        CALLS.append("items")
        return []


def test_no_user_code_called():
    CALLS.clear()
    s = Summariser()
    values = [Hostile(), MyList([1, 2]), MyDict(a=1), [Hostile()], {"k": Hostile()}, (Hostile(),), {1, 2},
              deque([Hostile()]), type(Hostile()), iter([1, 2])]
    out = [s.value(v) for v in values]
    assert CALLS == []
    assert out[0]["type"].endswith("Hostile") and "id" in out[0]
    assert out[1]["type"].endswith("MyList") and "items" not in out[1], "a list subclass is an object"
    assert out[2]["type"].endswith("MyDict")


def test_generator_not_advanced():
    def gen():
        yield 1
        raise AssertionError("advanced")
    g = gen()
    Summariser().value(g)
    assert next(g) == 1


def test_truncation_and_recursion():
    s = Summariser()
    big = "x" * 1000
    assert s.value(big) == {"type": "str", "value": "x" * 80, "len": 1000, "truncated": True}
    loop: list = [1]
    loop.append(loop)
    out = s.value(loop)
    assert out["len"] == 2 and out["items"][1]["truncated"] is True
    assert s.value(10**5000)["truncated"] is True
    assert s.value(b"\x00" * 100)["len"] == 100


def test_redaction_by_name_and_value():
    s = Summariser()
    assert s.value("s3cr3t", "db_password") == {"type": "str", "redacted": True, "len": 6}
    assert s.value({"api_key": "abc", "name": "x"})["entries"][0][1]["redacted"] is True
    for secret in ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk", "Bearer abcdef123456789",
                   "AKIAABCDEFGHIJKLMNOP", "-----BEGIN RSA PRIVATE KEY-----\nMII", "postgres://u:pw@host/db",
                   "ghp_" + "a" * 36]:
        out = s.value(secret)
        assert out["redacted"] is True and "value" not in out, secret
    assert Summariser(secret_names=("ssn",)).value("1", "user_ssn")["redacted"] is True


values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
                      lambda c: st.lists(c) | st.dictionaries(st.text(), c) | st.tuples(c, c) | st.frozensets(st.integers()),
                      max_leaves=40)


@settings(max_examples=200, deadline=None)
@given(values)
def test_any_value_summarises_small(v):
    import orjson
    out = Summariser().value(v)
    assert len(orjson.dumps(out)) < 8_000


def test_metaclass_hooks_and_properties_not_called_while_tracing(tmp_path):
    """A traced program whose classes have hostile metaclasses and properties runs untouched."""
    from conftest import skeleton
    script = tmp_path / "meta.py"
    script.write_text('''
calls = []
class Meta(type):
    def __hash__(cls):
        calls.append("hash")
        return 1
    def __eq__(cls, other):
        calls.append("eq")
        return cls is other
    def __repr__(cls):
        calls.append("repr")
        return "Meta"
class Widget(metaclass=Meta):
    @property
    def name(self):
        calls.append("property")
        return "w"
    def __repr__(self):
        calls.append("repr")
        return "W"
    def run(self, other):
        return other
    @classmethod
    def build(cls):
        return cls()
def main():
    w = Widget.build()
    for _ in range(60):
        Widget().run(w)
    print(calls)
main()
''')
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(tmp_path / "o"), str(script))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_exception_with_one_non_string_argument_shows_that_value():
    s = Summariser()
    assert s.exception(SystemExit(0))["message"] == {"type": "int", "value": 0}
    assert s.exception(KeyError("k"))["message"] == {"type": "str", "value": "k"}
    assert s.exception(ValueError(1, 2))["message"]["type"] == "tuple"


# -- known secrets: a value redacted once is redacted wherever it shows up again ----------------

def test_a_redacted_value_is_redacted_in_later_strings():
    s = Summariser()
    assert s.value("tok_93a7f1c2xyz", "token")["redacted"] is True
    # an exception message, a return value, a yielded value, another argument under an innocent name
    assert s.exception(ValueError("bad token tok_93a7f1c2xyz"))["message"]["redacted"] is True
    assert s.value("Token tok_93a7f1c2xyz")["redacted"] is True
    assert s.value("tok_93a7f1c2xyz", "x")["redacted"] is True
    assert s.value(["ok", {"k": "=tok_93a7f1c2xyz="}])["items"][1]["entries"][0][1]["redacted"] is True
    assert s.value(b"tok_93a7f1c2xyz")["redacted"] is True
    assert s.value("an innocent string") == {"type": "str", "value": "an innocent string"}


def test_known_secrets_skip_short_and_plain_values_and_weak_names():
    s = Summariser()
    s.value("1234", "pin")  # too short to hunt for
    s.value("function", "token")  # a plain word (a lexer's token)
    s.value("WIDGET-1", "key")  # `key` names dictionary keys far more often than secrets
    for text in ("pin 1234", "function name", "WIDGET-1 in stock"):
        assert "redacted" not in s.value(text), text
    assert len(s.known) == 0


def test_known_secrets_found_with_many_of_them():
    s = Summariser()
    secrets = [f"{chr(65 + i % 26)}ecret-{i:04d}-{i * 7919 % 10007:05d}" for i in range(200)]
    for i, secret in enumerate(secrets):
        s.value(secret, "password")
        if i % 37 == 0:  # searches between additions: the matcher is rebuilt in batches
            assert s.value("nothing here at all")["type"] == "str"
    assert len(s.known) == 200
    for secret in secrets[::13]:
        assert s.value(f"x {secret} y")["redacted"] is True, secret
    assert "redacted" not in s.value("secret-9999-00000")


def test_known_secrets_are_bounded():
    from skeleton_replay.capture.redact import KNOWN_LIMIT
    s = Summariser()
    for i in range(KNOWN_LIMIT + 50):
        s.value(f"passw0rd-{i:06d}", "password")
    assert len(s.known) == KNOWN_LIMIT and s.known.full
    assert s.value(f"passw0rd-{KNOWN_LIMIT + 10:06d}", "password")["redacted"] is True  # still redacted by name


def test_scrub_text_replaces_only_the_secret():
    s = Summariser()
    s.value("HUNTER2-horse-battery", "password")
    text = "AssertionError: assert {'user': 'ada', 'password': 'HUNTER2-horse-battery'} == {}"
    assert s.scrub_text(text) == "AssertionError: assert {'user': 'ada', 'password': '<redacted>'} == {}"
    assert s.scrub_text("login with Bearer abcdef123456 failed") == "login with Bearer <redacted> failed"
    assert s.scrub_text("nothing to hide") == "nothing to hide"
    assert s.value("abcdef123456", "x")["redacted"] is True  # what scrub_text found is known too


# -- names -----------------------------------------------------------------------------------

def test_short_words_match_whole_name_parts_long_words_anywhere():
    s = Summariser()
    for name in ("pw", "new_pw", "pass", "db_pass", "passphrase", "otp", "user_pin", "pinCode", "PIN", "cvc",
                 "signature", "conn_str", "connStr", "dsn", "sentry_dsn", "api_key", "apiKey", "APIKEY", "X-Api-Key",
                 "keys", "authorization", "basic_auth", "db_password", "accessToken", "client_secret", "sessionid"):
        assert s.secret_name(name), name
    for name in ("compass", "spinner", "shipping", "footprint", "monkey", "keyboard", "bypass", "passenger",
                 "author", "pinned", "topology", "user", "name", "description"):
        assert not s.secret_name(name), name
    # words the user adds match anywhere in the name, as documented for --secret-name
    assert Summariser(secret_names=("flav",)).secret_name("flavour")


def test_secret_callables():
    s = Summariser()
    for name in ("get_password", "Settings.database_password", "load_api_key", "get_private_key", "getToken",
                 "refresh_token", "read_secret", "otp", "get_pin", "cookie_value", "db_dsn"):
        assert s.secret_callable(name), name
    for name in ("get_session", "key_of", "tokenize", "Lexer.tokenizer", "private_helper", "author", "signature",
                 "compass", "spinner", "main"):
        assert not s.secret_callable(name), name


def test_secret_result_redacts_data_keeps_objects():
    s = Summariser()

    class Session:
        pass

    assert s.secret_result("hunter2-correct")["redacted"] is True
    assert s.secret_result({"a": 1}) == {"type": "dict", "redacted": True}
    assert s.secret_result(4242)["redacted"] is True
    assert s.secret_result(None) == {"type": "None"} and s.secret_result(True) == {"type": "bool", "value": True}
    obj = s.secret_result(Session())
    assert obj["type"].endswith("Session") and "id" in obj and "redacted" not in obj
    assert s.value("x hunter2-correct")["redacted"] is True  # the returned secret is known


# -- value formats -----------------------------------------------------------------------------

def test_more_secret_formats():
    s = Summariser()
    for secret in ["github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
                   "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "rk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
                   "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc", "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
                   "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF", "-----BEGIN OPENSSH PRIVATE KEY-----",
                   "Authorization: Basic dXNlcjpwYXNzd29yZA==", "host=db user=app password=s3cr3t dbname=x",
                   "Server=db;Uid=app;Pwd=s3cr3t;", "redis://:s3cr3tpass@cache:6379/0",
                   "{'user': 'ada', 'password': 'hunter2'}"]:
        out = s.value(secret)
        assert out.get("redacted") is True and "value" not in out, secret
    for text in ["Basic settings are fine", "Basic usage: see docs", "sk_test_demo", "password: ", "a://b@c",
                 "the password is required"]:
        assert "redacted" not in s.value(text), text


def test_private_key_lines_in_a_container_are_redacted():
    s = Summariser()
    lines = ["-----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA7secretpemline1", "Zm9vYmFyYmF6cXV4secretline2",
             "-----END RSA PRIVATE KEY-----"]
    out = s.value(lines)
    assert all(item["redacted"] for item in out["items"])
    assert s.value(("header", *lines))["items"][0] == {"type": "str", "value": "header"}
    assert s.value(dict(enumerate(lines)))["entries"][2][1]["redacted"] is True
    assert s.value([line.encode() for line in lines])["items"][3]["redacted"] is True
    assert s.value("then Zm9vYmFyYmF6cXV4secretline2 alone")["redacted"] is True  # the body lines are known


# -- bounded scanning --------------------------------------------------------------------------

def test_only_what_is_written_is_scanned():
    from skeleton_replay.capture.summarise import SCAN_MARGIN, STR_LIMIT
    s = Summariser()
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    after = "x" * (STR_LIMIT + SCAN_MARGIN) + " " + token  # never shown: not scanned
    assert s.value(after) == {"type": "str", "value": "x" * STR_LIMIT, "len": len(after), "truncated": True}
    crossing = "x" * (STR_LIMIT - 5) + " " + token + " " + "y" * 5000  # starts before the cut, ends after it
    assert s.value(crossing)["redacted"] is True
    s.value("hunter2-horse-battery", "password")
    assert s.value("x" * (STR_LIMIT - 1) + "hunter2-horse-battery" + "y" * 5000)["redacted"] is True
    assert "redacted" not in s.value("x" * (STR_LIMIT + SCAN_MARGIN) + "hunter2-horse-battery")



STRADDLING = ["Bearer abcdefghijklmnopqrstuvwxyz0123456789", "AKIAABCDEFGHIJKLMNOP",
              "postgres://app:s3cr3t-pass@db.internal:5432/shop",
              "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk",
              "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "-----BEGIN RSA PRIVATE KEY-----"]


def test_a_secret_across_the_cut_is_redacted_wherever_it_starts_before_it():
    """Shown text ends at STR_LIMIT; a secret that starts before that and ends after it is caught by the
    margin scanned past the cut, from its first character written to its last one."""
    from skeleton_replay.capture.summarise import STR_LIMIT
    s = Summariser()
    for secret in STRADDLING:
        for shown in (1, len(secret) // 2, len(secret) - 1):  # characters of the secret inside the written part
            text = "x " * STR_LIMIT
            text = text[:STR_LIMIT - shown] + " " + secret + " " + "filler " * 2000
            out = s.value(text)
            assert out.get("redacted") is True, (secret, shown)


def test_a_long_string_is_scanned_as_far_as_its_written_part():
    """Whatever its length, a string costs the scan of what is written plus the margin: the scanner is
    handed the same number of characters for 1 MB as for its first STR_WINDOW characters."""
    from skeleton_replay.capture.summarise import STR_WINDOW
    s = Summariser()
    scanned: list[int] = []
    real = s._scan
    s._scan = lambda text, whole=None: scanned.append(len(text)) or real(text, whole)
    text = "the quick brown fox jumps over the lazy dog " * 24000  # ~1 MB
    assert s.value(text)["len"] == len(text)
    s.value([text, {"k": text}, (text,)])
    assert scanned and max(scanned) == STR_WINDOW
    long_total = sum(scanned)
    scanned.clear()
    s2 = Summariser()
    s2._scan = lambda text, whole=None: scanned.append(len(text)) or real(text, whole)
    short = text[:STR_WINDOW]
    s2.value(short)
    s2.value([short, {"k": short}, (short,)])
    assert sum(scanned) == long_total


def test_a_text_handed_on_is_scanned_once_until_a_new_secret_is_learned():
    """A text returned by one call and passed to the next is summarised several times: its written window
    is scanned once; learning a secret forgets what was found clean (it may hold the new secret)."""
    s = Summariser()
    scanned: list[str] = []
    real = s._scan
    s._scan = lambda text, whole=None: scanned.append(text) or real(text, whole)
    text = "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor " * 60
    first = s.value(text)
    assert s.value(text) == first and s.value([text, text]) == {"type": "list", "len": 2, "items": [first, first]}
    assert len(scanned) == 1
    s.value("hunter2-horse-battery", "password")  # a known secret from now on
    leaked = text[:40] + "hunter2-horse-battery" + text
    assert s.value(leaked)["redacted"] is True
    s.value(text)
    assert len(scanned) == 3  # scanned again after the secret was learned
    # a window found clean before a secret was learned is redacted once it holds it
    s2 = Summariser()
    holder = "session notes: hunter2-horse-battery " + text
    assert "redacted" not in s2.value(holder)
    s2.value("hunter2-horse-battery", "password")
    assert s2.value(holder)["redacted"] is True


def _unbounded_repeats(pattern: str) -> list:
    try:
        from re import _parser as sre_parse  # 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse
    found = []

    def walk(items):
        for op, arg in items:
            if op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None)):
                lo, hi, sub = arg
                if hi == sre_parse.MAXREPEAT:
                    found.append((op, lo))
                walk(sub)
            elif op in (sre_parse.SUBPATTERN, sre_parse.ATOMIC_GROUP if hasattr(sre_parse, "ATOMIC_GROUP") else None):
                walk(arg[-1])
            elif op == sre_parse.BRANCH:
                for sub in arg[1]:
                    walk(sub)
            elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
                walk(arg[1])
    walk(sre_parse.parse(pattern))
    return found


def test_every_value_pattern_repetition_is_bounded():
    from skeleton_replay.capture import redact
    assert _unbounded_repeats(r"a+b{2,}") == [(_op("MAX_REPEAT"), 1), (_op("MAX_REPEAT"), 2)]  # the checker works
    for r in (*redact.VALUE_RES, redact._GATE):
        assert _unbounded_repeats(r.pattern) == [], r.pattern
    assert _unbounded_repeats(redact.trie_regex(["hunter2-horse", "hunter3-pony", "zz-top-secret"])) == []


def _op(name):
    try:
        from re import _parser as sre_parse
    except ImportError:  # pragma: no cover
        import sre_parse
    return getattr(sre_parse, name)


# -- command lines -----------------------------------------------------------------------------

def test_redact_argv_hides_secret_option_values():
    s = Summariser(secret_names=("pin",))
    argv = ["app.py", "--password", "hunter2-pass", "--api-key=AK-123456789", "-v", "--user", "ada",
            "DB_PASSWORD=s3cr3t-db", "--token", "--next", "--secret-name", "pin", "--secret-pattern", "X[0-9]+",
            "-p", "8080", "--compass", "north"]
    assert s.redact_argv(argv) == ["app.py", "--password", "<redacted>", "--api-key=<redacted>", "-v", "--user", "ada",
                                   "DB_PASSWORD=<redacted>", "--token", "--next", "--secret-name", "pin",
                                   "--secret-pattern", "X[0-9]+", "-p", "8080", "--compass", "north"]
    # the hidden values are known secrets from now on
    assert s.redact_argv(["hunter2-pass", "AK-123456789"]) == ["<redacted>", "<redacted>"]
    assert s.value("connect with hunter2-pass")["redacted"] is True


def test_redaction_entry_points_call_no_str_subclass_method():
    CALLS.clear()

    class Sneaky(str):
        def lower(self):
            CALLS.append("lower")
            return str.lower(self)

        def __contains__(self, item):
            CALLS.append("contains")
            return False

        def __getitem__(self, i):
            CALLS.append("getitem")
            return str.__getitem__(self, i)

    s = Summariser()
    s.learn(Sneaky("hunter2-correct-horse"))
    assert s.secret_value(Sneaky("x hunter2-correct-horse")) and s.secret_value(Sneaky("Bearer abcdef123456"))
    assert s.scrub_text(Sneaky("pw hunter2-correct-horse")) == "pw <redacted>"
    assert s.redact_argv([Sneaky("--password"), Sneaky("hunter3-correct-horse")]) == ["--password", "<redacted>"]
    assert s.value(Sneaky("hunter2-correct-horse"))["type"].endswith("Sneaky")  # an object, as before
    assert CALLS == []


def test_name_value_pairs_are_redacted_by_name_like_dict_entries():
    """Headers and form fields often travel as lists of pairs (WSGI-style str pairs, ASGI bytes pairs)."""
    s = Summariser()
    out = s.value([("x-api-key", "k3y-abcdef123456"), (b"authorization", b"Basic dXNlcjpwYXNz"),
                   ["accept", "text/html"], ("compass", "north")])
    api, auth, accept, compass = out["items"]
    assert api["items"][0] == {"type": "str", "value": "x-api-key"} and api["items"][1]["redacted"] is True
    assert auth["items"][1] == {"type": "bytes", "redacted": True, "len": 18}
    assert accept["type"] == "list" and accept["items"][1] == {"type": "str", "value": "text/html"}
    assert compass["items"][1] == {"type": "str", "value": "north"}
    assert s.value("k3y-abcdef123456").get("redacted") is True  # a known secret from then on
    assert "k3y-abcdef" not in str(s.value(("x", "k3y-abcdef123456", "y")))


def test_none_and_booleans_under_secret_names_are_shown_they_hide_nothing():
    s = Summariser()
    assert s.value(None, "api_key") == {"type": "None"}
    assert s.value(True, "sort_keys") == {"type": "bool", "value": True}
    assert s.value(0, "pin")["redacted"] is True  # a number can be a secret
    assert s.value("hunter22", "password")["redacted"] is True
