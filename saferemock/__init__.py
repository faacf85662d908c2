"""saferemock: mocking that cleans up after itself.

Every primitive records its changes through one teardown engine, restores the exact
prior state in reverse order, autospecs by default, and never clobbers a value that
someone else set in the meantime.

(PYTEST_DONT_REWRITE: ``python -m saferemock check`` imports this package before pytest
starts, and this marker is what stops pytest from warning that it can no longer rewrite
the package's asserts; under ``-W error`` that warning would end the run.)

Examples:
    >>> import json, saferemock as sm
    >>> with sm.patch("json.dumps", return_value="{}"):
    ...     json.dumps({})
    '{}'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

# Every public name is imported on first use (PEP 562), by the module-level __getattr__
# below: the pytest plugin imports this package in every pytest run, and the primitives
# import unittest.mock, which imports asyncio, together more than the rest of a pytest
# start.  Type checkers and the API reference read the imports here instead.
if TYPE_CHECKING:
    # unittest.mock's own names, so a test needs one import: sm.call, sm.ANY, sm.MagicMock...
    from unittest.mock import (
        ANY,
        DEFAULT,
        AsyncMock,
        MagicMock,
        Mock,
        NonCallableMagicMock,
        NonCallableMock,
        PropertyMock,
        call,
        mock_open,
        seal,
        sentinel,
    )

    from saferemock._activation import scope, stopall
    from saferemock._autospec import create_autospec
    from saferemock._patch import Patch, PatchDict, PatchMultiple, patch

    # -- modules --
    # isort: split
    from saferemock._modules import (
        BlockModules,
        FakeModuleTree,
        FreshImport,
        block_modules,
        fake_module_tree,
        fresh_import,
    )
    from saferemock.exceptions import ModuleTreeError

    # -- builtins --
    # isort: split
    from saferemock._builtins import PatchBuiltin, patch_builtin
    from saferemock._fakeopen import FakeFiles, FakeOpen, fake_open
    from saferemock.exceptions import FakeFilesError

    # -- attrs --
    # isort: split
    from saferemock._attrs import FreshAttr, fresh_attr

    # -- caches --
    # isort: split
    from saferemock._caches import CachesCleared, ClearCaches, clear_caches
    from saferemock.exceptions import CacheTargetError

    # -- async --
    # isort: split
    from saferemock._async import (
        async_context_manager,
        async_iterator,
        async_raise,
        async_return,
        async_sequence,
    )
    from saferemock.exceptions import SequenceExhaustedError

    # isort: split
    # -- spies and stubs --
    from saferemock._spy import Spy, spy
    from saferemock._stubs import async_stub, stub

    # isort: split
    # -- plugin support --
    from saferemock._safemock import SafeMock, SafeMockTestCase
    from saferemock.exceptions import (
        InvalidTargetError,
        SaferemockError,
        SaferemockLeakWarning,
        SaferemockWarning,
        TargetAttributeError,
        TargetImportError,
        UndoError,
        UnusedPatchError,
    )

__version__ = "0.1.0.dev0"

__all__ = [
    "InvalidTargetError",
    "Patch",
    "PatchDict",
    "PatchMultiple",
    "SaferemockError",
    "SaferemockLeakWarning",
    "SaferemockWarning",
    "TargetAttributeError",
    "TargetImportError",
    "UndoError",
    "UnusedPatchError",
    "__version__",
    "create_autospec",
    "patch",
    "scope",
    "stopall",
    # -- __all__ modules --
    "BlockModules",
    "FakeModuleTree",
    "FreshImport",
    "ModuleTreeError",
    "block_modules",
    "fake_module_tree",
    "fresh_import",
    # -- __all__ builtins --
    "FakeFiles",
    "FakeFilesError",
    "FakeOpen",
    "PatchBuiltin",
    "fake_open",
    "patch_builtin",
    # -- __all__ attrs --
    "FreshAttr",
    "fresh_attr",
    # -- __all__ caches --
    "CacheTargetError",
    "CachesCleared",
    "ClearCaches",
    "clear_caches",
    # -- __all__ async --
    "SequenceExhaustedError",
    "async_context_manager",
    "async_iterator",
    "async_raise",
    "async_return",
    "async_sequence",
    # -- __all__ spies and stubs --
    "Spy",
    "async_stub",
    "spy",
    "stub",
    # -- __all__ plugin support --
    "SafeMock",
    "SafeMockTestCase",
    # -- __all__ unittest.mock's own names, re-exported --
    "ANY",
    "DEFAULT",
    "AsyncMock",
    "MagicMock",
    "Mock",
    "NonCallableMagicMock",
    "NonCallableMock",
    "PropertyMock",
    "call",
    "mock_open",
    "seal",
    "sentinel",
]

# Where each public name lives; keep in step with the imports above (the tests check).
_SOURCES: Final[dict[str, tuple[str, ...]]] = {
    "unittest.mock": (
        "ANY",
        "DEFAULT",
        "AsyncMock",
        "MagicMock",
        "Mock",
        "NonCallableMagicMock",
        "NonCallableMock",
        "PropertyMock",
        "call",
        "mock_open",
        "seal",
        "sentinel",
    ),
    "saferemock._activation": ("scope", "stopall"),
    "saferemock._autospec": ("create_autospec",),
    "saferemock._patch": ("Patch", "PatchDict", "PatchMultiple", "patch"),
    "saferemock._modules": (
        "BlockModules",
        "FakeModuleTree",
        "FreshImport",
        "block_modules",
        "fake_module_tree",
        "fresh_import",
    ),
    "saferemock._builtins": ("PatchBuiltin", "patch_builtin"),
    "saferemock._fakeopen": ("FakeFiles", "FakeOpen", "fake_open"),
    "saferemock._attrs": ("FreshAttr", "fresh_attr"),
    "saferemock._caches": ("CachesCleared", "ClearCaches", "clear_caches"),
    "saferemock._async": (
        "async_context_manager",
        "async_iterator",
        "async_raise",
        "async_return",
        "async_sequence",
    ),
    "saferemock._spy": ("Spy", "spy"),
    "saferemock._stubs": ("async_stub", "stub"),
    "saferemock._safemock": ("SafeMock", "SafeMockTestCase"),
    "saferemock.exceptions": (
        "CacheTargetError",
        "FakeFilesError",
        "InvalidTargetError",
        "ModuleTreeError",
        "SaferemockError",
        "SaferemockLeakWarning",
        "SaferemockWarning",
        "SequenceExhaustedError",
        "TargetAttributeError",
        "TargetImportError",
        "UndoError",
        "UnusedPatchError",
    ),
}
_WHERE: Final[dict[str, str]] = {
    name: module for module, names in _SOURCES.items() for name in names
}

if not TYPE_CHECKING:
    # Hidden from type checkers: for them a module __getattr__ would make every misspelt
    # name (sm.pach) a valid attribute.

    def __getattr__(name: str) -> object:
        module = _WHERE.get(name)
        if module is None:
            raise AttributeError(f"module 'saferemock' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # the next lookup is a plain one
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
