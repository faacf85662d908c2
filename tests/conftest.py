"""Shared by every test module: import all of saferemock's modules before any test runs.

pytester's in-process runs take out of ``sys.modules`` every module first imported during
the run.  saferemock imports its modules on first use, so a run that was first to use
one would leave the package holding the objects of a module that the next import makes
anew, and a later test would see two of each (which test comes first decides it).
"""

from __future__ import annotations

import importlib
import pkgutil

import saferemock

for _module in pkgutil.iter_modules(saferemock.__path__, "saferemock."):
    if _module.name != "saferemock.__main__":
        importlib.import_module(_module.name)
