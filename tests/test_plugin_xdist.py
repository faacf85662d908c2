"""The guard under pytest-xdist: each worker guards its own tests, the controller reports once.

Every worker collects every file, so a collection leak is found by each of them; the
controller merges what the workers send at the end, prints each leak once and records
one warning for it.
"""

from __future__ import annotations

import re

import pytest

SUITE = {
    "cloudapp/__init__": "",
    "cloudapp/regions": """\
        try:
            import cloudsdk
        except ImportError:
            cloudsdk = None


        def region():
            return None if cloudsdk is None else cloudsdk.region
        """,
    "test_a_culprit": """\
        import sys
        from unittest.mock import MagicMock

        sys.modules["cloudsdk"] = MagicMock()


        def test_culprit():
            pass
        """,
    "test_b_victim": """\
        import builtins


        def test_victim():
            import cloudapp.regions
            assert cloudapp.regions.region() is None


        def test_leaks_a_builtin():
            builtins.helper_xdist = 1
        """,
}

EXPECTED = [
    "test_a_culprit.py:4 (collection): sys.modules['cloudsdk'] is a MagicMock; list cloudsdk in "
    "the saferemock_fake_modules ini option for a session-wide fake, or use "
    "safemock.fake_module_tree(['cloudsdk']) in a fixture",
    "test_b_victim.py::test_leaks_a_builtin: builtins.helper_xdist was added (1); add it with "
    "safemock.patch.object(builtins, 'helper_xdist', value, create=True) instead",
]


def report(result: pytest.RunResult) -> list[str]:
    lines = result.stdout.lines
    start = next(
        i for i, line in enumerate(lines) if re.fullmatch(r"=+ saferemock: \d+ leaks? =+", line)
    )
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("("))
    return lines[start + 1 : end]


@pytest.mark.parametrize(
    ("mode", "outcomes"),
    [
        # Each leak's warning once, though both workers found the collection leak.
        ("warn", {"passed": 2, "failed": 1, "warnings": 2}),
        ("strict", {"passed": 2, "failed": 1, "errors": 1}),
    ],
)
def test_workers_guard_their_tests_and_the_controller_prints_one_merged_report(
    pytester: pytest.Pytester, mode: str, outcomes: dict[str, int]
) -> None:
    pytester.makepyfile(**SUITE)
    quiet = ("-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:anyio")
    quiet += ("-p", "no:hypothesispytest", "-p", "no:pytest_mock")
    result = pytester.runpytest(
        *quiet, "-n", "2", "--dist", "loadfile", f"--saferemock-guard={mode}"
    )
    assert result.parseoutcomes() == outcomes
    assert report(result) == EXPECTED
    failed = {
        line.split(" - ")[0]
        for line in result.stdout.lines
        if line.startswith(("FAILED ", "ERROR "))
    }
    if mode == "strict":
        assert failed == {
            "FAILED test_a_culprit.py::test_culprit",
            "ERROR test_b_victim.py::test_leaks_a_builtin",
        }
    else:
        assert failed == {"FAILED test_b_victim.py::test_victim"}
