"""Real program for the scale e2e tests: Jinja2 compiles and renders templates with inheritance, macros and filters."""
from jinja2 import DictLoader, Environment, select_autoescape

TEMPLATES = {
    "base.html": """<html><head><title>{% block title %}{% endblock %}</title></head>
<body>{% block body %}{% endblock %}{% include "footer.html" %}</body></html>""",
    "footer.html": "<footer>{{ year }} {{ owner|upper }}</footer>",
    "macros.html": """{% macro row(item, loop) -%}
<tr class="{{ loop.cycle('odd', 'even') }}"><td>{{ item.name|e }}</td><td>{{ '%.2f'|format(item.price) }}</td>
<td>{{ item.tags|join(', ') }}</td>{% if item.price > 10 %}<td>dear</td>{% else %}<td>cheap</td>{% endif %}</tr>
{%- endmacro %}""",
    "page.html": """{% extends "base.html" %}{% from "macros.html" import row %}
{% block title %}{{ title|title }}{% endblock %}
{% block body %}{% set total = items|sum(attribute='price') %}
<table>{% for item in items|sort(attribute='name') %}{{ row(item, loop) }}{% endfor %}</table>
<p>{{ total|round(2) }} {{ items|length }} {{ items|map(attribute='name')|list|first }}</p>
{% for k, v in meta|dictsort %}<i>{{ k }}={{ v|default('-') }}</i>{% endfor %}
{% with n = items|selectattr('price', 'gt', 5)|list %}{{ n|count }}{% endwith %}
{% endblock %}""",
}


def main() -> None:
    env = Environment(loader=DictLoader(TEMPLATES), autoescape=select_autoescape())
    items = [{"name": f"item <{i}>", "price": i * 1.5, "tags": ["a", "b"][: i % 3]} for i in range(12)]
    out = 0
    for k in range(3):
        out += len(env.get_template("page.html").render(title=f"page {k}", items=items, meta={"a": k, "b": None},
                                                        year=2026, owner="me"))
    src = env.from_string("{% for x in xs %}{{ loop.index }}:{{ x * 2 }}{% if not loop.last %},{% endif %}{% endfor %}")
    out += len(src.render(xs=range(20)))
    for k in range(8):  # distinct sources: each one is lexed, parsed and compiled
        t = env.from_string("{% set xs = range(" + str(k + 2) + ") %}{% for x in xs if x is odd %}"
                            "{{ x|string|center(" + str(k + 4) + ") }}{% else %}none{% endfor %}{{ xs|list|reverse|join }}"
                            "{% filter upper %}v" + str(k) + "{% endfilter %}{% raw %}{{ raw }}{% endraw %}")
        out += len(t.render())
    print(out)


if __name__ == "__main__":
    main()
