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
