"""The snapshot embedded in report.html: safe inside <script>, and exactly the same data."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from skeleton_replay.render.html import MARKER, embed_json, render_html

DANGEROUS = ("<", ">", "&", "\u2028", "\u2029")
text = st.text(alphabet=st.sampled_from(list("<>&/!-\u2028\u2029é😀ab \"\\")) | st.characters(blacklist_categories=("Cs",)), max_size=60)  # summaries hold no lone surrogates
values = st.recursive(st.none() | st.booleans() | st.integers(-2**53, 2**53) | text,
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(values)
def test_embedded_json_round_trips_and_has_no_dangerous_character(value):
    out = embed_json(value)
    assert json.loads(out) == value
    for ch in DANGEROUS:
        assert ch not in out


def test_a_closing_script_tag_cannot_end_the_element():
    payload = {"name": "</script><script>alert(1)</script><!--<script>"}
    html = render_html(payload, template=f"<html><body>{MARKER}</body></html>")
    assert html.count("</script>") == 1  # only the element's own end tag
    assert "<!--" not in html
