"""render/text.py: the one-line forms of value summaries used by workflow.md and the CLI."""
from __future__ import annotations

from skeleton_replay.render.text import args_text, short


def test_a_string_with_a_newline_is_shown_once_escaped():
    assert short({"type": "str", "value": "a\nb"}) == repr("a\nb") == "'a\\nb'"


def test_a_truncated_string_keeps_its_length_and_quotes():
    text = short({"type": "str", "value": "x" * 80, "len": 500, "truncated": True}, limit=10)
    assert text == "'" + "x" * 9 + "…'…(500)"


def test_other_values_show_newlines_as_backslash_n_on_one_line():
    assert short({"type": "int", "value": "1\n2"}) == "1\\n2"
    line = args_text({"a": {"type": "str", "value": "p\nq"}, "b": {"type": "None"}})
    assert "\n" not in line and line == "a='p\\nq', b=None"


def test_redacted_and_objects():
    assert short({"type": "str", "redacted": True, "len": 9}) == "<redacted str len=9>"
    assert short({"type": "shop.Cart", "id": 3}) == "<Cart #3>"
