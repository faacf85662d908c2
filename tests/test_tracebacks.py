"""Failures that saferemock raises for the user show the user's lines, never saferemock's.

Every frame between the user's line and the ``raise`` carries ``__tracebackhide__``, so
pytest prints the test's line (or nothing but the error, at a fixture's teardown) and
not ~25 lines of saferemock's own source.
"""

from __future__ import annotations

import pathlib
import re
import textwrap

import pytest

import saferemock

QUIET = ("-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:anyio", "-p", "no:xdist")
QUIET += ("-p", "no:hypothesispytest", "-p", "no:randomly")

PACKAGE = pathlib.Path(saferemock.__file__).resolve().parent
OWN_SOURCE = {
    line.strip()
    for path in PACKAGE.glob("*.py")
    for line in path.read_text(encoding="utf-8").splitlines()
    if len(line.strip()) > 12
}

SUITE = """\
import json

import saferemock as sm


def test_unused_in_the_fixture(safemock):
    safemock.patch("json.dumps", require_use=True)


def test_two_unused_in_the_fixture(safemock):
    safemock.patch("json.dumps", require_use=True)
    safemock.patch("json.loads", require_use=True)


def test_misspelt_attribute(safemock):
    safemock.patch("json.dump_s")


def test_misspelt_module(safemock):
    safemock.patch("jsonn.dumps")


def test_misspelt_with_block():
    with sm.patch("json.dump_s"):
        pass


def test_misspelt_start():
    sm.patch("json.dump_s").start()


def test_stop_before_start():
    sm.patch("json.dumps").stop()


@sm.patch("json.dump_s")
def test_misspelt_decorator(dump_s):
    pass


def test_malformed_target():
    sm.patch("json")


def test_spy_on_a_misspelt_module(safemock):
    safemock.spy("jsonn.dumps")


def test_unused_with_block():
    with sm.patch("json.dumps", require_use=True):
        pass


@sm.patch("json.dumps", require_use=True)
def test_unused_decorator(dumps):
    pass


def test_unused_started_then_stopall():
    sm.patch("json.dumps", require_use=True).start()
    sm.stopall()


def test_closed_safemock():
    safemock = sm.SafeMock()
    safemock.close()
    safemock.patch("json.dumps")


def test_stop_of_an_unknown_mock(safemock):
    safemock.stop(object())


def test_spy_on_a_missing_attribute(safemock):
    safemock.spy(json, "dump_s")

"""

# Before pytest 7.4 a failure whose every frame is hidden shows its last frame anyway (the
# line that raised) instead of only the error; these are the failures with no user frame.
ALL_HIDDEN = (
    "test_unused_in_the_fixture",
    "test_two_unused_in_the_fixture",
    "test_unused_decorator",
    "test_misspelt_decorator",
)
PYTEST = tuple(int(part) for part in pytest.__version__.split(".")[:2])
SHOWS_ALL_HIDDEN_LAST_FRAME = PYTEST < (7, 4)


def _sections(lines: list[str]) -> dict[str, list[str]]:
    """Split pytest's report into the lines shown for each test, keyed by the test's name."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in lines:
        header = re.fullmatch(r"_+ (?:ERROR at \w+ of )?(\w+) _+", line)
        if header:
            current = header.group(1)
            sections.setdefault(current, [])
        elif re.fullmatch(r"=+ .* =+", line):
            current = ""
        else:
            sections[current].append(line)
    return sections


def _raising_line(location: str) -> str:
    path, line = location.rstrip(":").rsplit(":", 1)
    return pathlib.Path(path).read_text(encoding="utf-8").splitlines()[int(line) - 1].strip()


@pytest.mark.parametrize("style", ["auto", "long", "short"])
def test_no_failure_prints_a_line_of_saferemock(pytester: pytest.Pytester, style: str) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest(*QUIET, f"--tb={style}")
    result.assert_outcomes(passed=2, failed=14, errors=2)
    lines = result.stdout.lines
    if SHOWS_ALL_HIDDEN_LAST_FRAME:
        sections = _sections(lines)
        for name in ALL_HIDDEN:
            for location in re.findall(r"\S*saferemock[\\/]\w+\.py:\d+", "\n".join(sections[name])):
                assert _raising_line(location).startswith("raise "), location
        lines = [
            line for name, shown in sections.items() if name not in ALL_HIDDEN for line in shown
        ]
    output = "\n".join(lines)
    assert re.findall(r"\S*saferemock[\\/]\w+\.py\S*", output) == []
    shown = [line.lstrip(">").strip() for line in lines]
    suite = textwrap.dedent(SUITE)
    own = OWN_SOURCE - {line.strip() for line in suite.splitlines()}
    assert sorted({line for line in shown if line in own}) == []
    # Each failure still points at the user's own line.
    for line in (
        'safemock.patch("json.dump_s")',
        'safemock.patch("jsonn.dumps")',
        'with sm.patch("json.dumps", require_use=True):',
        'with sm.patch("json.dump_s"):',
        'sm.patch("json.dump_s").start()',
        'sm.patch("json.dumps").stop()',
        'sm.patch("json")',
        'safemock.spy("jsonn.dumps")',
        "sm.stopall()",
        'safemock.patch("json.dumps")',
        "safemock.stop(object())",
        'safemock.spy(json, "dump_s")',
    ):
        assert line in suite
        assert any(shown_line.endswith(line) for shown_line in shown), line
