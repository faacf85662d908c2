"""Importing this module lets saferemock's own modules load at Python's normal speed under pytest.

pytest marks the package of every installed plugin for assertion rewriting.  Its import
hook then loads each of the package's modules itself, reading back its own cached
bytecode one object at a time: for the guard's dozen modules that took three times as
long as a normal import, about 20 ms of every pytest start.  saferemock holds no test
whose asserts need rewriting (its package docstring says ``PYTEST_DONT_REWRITE``), so
the plugin imports this module first, and it answers the hook's question "rewrite this
module?" with no for each of the package's modules, before they are imported.

The hook keeps those answers in a dict it owns; an older or newer pytest without it (or
a hook that has been replaced) simply loads the modules the slow way.
"""

from __future__ import annotations

import os
import sys


def _answer_no() -> None:
    package = __name__.rpartition(".")[0]
    for finder in sys.meta_path:
        answers = getattr(finder, "_marked_for_rewrite_cache", None)
        if type(finder).__name__ != "AssertionRewritingHook" or not isinstance(answers, dict):
            continue
        for filename in os.listdir(os.path.dirname(__file__)):
            stem, _, suffix = filename.partition(".")
            if suffix == "py" and stem != "__init__":
                answers[f"{package}.{stem}"] = False


_answer_no()
