"""`skeleton diff A B`: what changed between two runs (pure functions; docs/diff.md).

compute() matches actors and edges by module, class qualname and callable (actors.Key), never by
run-local instance numbers, and returns one JSON-ready dict (DIFF_FORMAT below). render.py turns
it into text or Markdown.
"""

from .model import DIFF_FORMAT, FAIL_ON, Threshold, compute, failed, parse_fail_on, parse_threshold

__all__ = ["DIFF_FORMAT", "FAIL_ON", "Threshold", "compute", "failed", "parse_fail_on", "parse_threshold"]
