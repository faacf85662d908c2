"""What the plugin costs every pytest start, and what its laziness must not change.

The plugin loads in every run of every suite where saferemock is installed; most never
use a fixture.  Importing ``unittest.mock`` (and ``asyncio`` with it) is then left to the
first test that needs it, and the guard starts noting who made each mock at that moment.
Cost is asserted as what gets imported, never as time.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap

import pytest
from pluginreport import report

ROOT = pathlib.Path(__file__).resolve().parent.parent

HEAVY = ("unittest.mock", "asyncio")


def _loaded_after(code: str) -> list[str]:
    probe = (
        f"{code}\nimport sys, json; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_importing_the_plugin_imports_neither_unittest_mock_nor_asyncio() -> None:
    assert _loaded_after("import saferemock.plugin") == []


def test_importing_the_package_imports_neither_until_a_name_is_used() -> None:
    assert _loaded_after("import saferemock") == []
    assert _loaded_after("import saferemock\nsaferemock.SaferemockError") == []
    assert _loaded_after("from saferemock import patch") == list(HEAVY)


def test_pytest_loads_the_guards_modules_with_pythons_own_loader(pytester: pytest.Pytester) -> None:
    # pytest marks an installed plugin's whole package for assertion rewriting, and its
    # import hook reads each module back far more slowly than Python's own loader.  (Only
    # the module that stops it goes through the hook; pytest < 7.4 marks no editable
    # install at all.)
    pytester.makepyfile(
        test_loaders="""\
        import sys


        def test_loaders():
            loaders = {
                name: type(module.__loader__).__name__
                for name, module in sys.modules.items()
                if name.startswith("saferemock._")
            }
            assert loaders["saferemock._guard"] == "SourceFileLoader"
            slow = {name for name, loader in loaders.items() if loader != "SourceFileLoader"}
            assert slow <= {"saferemock._unrewritten"}
        """
    )
    # In a subprocess: this process imported saferemock long ago.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_guard_blames_a_mock_on_its_test_when_that_test_first_imports_unittest_mock(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only saferemock, so no other plugin imports unittest.mock before the suite does.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(
        test_late=textwrap.dedent(
            """\
            import json
            import sys


            def test_leaves_a_mock_on_json():
                assert "unittest.mock" not in sys.modules
                from unittest.mock import MagicMock

                json.dumps = MagicMock()


            def test_later():
                pass
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "saferemock.plugin", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)  # warnings= needs pytest 7
    assert report(result) == [
        "test_late.py::test_leaves_a_mock_on_json: json.dumps is a MagicMock; use "
        "safemock.patch('json.dumps') instead, undone at teardown"
    ]
