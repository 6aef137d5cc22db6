"""The snapshot embedded in report.html: safe inside <script>, and exactly the same data."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import base64
import hashlib
import re

import pytest

from skeleton_replay.render.html import MARKER, ReportTemplateMissing, embed_json, load_template, render_html

CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
       "connect-src 'none'")
MINI = (f'<html><head><meta http-equiv="Content-Security-Policy" content="{CSP}" />'
        '<script type="module">boot()</script><style>b{{}}</style></head><body>{MARKER}</body></html>')

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
    html = render_html(payload, template=MINI.format(MARKER=MARKER))
    assert html.count("</script>") == 2  # the bundle's and the data element's own end tags
    assert "<!--" not in html


def _policy(html: str) -> dict[str, str]:
    content = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
    return dict(d.strip().split(" ", 1) for d in content.split(";"))


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_csp_allows_exactly_the_inline_bundle_and_style():
    html = render_html({"a": "<script>x</script>"}, template=MINI.format(MARKER=MARKER))
    policy = _policy(html)
    assert policy["script-src"] == _sha("boot()")  # not 'unsafe-inline'; the JSON data block is not a script
    assert policy["style-src"] == _sha("b{}")
    assert policy["default-src"] == "'none'" and policy["img-src"] == "data: blob:" and policy["connect-src"] == "'none'"


def test_csp_of_the_real_template_pins_its_module_script():
    template = load_template()
    html = render_html({"x": 1})
    policy = _policy(html)
    start = template.index(">", template.index('<script type="module"')) + 1
    assert policy["script-src"] == _sha(template[start:template.index("</script>", start)])
    assert "unsafe-inline" not in " ".join(policy.values())


@pytest.mark.parametrize("template, why", [
    ("<html><body>{MARKER}<script>x()</script></body></html>", "Content-Security-Policy"),
    (MINI.replace('<script type="module">boot()</script>', '<script src="https://cdn.example/x.js"></script>'),
     "external script"),
    (MINI.replace('<script type="module">boot()</script>', ""), "no inline script"),
    ("<html><head><script>early()</script>" + MINI[6:], "before its CSP"),
])
def test_a_template_whose_scripts_cannot_be_pinned_is_refused(template, why):
    with pytest.raises(ReportTemplateMissing, match=why):
        render_html({}, template=template.format(MARKER=MARKER))
