"""``python -m saferemock check [pytest args...]``: run a suite under the strict guard.

Runs pytest in this process with ``--saferemock-guard=strict`` and the given arguments,
then prints a pollution report: one line per culprit and leak, and a one-line verdict.
The exit status is made for CI (see `USAGE`): 0 only when the suite passed and
nothing leaked, 1 when tests failed or something leaked, pytest's own status when pytest
could not run the suite, and 2 for a bad ``check`` invocation.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Final, TextIO

__all__ = ["main"]

USAGE: Final = """\
usage: python -m saferemock check [pytest args...]

Run pytest with the saferemock pollution guard in strict mode: each leak (a sys.modules
hack, a patch never stopped, a builtin or environment variable changed, a mock left on
a module) is undone right after its culprit, which fails, and every other test runs in
a clean world.  Then print one line per culprit and leak, and a verdict.

Exit status: 0 the suite passed and nothing leaked; 1 tests failed or something leaked;
2 a bad check invocation (arguments pytest rejects included) or pytest interrupted;
3 pytest internal error; 4 pytest usage error; 5 no tests collected.
Example: python -m saferemock check tests/ -q
"""

# pytest's exit statuses (pytest.ExitCode), without importing pytest to name them.
_OK: Final = 0
_TESTS_FAILED: Final = 1
_INTERRUPTED: Final = 2
_INTERNAL_ERROR: Final = 3
_USAGE_ERROR: Final = 4
_NO_TESTS_COLLECTED: Final = 5
_BAD_INVOCATION: Final = 2


def _print(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def check(args: Sequence[str], out: TextIO) -> int:
    """Run pytest on ``args`` under the strict guard, report, and return the exit status."""
    for arg in args:
        if arg.startswith("--saferemock-guard"):
            _print(
                out,
                "saferemock check: drop --saferemock-guard; check always runs the guard in "
                "strict mode.",
            )
            return _BAD_INVOCATION
        if arg.endswith("no:saferemock"):
            _print(
                out,
                "saferemock check: drop -p no:saferemock; the check needs the saferemock plugin.",
            )
            return _BAD_INVOCATION
    try:
        import pytest
    except ImportError:
        _print(
            out,
            "saferemock check: pytest is not installed; install it with "
            "python -m pip install pytest.",
        )
        return _BAD_INVOCATION
    from saferemock._check import CheckRecorder
    from saferemock._guard import iter_leak_lines

    # ``python -m saferemock`` imported the package before pytest could mark it for
    # assertion rewriting; PYTEST_DONT_REWRITE in its docstring keeps pytest quiet about
    # that, even under -W error, where a filter here would not.
    argv = ["--saferemock-guard=strict", *args]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        # Entry points are not loaded: name the plugin module instead.
        argv[:0] = ["-p", "saferemock.plugin"]
    run = CheckRecorder()
    try:
        status = int(pytest.main(argv, plugins=[run]))
    except Exception:
        # pytest.main handles errors itself; one that escapes it is a crash, not a leak.
        traceback.print_exc()
        _print(
            out,
            f"saferemock check: pytest crashed (see the traceback above), so nothing was "
            f"checked (exit status {_INTERNAL_ERROR}).",
        )
        return _INTERNAL_ERROR
    if run.rejected:
        _print(
            out,
            f"saferemock check: pytest rejected the arguments ({run.rejected}); run "
            "python -m pytest --help for the options it accepts.",
        )
        return _BAD_INVOCATION
    if status == _USAGE_ERROR:
        why = f": {run.usage_error.rstrip('.')}" if run.usage_error else " (see the error above)"
        _print(out, f"saferemock check: pytest stopped with a usage error{why}.")
        return _USAGE_ERROR
    if not run.active and status not in (_INTERRUPTED, _INTERNAL_ERROR):
        _print(
            out,
            "saferemock check: the saferemock plugin did not run (is it disabled with "
            "-p no:saferemock?); nothing was checked.",
        )
        return _BAD_INVOCATION
    lines = list(iter_leak_lines(run.leaks))
    _print(out, "")
    _print(out, "saferemock check: pollution report")
    for line in lines:
        _print(out, f"  {line}")
    leaks = ""
    if lines:
        culprits = len({leak.where for leak in run.leaks})
        leaks = f"{_count(len(lines), 'leak')} from {_count(culprits, 'culprit')}"
    if status == _INTERRUPTED:
        why = ""
        if run.collection_errors:
            why = f"{_count(run.collection_errors, 'error')} during collection: "
        found = f"; it found {leaks} before that" if leaks else ""
        _print(
            out,
            f"saferemock check: INTERRUPTED: {why}pytest stopped before the end of the run "
            f"(exit status {status}), so the check is incomplete{found}.",
        )
        return _INTERRUPTED
    if status == _INTERNAL_ERROR:
        _print(
            out,
            f"saferemock check: INTERNAL ERROR: pytest could not complete the run (exit "
            f"status {status}; see the error above), so the check is incomplete.",
        )
        return _INTERNAL_ERROR
    if status == _NO_TESTS_COLLECTED and not lines:
        _print(
            out,
            f"saferemock check: NO TESTS: pytest collected no test, so nothing was checked "
            f"(exit status {status}).",
        )
        return _NO_TESTS_COLLECTED
    if status == _OK and not lines:
        _print(
            out,
            f"saferemock check: OK: the suite passed and nothing leaked "
            f"({_count(len(run.tests), 'test')}).",
        )
        return _OK
    failures = []
    if run.failed:
        failures.append(f"{_count(len(run.failed), 'test')} failed")
    if run.collection_errors:
        failures.append(f"{_count(run.collection_errors, 'error')} during collection")
    if not failures and not lines:
        failures.append(f"pytest reported a failure (exit status {status})")
    verdict = " and ".join(failures)
    if lines and any(leak.kept or leak.late for leak in run.leaks):
        verdict += (
            f"{', and ' if verdict else ''}{leaks}; the leaks of tests, fixtures and test "
            "files were undone right after their culprit, which failed, unless the line "
            "says otherwise."
        )
    elif lines:
        verdict += (
            f"{', and ' if verdict else ''}{leaks}; each leak was undone right after its "
            "culprit, which failed, so every other test ran in a clean world."
        )
    else:
        verdict += "; nothing leaked."
    _print(out, f"saferemock check: FAILED: {verdict}")
    return _TESTS_FAILED


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``python -m saferemock``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    stream = sys.stdout if out is None else out
    if not args or args[0] in ("-h", "--help", "help"):
        stream.write(USAGE)
        return 0 if args else _BAD_INVOCATION
    if args[0] != "check":
        _print(stream, f"saferemock: unknown command {args[0]!r}; the only command is 'check'.")
        stream.write(USAGE)
        return _BAD_INVOCATION
    return check(args[1:], stream)


if __name__ == "__main__":
    sys.exit(main())
