"""Real program for the scale e2e tests: docutils renders a reStructuredText document to HTML."""
from docutils.core import publish_string

SECTION = """
Section {n}
==========={u}

Some *emphasis*, **strong** text, ``literal`` and a link_ to somewhere [#f{n}]_.

.. _link: https://example.org/{n}

- item one with `interpreted`
- item two

  1. nested {n}
  2. nested again

==========  ==========
col a       col b
==========  ==========
{n}         value
x           y
==========  ==========

.. note:: A note in section {n}.

.. [#f{n}] Footnote {n}.

::

    code block {n}
    more code

Term {n}
    Definition of the term.

:field {n}: value
"""


def main() -> None:
    doc = "Title\n=====\n\n.. contents::\n\n" + "".join(SECTION.format(n=n, u="=" * len(str(n))) for n in range(3))
    html = publish_string(doc, writer_name="html", settings_overrides={"report_level": 5, "output_encoding": "unicode"})
    print(len(html))


if __name__ == "__main__":
    main()
