"""What a summary costs (issue 16): the Summariser's shortcuts and memories never change a summary.

None/True/False summaries are shared (nothing allocated), class names are remembered per class while its
__qualname__ and __module__ stay the very same objects, short strings found clean are not scanned again
until a new secret is learned. Each is checked against a fresh Summariser that has remembered nothing.
"""
from __future__ import annotations

import gc
from collections import deque
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from skeleton_replay.capture import redact, summarise
from skeleton_replay.capture.summarise import Summariser


class Thing:
    pass


def test_none_and_booleans_allocate_no_summary() -> None:
    s = Summariser()
    assert s.value(None) is s.value(None, "password") is s.value(None, "x")
    assert s.value(True) is s.value(True, "token") and s.value(False) is s.value(False)
    assert s.value(True) == {"type": "bool", "value": True} and s.value(False) == {"type": "bool", "value": False}
    assert s.value([None, True]) == {"type": "list", "len": 2, "items": [{"type": "None"}, s.value(True)]}


def test_class_names_are_read_once_per_class(monkeypatch: Any) -> None:
    calls: list[type] = []
    real = summarise.class_path

    def counting(cls: type) -> tuple[str, str]:
        calls.append(cls)
        return real(cls)

    monkeypatch.setattr(summarise, "class_path", counting)
    s = Summariser(object_id=lambda o: 7)
    for _ in range(5):
        assert s.value(Thing()) == {"type": f"{__name__}.Thing", "id": 7}
        assert s.value(iter(())) == {"type": "tuple_iterator", "id": 7}  # a static type
    assert calls.count(Thing) == 1 and calls.count(type(iter(()))) == 1


def test_a_renamed_class_is_shown_by_its_new_name() -> None:
    class Renamed:
        pass

    s = Summariser(object_id=lambda o: 1)
    obj = Renamed()
    assert s.value(obj)["type"] == f"{__name__}.test_a_renamed_class_is_shown_by_its_new_name.<locals>.Renamed"
    Renamed.__qualname__ = "Other"
    assert s.value(obj)["type"] == f"{__name__}.Other"
    Renamed.__module__ = "elsewhere"
    assert s.value(obj)["type"] == "elsewhere.Other"
    assert s.value(obj, "password") == {"type": "elsewhere.Other", "redacted": True}
    Renamed.__module__ = "__main__"
    assert s.value(obj)["type"] == "__main__.Other"
    s.main_module = "shop"  # objects of the script's classes are named after its module; redacted ones are not
    assert s.value(obj)["type"] == "shop.Other"
    assert s.value(obj, "token")["type"] == "__main__.Other"
    Renamed.__module__ = _Str("weird")  # a str subclass: its methods are user code (class_path's "?")
    assert s.value(obj)["type"] == "Other" and s.value(obj)["type"] == "Other"
    Renamed.__module__ = "back"
    assert s.value(obj)["type"] == "back.Other"


class _Str(str):
    pass


def test_new_classes_at_a_freed_class_address_get_their_own_names() -> None:
    s = Summariser(object_id=lambda o: 1)
    seen = set()
    for i in range(200):  # classes are freed and their addresses reused
        cls = type(f"C{i}", (), {"__module__": f"m{i % 3}"})
        assert s.value(cls())["type"] == f"m{i % 3}.C{i}"
        seen.add(id(cls))
        del cls
        gc.collect(1)  # the young generations: a full collection of a late, big test session costs ~0.5 s
    assert len(seen) < 200  # an address was reused: the memory was tested


def test_short_clean_strings_are_scanned_once_until_a_secret_is_learned(monkeypatch: Any) -> None:
    s = Summariser()
    scans: list[str] = []
    real = s._scan

    def counting(text: str, whole: str | None = None) -> bool:
        scans.append(text)
        return real(text, whole)

    s._scan = counting
    for _ in range(3):
        assert s.value("select name from users") == {"type": "str", "value": "select name from users"}
    assert scans == ["select name from users"]
    assert s.value("abc") == {"type": "str", "value": "abc"} and len(scans) == 1  # shorter than any secret
    s.value("users pass", "password")  # learned: a known secret now
    assert s.value("select name from users pass") == {"type": "str", "len": 27, "redacted": True}
    scans.clear()
    s.value("select name from users")
    assert scans == ["select name from users"]  # scanned again: the new secret might be in it


def test_short_strings_with_user_patterns_are_scanned() -> None:
    s = Summariser(extra_value_patterns=["ab"])
    assert s.value("xaby") == {"type": "str", "len": 4, "redacted": True}
    assert s.value("xaby") == {"type": "str", "len": 4, "redacted": True}
    assert s.value("xy") == {"type": "str", "value": "xy"}


_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=60),
    st.sampled_from(["password=hunter22", "Bearer abcdefgh12345678", "k" * 47, "k" * 48, "pwd=abc", "short"]),
    st.binary(max_size=40),
    st.builds(Thing),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=7),
        st.lists(inner, max_size=7).map(tuple),
        st.lists(inner, max_size=7).map(deque),
        st.dictionaries(st.sampled_from(["a", "token", "key", "name", "pw", "x"]), inner, max_size=7),
        st.tuples(st.sampled_from(["Authorization", "name", "api_key"]), inner),
    ),
    max_leaves=30,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, "value", "token", "key", "password"]), _values), max_size=12))
def test_remembering_changes_no_summary(pairs: list[tuple[str | None, Any]]) -> None:
    """One Summariser over a sequence of values (memories warm) against a fresh one for each value's turn
    (replaying what came before, so that the known secrets are the same)."""
    ids: dict[int, int] = {}

    def oid(o: object) -> int:
        return ids.setdefault(id(o), len(ids))

    warm = Summariser(object_id=oid)
    for i, (name, v) in enumerate(pairs):
        got = warm.value(v, name)
        cold = Summariser(object_id=oid)
        for n0, v0 in pairs[:i]:
            cold.value(v0, n0)
        cold._clean.clear()
        cold._clean_short.clear()
        cold._class_names.clear()
        assert cold.value(v, name) == got


def test_shortest_secret_is_the_shortest_text_a_value_pattern_or_known_secret_matches() -> None:
    assert redact.SHORTEST_SECRET <= redact.KNOWN_MIN
    r = redact.Redactor()
    assert r.scan("pwd=abc") and not r.scan("pwd=ab")  # 7 characters: the shortest match
    assert len("pwd=abc") == redact.SHORTEST_SECRET
