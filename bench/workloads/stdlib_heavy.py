"""Benchmark workload: few project functions driving a lot of standard library code.

A handful of project functions (a few thousand calls in total at scale 1) do
json / re / textwrap / collections / decimal / datetime / difflib work.
No lambdas, generator expressions or project callbacks in hot loops
(``operator`` and ``map`` are used instead): a generator expression would be
resumed, i.e. traced, once per item.  Most executed Python code is the
standard library's (json's pure-Python indenting encoder, textwrap, difflib,
collections).
Deterministic, standard library only.

    python bench/workloads/stdlib_heavy.py --scale 1
"""
import collections
import datetime
import decimal
import difflib
import json
import operator
import os
import re
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import Stopwatch, parse_scale, report  # noqa: E402

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
         "omicron pi rho sigma tau upsilon phi chi psi omega").split()
LOG_RE = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2}) (?P<level>[A-Z]+) user=(?P<user>\w+) "
                    r"amount=(?P<amount>\d+\.\d{2}) msg=(?P<msg>.*)")


def make_records(seed, n):
    """Deterministic pseudo-random records (LCG, no `random` module state)."""
    state = seed
    base = datetime.date(2024, 1, 1)
    records = []
    for i in range(n):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        words = []
        for k in range(0, 24, 3):
            words.append(WORDS[(state >> k) % len(WORDS)])
        records.append({
            "id": i,
            "date": (base + datetime.timedelta(days=state % 365)).isoformat(),
            "level": ("INFO", "WARN", "ERROR")[state % 3],
            "user": WORDS[state % len(WORDS)],
            "amount": "%d.%02d" % (state % 10000, state % 100),
            "msg": " ".join(words),
        })
    return records


def json_roundtrip(records):
    text = json.dumps(records, indent=1, sort_keys=True)
    return json.loads(text)


def parse_logs(records):
    lines = ["%(date)s %(level)s user=%(user)s amount=%(amount)s msg=%(msg)s" % r for r in records]
    parsed = [m.groupdict() for m in map(LOG_RE.match, lines)]
    words = collections.Counter()
    for p in parsed:
        words.update(p["msg"].split())
    return parsed, words


def totals(parsed):
    decimal.getcontext().prec = 28
    per_user = collections.defaultdict(decimal.Decimal)
    for p in parsed:
        per_user[p["user"]] += decimal.Decimal(p["amount"]) * decimal.Decimal("1.0725")
    dates = map(datetime.date.fromisoformat, map(operator.itemgetter("date"), parsed))
    per_month = collections.Counter(map(operator.methodcaller("strftime", "%Y-%m"), dates))
    ranked = sorted(per_user.items(), key=operator.itemgetter(1), reverse=True)
    return [(u, str(v.quantize(decimal.Decimal("0.01")))) for u, v in ranked], per_month


def render(ranked, per_month, words):
    parts = ["%s owes %s;" % pair for pair in ranked]
    parts += ["%s:%d" % item for item in sorted(per_month.items())]
    parts += ["%s=%d" % item for item in words.most_common(10)]
    text = " ".join(parts)
    return textwrap.fill(text, width=60)


def diff_reports(old, new):
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm=""))


def batch(seed, n):
    records = json_roundtrip(make_records(seed, n))
    parsed, words = parse_logs(records)
    ranked, per_month = totals(parsed)
    return render(ranked, per_month, words), len(records)


def main():
    scale = parse_scale(__doc__)
    batches = max(2, int(round(40 * scale)))
    with Stopwatch() as sw:
        previous = ""
        diff_lines = 0
        count = 0
        for b in range(batches):
            report_text, n = batch(1000 + b, 700)
            count += n
            diff_lines += len(diff_reports(previous, report_text))
            previous = report_text
    report(sw.seconds, workload="stdlib_heavy", scale=scale, batches=batches,
           approx_calls=batches * 8, records=count, checksum=diff_lines)


if __name__ == "__main__":
    main()
