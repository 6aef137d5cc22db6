"""Benchmark workload: project functions passing multi-KB strings and nested containers of them.

About 5,000 project calls at scale 1. Each call takes a document of 2-8 KB of text (or a list /
dict of such documents, or a (title, body) pair list) and hands it to the standard library:
re, textwrap, html, json, hashlib, base64, difflib, collections. Arguments and return values are
long strings, so a tracer that summarises arguments pays for each string it looks at: this is the
workload that measures what secret scanning costs (docs/performance.md).
No lambdas or generator expressions in hot loops. Deterministic, standard library only.

    python bench/workloads/text_heavy.py --scale 1
"""
import base64
import collections
import difflib
import hashlib
import html
import json
import operator
import os
import re
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import Stopwatch, parse_scale, report

VOCABULARY = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
         "upsilon phi chi psi omega lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
         "tempor incididunt ut labore et dolore magna aliqua")
WORDS = VOCABULARY.split()
WORD_RE = re.compile(r"[a-z]+")
SENTENCE_END = re.compile(r"([.!?]) ")


def make_document(seed, size):
    """Deterministic prose of about `size` characters (LCG, no `random` state)."""
    state = seed
    words = []
    length = 0
    while length < size:
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        word = WORDS[state % len(WORDS)]
        if state % 11 == 0:
            word += "."
        elif state % 7 == 0:
            word += ","
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def normalise(text):
    return SENTENCE_END.sub(r"\1\n", text.strip()).lower()


def wrap(text, width):
    return textwrap.fill(text, width=width)


def escape(text):
    return html.escape(text, quote=True)


def word_counts(text):
    return collections.Counter(WORD_RE.findall(text))


def fingerprint(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def to_json(record):
    return json.dumps(record, sort_keys=True)


def similar(a, b):
    return difflib.SequenceMatcher(None, a[:400], b[:400], autojunk=False).quick_ratio()


def render_page(title, sections):
    """sections: a list of (heading, body) pairs of long strings."""
    parts = ["<h1>" + escape(title) + "</h1>"]
    for heading, body in sections:
        parts.append("<h2>" + escape(heading) + "</h2><p>" + escape(body) + "</p>")
    return "\n".join(parts)


def index(documents):
    """documents: a dict of name -> {"title": str, "body": str, "tags": [str, ...]}."""
    total = collections.Counter()
    for name in sorted(documents):
        total.update(word_counts(documents[name]["body"]))
    return total


def process(doc_id, text, previous):
    body = normalise(text)
    wrapped = wrap(body, 72)
    record = {"id": doc_id, "body": wrapped, "sha": fingerprint(wrapped), "b64": encode(body[:1024]),
              "tags": [body[:2000], body[2000:4000]]}
    page = render_page(f"doc {doc_id}", [("summary", body[:3000]), ("full", wrapped)])
    return to_json(record), page, similar(text, previous)


def work(docs):
    checksum = 0
    previous = docs[-1]
    for i, text in enumerate(docs):
        data, page, ratio = process(i, text, previous)
        checksum = (checksum + len(data) + len(page) + int(ratio * 1000)) % 1_000_003
        previous = text
    library = {f"doc{i}": {"title": f"doc {i}", "body": docs[i], "tags": [docs[i][:500], docs[-i][:500]]}
               for i in range(min(len(docs), 200))}
    counts = index(library)
    return (checksum + sum(counts.values())) % 1_000_003


def main():
    scale = parse_scale(__doc__.split("\n\n")[0])
    n_docs = max(2, int(370 * scale))
    docs = [make_document(i + 1, 2000 + (i * 997) % 6000) for i in range(n_docs)]
    with Stopwatch() as sw:
        # through operator.call (C): `callgrind --toggle-collect=_operator_call` counts this stretch alone
        checksum = operator.call(work, docs)
    report(sw.seconds, docs=n_docs, checksum=checksum)

if __name__ == "__main__":
    main()
