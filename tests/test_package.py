"""The package's own promises: what importing it does, what it exports, what it needs."""

from __future__ import annotations

import ast
import importlib
import pathlib
import subprocess
import sys

import pytest

import saferemock

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_import_saferemock_never_imports_pytest() -> None:
    code = "import sys, saferemock; print(sorted(m for m in sys.modules if m.split('.')[0] in {'pytest', '_pytest', 'pluggy'}))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


def test_every_name_in_all_is_exported_and_typed() -> None:
    assert sorted(set(saferemock.__all__)) == sorted(saferemock.__all__)
    for name in saferemock.__all__:
        assert hasattr(saferemock, name), name
    assert (ROOT / "saferemock" / "py.typed").is_file()


def test_own_warnings_and_errors_say_saferemock() -> None:
    for name in saferemock.__all__:
        value = getattr(saferemock, name)
        if isinstance(value, type) and issubclass(value, (saferemock.SaferemockError, Warning)):
            assert value.__module__ == "saferemock", name


def test_the_only_runtime_dependency_is_typing_extensions() -> None:
    # tomllib is 3.11+; the two lines are simple enough to read as text on 3.10 too.
    text = (ROOT / "pyproject.toml").read_text()
    assert 'dependencies = ["typing-extensions>=4.6"]\n' in text
    assert '[project.entry-points.pytest11]\nsaferemock = "saferemock.plugin"\n' in text


def _names_type_checkers_see() -> dict[str, str]:
    """Each name ``saferemock/__init__.py`` imports under ``if TYPE_CHECKING:``, and from where."""
    tree = ast.parse((ROOT / "saferemock" / "__init__.py").read_text())
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
                for alias in statement.names:
                    names[alias.asname or alias.name] = str(statement.module)
    return names


def test_every_public_name_is_the_object_type_checkers_see() -> None:
    # The names are imported on first use; what a type checker reads must be what a
    # test gets.
    seen = _names_type_checkers_see()
    assert sorted(seen) == sorted(set(saferemock.__all__) - {"__version__"})
    for name, module in seen.items():
        assert getattr(saferemock, name) is getattr(importlib.import_module(module), name), name


def test_dir_lists_every_public_name_before_it_is_used() -> None:
    code = "import saferemock; print(sorted(set(saferemock.__all__) - set(dir(saferemock))))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match=r"^module 'saferemock' has no attribute 'pach'$"):
        saferemock.pach  # type: ignore[attr-defined]
