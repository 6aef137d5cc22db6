"""Benchmark workload: generators, recursion, caught exceptions and two threads.

About 1.3 million project-level calls (generator resumes included) at scale 1.
Each of two threads (the main thread and one worker) runs its own share of
the work on its own data, so the result is deterministic.  Standard library only.

    python bench/workloads/mixed.py --scale 1
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import Stopwatch, parse_scale, report  # noqa: E402


class ParseError(Exception):
    pass


# -- generators -------------------------------------------------------------
def numbers(seed, n):
    state = seed
    for _ in range(n):
        for _ in range(6):              # a little inline work per item (no calls)
            state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        yield state % 1000


def tokens(values):
    for v in values:
        if v % 7 == 0:
            yield "bad%d" % v          # will fail to parse
        else:
            yield str(v)


def pairs(items):
    it = iter(items)
    for a in it:
        b = next(it, None)
        if b is None:
            return
        yield a, b


# -- caught exceptions (raised two frames below the handler) -----------------
def parse_int(text):
    if not text.isdigit():
        raise ParseError(text)
    return int(text)


def parse_pair(pair):
    return parse_int(pair[0]) + parse_int(pair[1])


def checked_sum(pair_iter):
    total = 0
    errors = 0
    for pair in pair_iter:
        try:
            total += parse_pair(pair)
        except ParseError:
            errors += 1
    return total, errors


# -- recursion ------------------------------------------------------------------
class Node:
    __slots__ = ("value", "left", "right")

    def __init__(self, value, left=None, right=None):
        self.value = value
        self.left = left
        self.right = right


def build(depth, value):
    if depth == 0:
        return Node(value)
    return Node(value, build(depth - 1, value * 2 % 1009), build(depth - 1, (value * 2 + 1) % 1009))


def tree_sum(node):
    if node is None:
        return 0
    return node.value + tree_sum(node.left) + tree_sum(node.right)


def tree_depth(node):
    if node is None:
        return 0
    return 1 + max(tree_depth(node.left), tree_depth(node.right))


# -- one thread's share ----------------------------------------------------------
def work(seed, stream_len, trees, results, slot):
    total, errors = checked_sum(pairs(tokens(numbers(seed, stream_len))))
    tsum = 0
    for i in range(trees):
        root = build(10, seed + i)
        tsum += tree_sum(root) + tree_depth(root)
    results[slot] = (total, errors, tsum)


def main():
    scale = parse_scale(__doc__)
    stream_len = max(10, int(round(40000 * scale)))
    trees = max(1, int(round(40 * scale)))
    results = [None, None]
    with Stopwatch() as sw:
        worker = threading.Thread(target=work, args=(7, stream_len, trees, results, 1),
                                  name="bench-worker")
        worker.start()
        work(3, stream_len, trees, results, 0)
        worker.join()
    report(sw.seconds, workload="mixed", scale=scale, stream_len=stream_len, trees=trees,
           checksum=[list(r) for r in results])


if __name__ == "__main__":
    main()
