"""Running a suite under the plugin and reading its saferemock report."""

from __future__ import annotations

import re

import pytest

# Plugins this suite does not need: fewer plugins, faster in-process runs.
QUIET = ("-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:anyio", "-p", "no:xdist")
QUIET += ("-p", "no:hypothesispytest", "-p", "no:randomly")


def report(result: pytest.RunResult) -> list[str]:
    """The lines of the saferemock section of the terminal summary ([] when absent)."""
    lines = result.stdout.lines
    for index, line in enumerate(lines):
        if re.fullmatch(r"=+ saferemock: \d+ leaks? =+", line):
            end = index + 1
            while (
                end < len(lines)
                and not lines[end].startswith("(")
                and not lines[end].startswith("=")
            ):
                end += 1
            return lines[index + 1 : end]
    return []


def failures(result: pytest.RunResult) -> set[str]:
    """The FAILED and ERROR lines of the short test summary, without their messages."""
    return {
        line.split(" - ")[0]
        for line in result.stdout.lines
        if line.startswith(("FAILED ", "ERROR "))
    }
