"""``python -m saferemock check [pytest args...]``: run a suite under the strict guard.

Runs pytest in this process with ``--saferemock-guard=strict`` and the given arguments,
then prints a pollution report: one line per culprit and leak, and a one-line verdict.
Exit status: 0 when nothing leaked, 1 when something did, 2 on usage errors (a bad
command, bad pytest arguments, or a run pytest could not complete).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, Final, TextIO

__all__ = ["main"]

USAGE: Final = """\
usage: python -m saferemock check [pytest args...]

Run pytest with the saferemock pollution guard in strict mode: each leak (a sys.modules
hack, a patch never stopped, a builtin or environment variable changed, a mock left on
a module) is undone right after its culprit, which fails, and every other test runs in
a clean world.  Then print one line per culprit and leak, and a verdict.

Exit status: 0 nothing leaked, 1 something leaked, 2 usage error.
Example: python -m saferemock check tests/ -q
"""


class _Collector:
    """A pytest plugin object that keeps what the run found."""

    def __init__(self) -> None:
        self.leaks: list[Any] = []
        self.active = False
        self.tests = 0

    def pytest_runtest_logfinish(self) -> None:
        self.tests += 1

    def pytest_unconfigure(self, config: Any) -> None:
        from saferemock import plugin

        if config.pluginmanager.is_registered(plugin):
            self.active = True
            self.leaks = plugin.leaks_of(config)


def _print(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()


def check(args: Sequence[str], out: TextIO) -> int:
    """Run pytest on ``args`` under the strict guard, report, and return the exit status."""
    for arg in args:
        if arg.startswith("--saferemock-guard"):
            _print(
                out,
                "saferemock check: drop --saferemock-guard; check always runs the guard in "
                "strict mode.",
            )
            return 2
        if arg.endswith("no:saferemock"):
            _print(
                out,
                "saferemock check: drop -p no:saferemock; the check needs the saferemock plugin.",
            )
            return 2
    try:
        import pytest
    except ImportError:
        _print(
            out,
            "saferemock check: pytest is not installed; install it with "
            "python -m pip install pytest.",
        )
        return 2
    from saferemock._guard import iter_leak_lines

    # ``python -m saferemock`` imported the package before pytest could mark it for
    # assertion rewriting; PYTEST_DONT_REWRITE in its docstring keeps pytest quiet about
    # that, even under -W error, where a filter here would not.
    argv = ["--saferemock-guard=strict", *args]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        # Entry points are not loaded: name the plugin module instead.
        argv[:0] = ["-p", "saferemock.plugin"]
    collector = _Collector()
    status = pytest.main(argv, plugins=[collector])
    if status == pytest.ExitCode.USAGE_ERROR:
        _print(out, "saferemock check: pytest rejected the arguments (see the error above).")
        return 2
    if not collector.active:
        _print(
            out,
            "saferemock check: the saferemock plugin did not run (is it disabled with "
            "-p no:saferemock?); nothing was checked.",
        )
        return 2
    lines = list(iter_leak_lines(collector.leaks))
    _print(out, "")
    _print(out, "saferemock check: pollution report")
    for line in lines:
        _print(out, f"  {line}")
    culprits = len({leak.where for leak in collector.leaks})
    if lines:
        leak_noun = "leak" if len(lines) == 1 else "leaks"
        culprit_noun = "culprit" if culprits == 1 else "culprits"
        _print(
            out,
            f"saferemock check: FAILED: {len(lines)} {leak_noun} from {culprits} "
            f"{culprit_noun}; each was undone right after its culprit, which failed, so "
            "every other test ran in a clean world.",
        )
        return 1
    if status in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.INTERRUPTED):
        _print(
            out,
            f"saferemock check: pytest could not complete the run (exit status "
            f"{int(status)}); fix the error above and run the check again.",
        )
        return 2
    noun = "test" if collector.tests == 1 else "tests"
    _print(out, f"saferemock check: OK: no leaks ({collector.tests} {noun} ran).")
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``python -m saferemock``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    stream = sys.stdout if out is None else out
    if not args or args[0] in ("-h", "--help", "help"):
        stream.write(USAGE)
        return 0 if args else 2
    if args[0] != "check":
        _print(stream, f"saferemock: unknown command {args[0]!r}; the only command is 'check'.")
        stream.write(USAGE)
        return 2
    return check(args[1:], stream)


if __name__ == "__main__":
    sys.exit(main())
