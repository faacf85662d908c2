"""``sm.patch_builtin``: replace a builtin for every module, or only where one module looks it up.

CPython looks a builtin up at run time, on every use: first in the running module's
globals, then in the ``builtins`` module.  So there are two places to put a replacement:

* ``module=None`` sets ``builtins.<name>``, which every module sees.  What goes into the
  slot is a small router, not the mock itself: calls made by test machinery (pytest,
  pluggy, unittest, doctest, hypothesis, coverage, the import system, saferemock itself)
  reach the real builtin, so a patched ``len``, ``isinstance`` or ``open`` cannot break
  assertion rewriting, reporting or the mock library; every other call reaches the
  replacement.
* ``module="myapp.io"`` injects the name into that module's globals, so only that
  consumer sees the replacement ("patch where it is used"), and removes it (or restores
  the module's own global of that name) on exit.

Both go through the teardown engine.  The replacement is autospecced from the real
builtin, with a signature table for the builtins ``inspect.signature`` cannot read on
some supported Python (see `SIGNATURE_TABLE`).
"""

from __future__ import annotations

import builtins
import inspect
import io
import os
import pathlib
import sys
import types
from collections.abc import Callable
from typing import Any, Final, final
from unittest import mock

from saferemock._activation import Activation
from saferemock._autospec import create_autospec
from saferemock._patch import DEFAULT
from saferemock._targets import import_owner, suggest
from saferemock._undo import Journal
from saferemock.exceptions import InvalidTargetError, TargetAttributeError

__all__ = [
    "MACHINERY_MODULES",
    "SIGNATURE_TABLE",
    "STDLIB_BACKPORTS",
    "PatchBuiltin",
    "builtin_mock",
    "check_builtin_name",
    "check_module",
    "consumer_module",
    "install_builtin",
    "patch_builtin",
    "real_builtin",
]


class _NoDefault:
    """Stands for "no default" in a builtin's optional positional parameter."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no default>"


_NO_DEFAULT: Final = _NoDefault()

#: Signatures of the builtin functions whose signature ``inspect.signature`` cannot read
#: on at least one of Python 3.10-3.13, written from the documentation.  A builtin found
#: here is checked against this signature on every Python, so behaviour does not change
#: between versions.  Builtins with several call forms (``iter``, ``min``, ``max``) get
#: the union of them.
SIGNATURE_TABLE: Final[dict[str, Callable[..., None]]] = {
    "__build_class__": lambda func, name, /, *bases, **kwds: None,
    "__import__": lambda name, globals=None, locals=None, fromlist=(), level=0: None,
    "anext": lambda aiterator, default=_NO_DEFAULT, /: None,
    "breakpoint": lambda *args, **kws: None,
    "dir": lambda object=_NO_DEFAULT, /: None,
    "getattr": lambda object, name, default=_NO_DEFAULT, /: None,
    "iter": lambda object, sentinel=_NO_DEFAULT, /: None,
    "max": lambda iterable, /, *args, key=None, default=_NO_DEFAULT: None,
    "min": lambda iterable, /, *args, key=None, default=_NO_DEFAULT: None,
    "next": lambda iterator, default=_NO_DEFAULT, /: None,
    "print": lambda *args, sep=" ", end="\n", file=None, flush=False: None,
    "vars": lambda object=_NO_DEFAULT, /: None,
}

# Names of the builtins module that are not builtins one could replace: its own metadata.
_NOT_BUILTINS: Final = frozenset({"__doc__", "__loader__", "__name__", "__package__", "__spec__"})
# The compiler turns these into constants, so no lookup ever sees a replacement.
_CONSTANTS: Final = frozenset({"False", "None", "True", "__debug__"})

#: Top-level packages whose calls always reach the real builtin in global mode, when they
#: are installed (not part of the project under test): test runners, their plugins (and
#: any installed ``pytest_*`` package), debuggers, coverage.  saferemock's own code, the
#: import system and the standard library's ``unittest`` and ``doctest`` count too.
MACHINERY_MODULES: Final = frozenset(
    {
        "_hypothesis_ftz_detector",
        "_hypothesis_globals",
        "_hypothesis_pytestplugin",
        "_pydev_bundle",
        "_pydevd_bundle",
        "_pytest",
        "coverage",
        "debugpy",
        "execnet",
        "hypothesis",
        "iniconfig",
        "pluggy",
        "py",
        "pydevd",
        "pytest",
        "xdist",
    }
)
#: Backports of the standard library count as standard library: judged by their caller.
#: (On 3.10 pytest formats tracebacks through ``exceptiongroup``, which calls
#: ``isinstance`` on pytest's behalf.)
STDLIB_BACKPORTS: Final = frozenset(
    {
        "backports",
        "exceptiongroup",
        "importlib_metadata",
        "importlib_resources",
        "tomli",
        "typing_extensions",
        "zipp",
    }
)
_STDLIB_MACHINERY: Final = frozenset(
    {
        "_frozen_importlib",
        "_frozen_importlib_external",
        "doctest",
        "importlib",
        "unittest",
        "zipimport",
    }
)
_OWN_DIR: Final = os.path.dirname(os.path.abspath(__file__)) + os.sep
_STDLIB_DIR: Final = os.path.dirname(os.path.abspath(os.__file__)) + os.sep
_SITE_DIRS: Final = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")
_getframe: Final = sys._getframe

# What each code file's calls count as: True machinery, False code under test, None
# standard library (its caller decides).  A file is always the same module, so the
# answer is worked out once per file.
_VERDICTS: Final[dict[str, bool | None]] = {}
_UNKNOWN: Final = object()


def _classify(filename: str, name: object) -> bool | None:
    """Say whose code ``filename`` (the module ``name``) is; see `_VERDICTS`.

    By where the file really is, not by the module's name: a pytest plugin under test
    (``pytest_myplugin`` in the project) is code under test like any other, while an
    installed one is machinery.  saferemock's own files are decided first, so a patched
    builtin that this function calls comes straight back with the real one.
    """
    if filename.startswith(_OWN_DIR):
        return True
    top = name.partition(".")[0] if isinstance(name, str) else ""
    if filename.startswith("<"):
        if filename.startswith("<frozen "):
            # Frozen standard library modules: codecs, os, the import system...
            return True if top in _STDLIB_MACHINERY else None
        return False  # <doctest ...>, <string> and the like: code someone runs
    installed = any(part in filename for part in _SITE_DIRS)
    if filename.startswith(_STDLIB_DIR) and not installed:
        return True if top in _STDLIB_MACHINERY else None
    if installed:
        if top in MACHINERY_MODULES or top.startswith("pytest_"):
            return True
        return None if top in STDLIB_BACKPORTS else False
    # Outside site-packages: the project itself, or a test runner run from a checkout.
    return top in MACHINERY_MODULES and _is_module_file(top, filename)


def _is_module_file(top: str, filename: str) -> bool:
    module = sys.modules.get(top)
    origin = getattr(module, "__file__", None)
    if not isinstance(origin, str):
        return False
    root = os.path.dirname(origin) + os.sep if hasattr(module, "__path__") else origin
    return filename.startswith(root)


def _from_machinery(frame: types.FrameType | None) -> bool:
    """Tell whether the call made from ``frame`` is test machinery calling a builtin.

    The first frame, walking outwards, that is not standard library decides: so
    ``pathlib`` opening a file for a test counts as the test, and ``linecache`` reading
    source for pytest's report counts as pytest.  This runs on every call of a patched
    builtin, so past the first sight of each file it calls no builtin (one may be the
    patched one).
    """
    verdicts = _VERDICTS
    while frame is not None:
        filename = frame.f_code.co_filename
        verdict = verdicts.get(filename, _UNKNOWN)
        if verdict is _UNKNOWN:
            verdict = verdicts[filename] = _classify(filename, frame.f_globals.get("__name__"))
        if verdict is not None:
            return verdict is True
        frame = frame.f_back
    return False


def _unwrap(value: object) -> object:
    """Return the builtin behind saferemock's routers (and ``staticmethod`` wrappers)."""
    if type(value) is staticmethod:
        value = value.__func__
    while True:
        inner = getattr(value, "__saferemock_real__", None)
        if inner is None:
            return value
        value = inner


# The builtins as they were when saferemock was imported: the "real" builtin stays known
# while anything (a router of ours, someone's mock) sits in the slot.
_ORIGINALS: Final = dict(vars(builtins))


def real_builtin(name: str) -> Any:
    """Return the real builtin ``name``: the one found at import, else the current one."""
    original = _ORIGINALS.get(name, _ORIGINALS)
    if original is not _ORIGINALS:
        return original
    return _unwrap(vars(builtins)[name])


def _route(real: Callable[..., Any], replacement: Callable[..., Any]) -> Callable[..., Any]:
    """Build what goes into ``builtins``: machinery gets ``real``, everyone else the replacement."""

    def router(*args: Any, **kwargs: Any) -> Any:
        if _from_machinery(_getframe(1)):
            return real(*args, **kwargs)
        return replacement(*args, **kwargs)

    name = getattr(real, "__name__", None)
    router.__name__ = router.__qualname__ = name if isinstance(name, str) else "router"
    router.__doc__ = real.__doc__ if isinstance(real.__doc__, str) else None
    router.__module__ = "builtins"
    # inspect.signature() follows __wrapped__, so autospeccing the patched slot (a
    # nested unittest.mock.patch with autospec=True) still sees the real signature.
    router.__wrapped__ = real  # type: ignore[attr-defined]
    # Dunder names: unittest.mock's create_autospec skips them when it walks the router's
    # attributes (it cannot spec a Mock object, which the replacement usually is).
    router.__saferemock_real__ = real  # type: ignore[attr-defined]
    router.__saferemock_replacement__ = replacement  # type: ignore[attr-defined]
    return router


# One signature-carrying stub per builtin, built on first use: reading a builtin's
# signature parses its text signature, which costs more than the whole rest of a patch.
_STUBS: dict[str, tuple[object, Callable[..., Any] | None]] = {}


def _signature_stub(name: str, real: Any) -> Callable[..., Any] | None:
    """Return a plain function with the call signature of builtin ``real``, or None.

    None means calls cannot be checked: ``real`` is a class, or a callable whose
    signature is neither in `SIGNATURE_TABLE` nor readable by ``inspect``.
    """
    cached = _STUBS.get(name)
    if cached is not None and cached[0] is real:
        return cached[1]
    stub: Callable[..., Any] | None = None
    if callable(real) and not isinstance(real, type):
        # The table describes CPython's own builtins, not whatever someone put in their place.
        table = SIGNATURE_TABLE.get(name) if type(real) is types.BuiltinFunctionType else None
        try:
            signature = inspect.signature(table if table is not None else real)
        except (TypeError, ValueError):
            signature = None
        if signature is not None:
            stub = _make_stub(name, real, signature)
    _STUBS[name] = (real, stub)
    return stub


def _make_stub(name: str, real: Any, signature: inspect.Signature) -> Callable[..., Any]:
    def stub(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - only its signature is used
        raise AssertionError("signature stub called")

    stub.__signature__ = signature  # type: ignore[attr-defined]
    stub.__name__ = stub.__qualname__ = name
    stub.__doc__ = real.__doc__ if isinstance(real.__doc__, str) else None
    stub.__module__ = "builtins"
    return stub


def builtin_mock(name: str, real: Any, autospec: bool = True, **kwargs: Any) -> Any:
    """Return a mock standing in for builtin ``name`` (whose real object is ``real``).

    With ``autospec``: a builtin function is mocked with its signature enforced (from
    `SIGNATURE_TABLE`, else ``inspect.signature``); a class is autospecced as a
    class (attributes checked, calls not, as ``unittest.mock`` does); anything else
    whose signature cannot be read accepts any call.
    """
    if not autospec:
        return mock.MagicMock(name=name, **kwargs)
    stub = _signature_stub(name, real)
    if stub is None:
        return create_autospec(real, _name=name, **kwargs)
    # unittest.mock's create_autospec(builtin) takes the signature of the builtin's
    # __call__ method-wrapper, (*args, **kwargs), and so checks nothing.  Install the
    # real signature the way create_autospec does for other callables: on the mock's
    # own class (every MagicMock has one) as _mock_check_sig, which __call__ runs first.
    replacement = mock.MagicMock(spec=stub, name=name, **kwargs)
    signature: inspect.Signature = stub.__signature__  # type: ignore[attr-defined]

    def checksig(self: object, /, *args: Any, **kwargs: Any) -> None:
        signature.bind(*args, **kwargs)

    kind = type(replacement)
    kind._mock_check_sig = checksig
    kind.__signature__ = signature
    return replacement


def _open_aliases() -> list[tuple[Any, str, bool]]:
    """Return the other slots that hold the real ``open``: ``(owner, name, as_staticmethod)``.

    ``pathlib.Path.open`` calls ``io.open`` at run time on 3.11+; on 3.10 it calls
    ``pathlib._NormalAccessor.open``, a class attribute bound to ``io.open`` at import.
    """
    real = real_builtin("open")
    aliases: list[tuple[Any, str, bool]] = []
    if _unwrap(vars(io).get("open")) is real:
        aliases.append((io, "open", False))
    accessor = getattr(pathlib, "_NormalAccessor", None)
    if accessor is not None and _unwrap(vars(accessor).get("open")) is real:
        aliases.append((accessor, "open", True))
    return aliases


def install_builtin(
    journal: Journal, name: str, replacement: Any, consumer: types.ModuleType | None
) -> None:
    """Put ``replacement`` where lookups of builtin ``name`` find it, through ``journal``.

    ``consumer=None`` means every module (``builtins``, plus ``io.open`` and pathlib's
    alias for ``open``); a module means only that module's globals.
    """
    if consumer is not None:
        journal.setattr(consumer, name, replacement)
        return
    real = real_builtin(name)
    value = (
        _route(real, replacement)
        if callable(real) and not isinstance(real, type) and callable(replacement)
        else replacement
    )
    aliases = _open_aliases() if name == "open" else []
    journal.setattr(builtins, name, value)
    for owner, attribute, as_static in aliases:
        journal.setattr(owner, attribute, staticmethod(value) if as_static else value)


def check_module(module: object, function: str) -> None:
    """Validate the form of a ``module=`` argument without importing anything."""
    __tracebackhide__ = True
    if module is None or isinstance(module, types.ModuleType):
        return
    if isinstance(module, str) and all(part.isidentifier() for part in module.split(".")):
        return
    raise InvalidTargetError(
        f"{function}() takes module= as a module or its dotted name such as 'myapp.io', "
        f"not {module!r}."
    )


def consumer_module(module: types.ModuleType | str | None, what: str) -> types.ModuleType | None:
    """Resolve ``module=`` (importing a dotted name); None means global mode."""
    __tracebackhide__ = True
    if module is None or module is builtins:
        return None
    if isinstance(module, types.ModuleType):
        return module
    found = import_owner(module, module)
    if not isinstance(found, types.ModuleType):
        raise InvalidTargetError(
            f"Cannot patch {what} in {module!r}: it is a {type(found).__name__} object, not "
            "a module; pass the module whose code calls it."
        )
    return found if found is not builtins else None


def check_builtin_name(name: object) -> str:
    """Validate that ``name`` names a replaceable builtin; return it."""
    __tracebackhide__ = True
    if not isinstance(name, str):
        raise InvalidTargetError(
            f"patch_builtin() takes the builtin's name as a string such as 'open', not {name!r}."
        )
    if name in _CONSTANTS:
        raise InvalidTargetError(
            f"Cannot patch builtin {name!r}: the compiler turns it into a constant, so no "
            "lookup would ever see the replacement; change the code that uses it instead."
        )
    names = vars(builtins)
    if name not in names or name in _NOT_BUILTINS:
        candidates = [n for n in names if n not in _NOT_BUILTINS and n not in _CONSTANTS]
        hint = suggest(name, candidates)
        raise TargetAttributeError(
            f"{name!r} is not a builtin{hint}"
            if hint
            else f"{name!r} is not a builtin; use sm.patch('module.attribute') to replace "
            "anything else."
        )
    return name


@final
class PatchBuiltin(Activation[Any]):
    """One ``sm.patch_builtin(...)``; see `patch_builtin`.

    Examples:
        >>> import saferemock as sm
        >>> patcher = sm.patch_builtin("input", return_value="yes")
        >>> answer = patcher.start()
        >>> input("Continue? ")
        'yes'
        >>> patcher.stop()
        >>> answer.assert_called_once_with("Continue? ")
    """

    def __init__(
        self,
        name: str,
        new: Any,
        module: types.ModuleType | str | None,
        autospec: bool,
        kwargs: dict[str, Any],
    ) -> None:
        __tracebackhide__ = True
        super().__init__()
        self._name = check_builtin_name(name)
        check_module(module, "patch_builtin")
        if module is builtins or module == "builtins":
            module = None
        if new is not DEFAULT and kwargs:
            raise TypeError(
                f"Cannot configure the mock with {sorted(kwargs)} when new= is given; "
                "configure the object you pass as new instead."
            )
        if module is None and isinstance(vars(builtins)[name], type):
            raise InvalidTargetError(
                f"Cannot patch builtin class {name!r} for every module: pytest and the "
                "standard library use it as a type too; pass module='yourapp.module' to "
                "replace it only where your code looks it up."
            )
        self._new = new
        self._module = module
        self._autospec = autospec
        self._kwargs = kwargs
        self._passes_value = new is DEFAULT

    @property
    def name(self) -> str:
        """The name of the builtin this patch replaces."""
        return self._name

    def describe(self) -> str:
        where = ""
        if self._module is not None:
            label = self._module if isinstance(self._module, str) else self._module.__name__
            where = f" in module {label!r}"
        return f"the patch of builtin {self._name!r}{where}"

    def apply(self, journal: Journal) -> Any:
        __tracebackhide__ = True
        consumer = consumer_module(self._module, f"builtin {self._name!r}")
        if self._new is not DEFAULT:
            replacement = self._new
        else:
            real = real_builtin(self._name)
            replacement = builtin_mock(self._name, real, self._autospec, **self._kwargs)
        install_builtin(journal, self._name, replacement, consumer)
        return replacement


def patch_builtin(
    name: str,
    new: Any = DEFAULT,
    *,
    module: types.ModuleType | str | None = None,
    autospec: bool = True,
    **kwargs: Any,
) -> PatchBuiltin:
    """Replace the builtin ``name`` for every module, or only for the module ``module``.

    With ``module=None`` the replacement is seen by every module, except that calls made
    by test machinery (pytest and its plugins, unittest, doctest, hypothesis, coverage,
    the import system and saferemock) still reach the real builtin, so pytest keeps
    working while ``open``, ``print``, ``len`` or ``isinstance`` is patched.  With
    ``module="myapp.io"`` (or a module object) the name is injected into that module's
    globals only, and removed (or the module's own global of that name put back) on exit.

    With no ``new`` the replacement is a mock autospecced from the real builtin in both
    modes: a call the real builtin would reject raises ``TypeError``.  ``autospec=False``
    gives a plain ``MagicMock``; extra keyword arguments (``return_value=...``)
    configure the mock.  Builtin classes can only be patched with ``module=``.

    Works as a context manager and decorator (passing the mock when ``new`` is not
    given) and with ``start()``/``stop()``; `scope` and
    `stopall` undo it.

    Examples:
        >>> import saferemock as sm
        >>> with sm.patch_builtin("input", return_value="yes") as fake_input:
        ...     input("Continue? ")
        'yes'
        >>> fake_input.assert_called_once_with("Continue? ")
        >>> with sm.patch_builtin("open"):
        ...     open("a", "r", -1, None, None, None, True, None, "too many")
        Traceback (most recent call last):
        ...
        TypeError: too many positional arguments
        >>> sm.patch_builtin("opne")
        Traceback (most recent call last):
        ...
        saferemock.TargetAttributeError: 'opne' is not a builtin; did you mean 'open'?
    """
    __tracebackhide__ = True
    return PatchBuiltin(name, new, module, autospec, kwargs)
