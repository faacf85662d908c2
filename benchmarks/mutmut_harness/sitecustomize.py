"""Make mutmut 3's trampolines invisible to saferemock (loaded only by benchmarks/mutation.sh).

mutmut routes every call of a mutated function through a trampoline that lives in
mutmut's own file.  Two things in saferemock look at the calling frames and so see it:

* the builtin router (``patch_builtin``) counts a frame in an installed package that is
  not test machinery as code under test, so an ``isinstance`` patched by a test was
  handed to the trampoline's own ``os.environ`` reads (``TypeError: str expected, not
  str``);
* warnings skip saferemock's own frames to point at the user's line, and would point at
  the trampoline instead.

Giving the trampoline's code objects the wrapped function's file makes both treat it as
the saferemock function it stands for, which is what it is.  The active mutant is read
from a variable rather than ``os.environ``, which a patched builtin can break.  This
module is put on PYTHONPATH, so it also runs in the test suite's own subprocesses
(pytester's ``runpytest_subprocess``, ``python -m saferemock check``).
"""

from __future__ import annotations

import builtins
import os
import types
from typing import Any

try:
    from mutmut.mutation import trampoline as _trampoline
except ImportError:  # a subprocess whose interpreter has no mutmut: nothing to adjust
    _trampoline = None


def _install(module: Any) -> None:
    # A test's subprocess learns the mutant only from the environment.  It runs
    # the original code while mutmut traces the suite ("stats"): it could not report what
    # it saw, and mutmut's recording fails outside the mutants/ folder.
    from_env = os.environ.get("MUTANT_UNDER_TEST", "")
    if from_env == "stats":
        from_env = ""

    def get_mutant_under_test() -> str:
        current = module._mutant_under_test
        return from_env if current is None else current

    original_wrap = module.wrap_in_trampoline

    def wrap_in_trampoline(mutants_dict: Any, is_classmethod: bool = False) -> Any:
        decorate = original_wrap(mutants_dict, is_classmethod)

        def mutmut_mutated(decorated_func: Any) -> Any:
            wrapper = decorate(decorated_func)
            filename = decorated_func.__code__.co_filename
            functions = [wrapper]
            functions += [
                cell.cell_contents
                for cell in wrapper.__closure__ or ()
                if isinstance(getattr(cell.cell_contents, "__code__", None), types.CodeType)
                and cell.cell_contents.__code__.co_filename == module.__file__
            ]
            for function in functions:
                function.__code__ = function.__code__.replace(co_filename=filename)
            return wrapper

        return mutmut_mutated

    module.get_mutant_under_test = get_mutant_under_test
    # pytest reads __tracebackhide__ from a frame's globals too: this hides the
    # trampolines' frames, which saferemock's traceback tests would take for its own.
    module.__tracebackhide__ = True
    module.wrap_in_trampoline = wrap_in_trampoline
    # Names the trampoline looks up at each call: pinned to the real builtins, so a test's
    # patched builtin never sees them.
    module.list = builtins.list
    module.int = builtins.int
    module.getattr = builtins.getattr


if _trampoline is not None:
    _install(_trampoline)
