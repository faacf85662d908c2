"""What ``python -m saferemock check`` learns from the pytest run it starts.

`CheckRecorder` is the plugin object the command hands to ``pytest.main``: it keeps
the tests that failed (apart from the culprits that failed only because they leaked), the
collection errors, the leaks, and why pytest refused to run, if it did.  This module
imports pytest, so ``saferemock/__main__.py`` imports it only once pytest is known to be
installed, and ``import saferemock`` never does.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import TYPE_CHECKING, Final, final

import pytest

from saferemock._guard import Leak

if TYPE_CHECKING:
    from _pytest.config import Config
    from _pytest.reports import CollectReport, TestReport
    from pluggy import Result

__all__ = ["LEAK_ONLY", "CheckRecorder"]

LEAK_ONLY: Final = "saferemock_leak_only"
"""Set to True on a report that failed only because its test leaked: the plugin sets it,
pytest-xdist carries it from the workers, and the check tells culprits from failed tests."""

# pytest turns its option parser's errors into a UsageError whose text is the usage line
# followed by "<prog>: error: <what was wrong>".
_PARSER_ERROR: Final = re.compile(
    r"\Ausage: .*?^[^\n]*?: error: ([^\n]*)", re.MULTILINE | re.DOTALL
)


@final
class CheckRecorder:
    """A pytest plugin object that keeps what the run found, for the check's verdict."""

    def __init__(self) -> None:
        self.active = False
        """Whether the saferemock plugin ran (it is not when disabled through the config)."""
        self.leaks: list[Leak] = []
        self.tests: set[str] = set()
        self.failed: set[str] = set()
        """Tests with a failed report, apart from reports that failed only for a leak."""
        self.collection_errors = 0
        self.rejected = ""
        """What pytest's option parser said about the arguments it refused."""
        self.usage_error = ""
        """The first line of any other usage error pytest stopped with."""

    def _usage(self, outcome: Result[object]) -> None:
        excinfo = outcome.excinfo
        if excinfo is None or not isinstance(excinfo[1], pytest.UsageError):
            return
        text = "\n".join(str(arg) for arg in excinfo[1].args)
        match = _PARSER_ERROR.search(text)
        if match is not None:
            self.rejected = match.group(1).strip()
        else:
            self.usage_error = text.strip().splitlines()[0] if text.strip() else ""

    # Old-style wrappers (pluggy before 1.2 has no new-style ones), innermost (trylast):
    # pluggy before 1.1 skips the outer wrappers when an inner one raises, as pytest's
    # own wrapper of pytest_cmdline_parse does with the usage error.
    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_cmdline_parse(self) -> Generator[None, Result[object], None]:
        self._usage((yield))

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_cmdline_main(self) -> Generator[None, Result[object], None]:
        self._usage((yield))

    def pytest_collectreport(self, report: CollectReport) -> None:
        if report.failed:
            self.collection_errors += 1

    def pytest_runtest_logreport(self, report: TestReport) -> None:
        self.tests.add(report.nodeid)
        if report.failed and not getattr(report, LEAK_ONLY, False):
            self.failed.add(report.nodeid)

    def pytest_unconfigure(self, config: Config) -> None:
        from saferemock import plugin

        if config.pluginmanager.is_registered(plugin):
            self.active = True
            self.leaks = plugin.leaks_of(config)
