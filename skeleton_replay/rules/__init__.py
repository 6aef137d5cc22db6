"""Architecture rules checked on a run's observed calls (`skeleton check`, docs/check.md).

patterns.py  which nodes a pattern picks (module globs, class:, id:)
model.py     the validated rules (layers, forbidden, independence, io)
load.py      reading and validating a rule file or [tool.skeleton.rules]; one-line errors
evaluation.py  checking the rules on snapshot.json's edges
"""

from .evaluation import NO_IO_EVIDENCE, IOUse, RuleResult, Violation, evaluate
from .load import PYPROJECT_TABLE, load_file, load_project, parse
from .model import IO_KINDS, KINDS, RuleSet

__all__ = [
    "IO_KINDS",
    "KINDS",
    "NO_IO_EVIDENCE",
    "PYPROJECT_TABLE",
    "IOUse",
    "RuleResult",
    "RuleSet",
    "Violation",
    "evaluate",
    "load_file",
    "load_project",
    "parse",
]
