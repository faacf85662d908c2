"""The saferemock pytest plugin: fixtures, markers, ini options and the pollution guard.

Registered through the ``pytest11`` entry point named ``saferemock``, so it is active once
the package is installed and ``-p no:saferemock`` turns it off.  The guard itself lives in
`saferemock._guard` (no pytest there); this module decides when it looks (after each
conftest import, around each test file's collection, after each test's teardown, and
around longer-lived fixtures), whom it blames, and how leaks are reported:

* ``warn`` (the default): a terminal summary section and one ``SaferemockLeakWarning`` per
  leak, recorded straight into pytest's warnings summary through the
  ``pytest_warning_recorded`` hook.  The warning is never raised through ``warnings.warn``,
  so ``-W error`` (or ``filterwarnings = error``) cannot turn it into an exception: warn
  mode never changes an outcome, and never restores anything.
* ``strict``: each leak is undone the moment it is found, and the culprit fails: the test
  (an error at its teardown, whose report pytest makes once the test's fixtures are torn
  down), the tests of the test file that leaked while being collected (they fail without
  running, and the rest of the session still runs), or the tests under the conftest that
  leaked.  A fixture that leaks fails the teardown of the test during which it was torn
  down.  Strict mode never runs the test protocol itself, so pytest-rerunfailures,
  pytest-repeat and flaky keep running tests again as they do without saferemock.
"""

from __future__ import annotations

import bisect
import fnmatch
import inspect
import os
import re
import types
import warnings
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, final

import pytest

import saferemock
import saferemock._unrewritten  # first: the modules below then load faster
from saferemock._check import LEAK_ONLY
from saferemock._foreign import watch as watch_foreign
from saferemock._guard import Culprit, Guard, Leak, allow_matches, iter_leak_lines
from saferemock._undo import ROOT, Journal
from saferemock.exceptions import SaferemockError, SaferemockLeakWarning, UndoError

# The plugin loads with every pytest run, and most runs never use a fixture: what the
# fixtures and markers need (SafeMock and the primitives, unittest.mock and asyncio with
# them) is imported where it is first used, which keeps the plugin's start cheap.
if TYPE_CHECKING:
    # Annotations only: pytest exports most of these names from 7.0 or later, and the
    # plugin has to load on pytest 6.2.5.
    from _pytest.config import Config, PytestPluginManager
    from _pytest.config.argparsing import Parser
    from _pytest.fixtures import FixtureDef, FixtureRequest
    from _pytest.main import Session
    from _pytest.nodes import Collector, Item, Node
    from _pytest.reports import TestReport
    from _pytest.runner import CallInfo
    from pluggy import Result

    from saferemock._activation import Activation
    from saferemock._safemock import SafeMock

__all__ = [
    "class_safemock",
    "leaks_of",
    "module_safemock",
    "package_safemock",
    "safemock",
    "session_safemock",
]

MODES: Final = ("off", "warn", "strict")
_TRUE: Final = ("true", "yes", "on", "1")
_FALSE: Final = ("false", "no", "off", "0", "")
_WORKER_KEY: Final = "saferemock_leaks"

# Hook wrappers here are old-style (``hookwrapper=True``, ``outcome = yield``): pluggy
# before 1.2, which pytest 6.2 and 7 accept, has no ``wrapper=True``.

_T = TypeVar("_T")


@final
class _Slot(Generic[_T]):
    """One value per pytest object (a ``Config``, an ``Item``) for as long as it lives.

    pytest's own ``Stash`` is 7.0 and later; a weak-keyed dict works on every supported
    pytest and never keeps a finished run's objects alive.
    """

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: weakref.WeakKeyDictionary[object, _T] = weakref.WeakKeyDictionary()

    def get(self, owner: object) -> _T | None:
        return self._values.get(owner)

    def set(self, owner: object, value: _T) -> None:
        self._values[owner] = value

    def pop(self, owner: object) -> _T | None:
        return self._values.pop(owner, None)


_STATE: Final = _Slot["_State"]()
_FORCED: Final = _Slot[str]()
_CALL_FAILED: Final = _Slot[bool]()
_MARKERS_JOURNAL: Final = _Slot[Journal]()

# The ``when`` of pytest_warning_recorded for a leak of each phase (else "runtest").
_WHEN: Final = {"conftest": "config", "session": "config", "collection": "collect"}

_STRICT_HEADER: Final = "saferemock (strict mode) restored global state that {who} left behind:\n"


# -- options -------------------------------------------------------------------------------


def pytest_addoption(parser: Parser) -> None:
    group = parser.getgroup("saferemock", "saferemock: safe mocks and the pollution guard")
    group.addoption(
        "--saferemock-guard",
        dest="saferemock_guard",
        default=None,
        metavar="MODE",
        help="pollution guard mode: off, warn (report leaks; never changes an outcome) or "
        "strict (restore each leak and fail only its culprit). "
        "Default: the saferemock_guard ini option, else warn.",
    )
    parser.addini(
        "saferemock_guard",
        "saferemock pollution guard mode: off, warn (default) or strict.",
        default="warn",
    )
    parser.addini(
        "saferemock_fake_modules",
        "Dotted module names faked for the whole session (saferemock.fake_module_tree), "
        "installed before any conftest is imported: the replacement for sys.modules hacks "
        "in conftest.py.",
        type="args",
        default=[],
    )
    parser.addini(
        "saferemock_clear_caches",
        "Modules or packages whose functools caches are cleared around every test "
        "(saferemock.clear_caches).",
        type="args",
        default=[],
    )
    parser.addini(
        "saferemock_accept",
        "Leaks to accept without failing or warning, one per line, as the report names "
        "them (\"sys.modules['Path']\", 'builtins.display', with * as a wildcard): for "
        "state a library leaves behind that is not a test's fault. Also covers conftest "
        "and collection leaks.",
        type="linelist",
        default=[],
    )
    parser.addini(
        "saferemock_require_use",
        "Make require_use=True the default of saferemock.patch: a patch nothing used "
        "fails the test (true or false, default false).",
        default="false",
    )


def _usage(message: str) -> pytest.UsageError:
    return pytest.UsageError(message)


def _mode(config: Config) -> str:
    flag = getattr(config.known_args_namespace, "saferemock_guard", None)
    if flag is not None:
        value = str(flag).strip().lower()
        if value not in MODES:
            raise _usage(
                f"--saferemock-guard={flag} is not a guard mode: use one of off, warn, strict."
            )
        return value
    raw = config.getini("saferemock_guard")
    value = str(raw).strip().lower()
    if value not in MODES:
        raise _usage(
            f"saferemock_guard = {raw} (ini option) is not a guard mode: use one of off, "
            "warn, strict."
        )
    return value


def _require_use(config: Config) -> bool:
    raw = config.getini("saferemock_require_use")
    value = str(raw).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _usage(
        f"saferemock_require_use = {raw} (ini option) is not a boolean: use one of true, "
        "false (or yes/no, on/off, 1/0)."
    )


# What a subject the guard reports looks like: sys.modules['x'], os.environ['X'],
# builtins.x, sys.path, a dotted attribute or patch target, patch.dict(...).
_SUBJECT: Final = re.compile(
    r"sys\.modules\[.+\]|os\.environ\[.+\]|patch\.dict\(.+\)|[\w*]+(\.[\w*]+)+"
)


def _accepted(config: Config) -> tuple[str, ...]:
    patterns = tuple(str(line).strip() for line in config.getini("saferemock_accept"))
    for pattern in patterns:
        if pattern and not _SUBJECT.fullmatch(pattern):
            raise _usage(
                f"saferemock_accept (ini option) lists {pattern!r}, which is not a leak as "
                "the report names it: write sys.modules['name'], os.environ['NAME'], "
                "builtins.name, sys.path or module.attribute, one per line, with * as a "
                "wildcard."
            )
    return tuple(pattern for pattern in patterns if pattern)


def _names(config: Config, option: str) -> list[str]:
    names = [str(name) for name in config.getini(option)]
    for name in names:
        if not all(part.isidentifier() for part in name.split(".")):
            raise _usage(
                f"{option} (ini option) lists {name!r}, which is not a dotted module name: "
                "use names such as boto3 or confluent_kafka.schema_registry, separated by "
                "spaces or new lines."
            )
    return names


# -- per-session state ---------------------------------------------------------------------


@final
class _State:
    """What the plugin keeps for one pytest run (one ``Config``)."""

    def __init__(self, config: Config, mode: str) -> None:
        self.config = config
        self.mode = mode
        self.guard: Guard | None = None
        self.leaks: list[Leak] = []
        self.errors: list[str] = []
        self.caches: tuple[str, ...] = ()
        # Strict mode: leaks of collection (by test file) and of conftests (by directory)
        # that fail the tests they apply to.
        self.failing_files: dict[str, list[str]] = {}
        self.failing_dirs: dict[str, list[str]] = {}
        self.holds: dict[int, tuple[object, Any]] = {}
        self.journal = Journal()
        self.fakes: SafeMock | None = None
        self._is_test_name = _test_file_matcher([str(p) for p in config.getini("python_files")])
        self._rootpath = config.rootpath
        self._seen: set[tuple[str, str]] = set()
        # The file of the previous test, and how many mocks existed when a test started:
        # the sweep of every module runs when a file ends, or after a test made mocks.
        self.last_file = ""
        self.made = 0
        # How many longer-lived fixtures were torn down, in all and when a test started.
        self.released = 0
        self.released_before = 0
        # The collected tests by id: a leak found after its test has ended still names
        # the test's line and honours its saferemock_allow markers.
        self.items: dict[str, Item] = {}

    @property
    def strict(self) -> bool:
        return self.mode == "strict"

    def relpath(self, path: str | os.PathLike[str]) -> str:
        try:
            return os.path.relpath(path, self._rootpath).replace(os.sep, "/")
        except ValueError:  # another drive on Windows
            return str(path)

    def is_test_file(self, filename: str) -> bool:
        return self._is_test_name(filename)

    def close(self) -> None:
        errors: list[BaseException] = []
        steps: list[str] = []
        guard, self.guard = self.guard, None
        if guard is not None:
            try:
                guard.close()
            except Exception as exc:
                errors.append(exc)
                steps.append("ending the pollution guard")
        if self.fakes is not None:
            fakes, self.fakes = self.fakes, None
            try:
                fakes.close()
            except Exception as exc:
                errors.append(exc)
                steps.append("removing the saferemock_fake_modules fakes")
        try:
            self.journal.undo()
        except Exception as exc:
            errors.append(exc)
            steps.append("restoring saferemock settings")
        if errors:
            raise UndoError(errors, steps)

    # -- checking ----------------------------------------------------------------------

    def check(self, culprit: Callable[[], Culprit], *, sweep: bool = False) -> list[Leak]:
        """Run a checkpoint (and the sweep); a bug in the guard turns it off, not the run."""
        guard = self.guard
        if guard is None:
            return []
        try:
            leaks = guard.checkpoint(culprit)
            if sweep:
                leaks += guard.sweep(culprit)
        except Exception as exc:  # pragma: no cover - a guard bug must not fail tests
            self.errors.append(f"the guard failed and was turned off: {exc!r}")
            self.guard = None
            guard.close()
            return []
        return leaks

    def late(self, leaks: list[Leak]) -> list[Leak]:
        """Mark what strict mode undid only when a file or the run ended: its culprit
        passed before anyone knew (a test's function left on an installed module)."""
        if not self.strict:
            return leaks
        return [leak if leak.kept else leak._replace(late=True) for leak in leaks]

    def test_culprit(self, nodeid: str) -> Culprit | None:
        """The culprit of the collected test ``nodeid``, with its allow markers."""
        item = self.items.get(nodeid)
        return None if item is None else _test_culprit(item)

    def found(self, leaks: Iterable[Leak]) -> None:
        """Keep each leak once and, in warn mode, record it in pytest's warnings summary.

        Once: a test that pytest-rerunfailures runs again leaks again in each attempt, and
        every pytest-xdist worker collects every file, so finds the same collection leaks.
        Workers record no warnings: the controller does, as it merges what they found.
        """
        for leak in leaks:
            key = (leak.where, leak.what)
            if key in self._seen:
                continue
            self._seen.add(key)
            item = self.items.get(leak.culprit) if leak.phase == "test" else None
            if item is not None and self.mode == "warn":
                leak = _with_location(leak, *_item_location(item))
            self.leaks.append(leak)
            # (pytest-xdist sets workerinput after the plugin has made this object.)
            if self.mode == "warn" and not hasattr(self.config, "workerinput"):
                self._warn(leak)

    def _warn(self, leak: Leak) -> None:
        # Straight into the warnings summary, never through warnings.warn: -W error must
        # not turn warn mode into something that changes outcomes.
        message = warnings.WarningMessage(
            SaferemockLeakWarning(f"saferemock: {leak.report_line()}"),
            SaferemockLeakWarning,
            leak.path or "<saferemock>",
            leak.line,
        )
        self.config.hook.pytest_warning_recorded.call_historic(
            kwargs={
                "warning_message": message,
                "when": _WHEN.get(leak.phase, "runtest"),
                "nodeid": leak.culprit if leak.phase in ("test", "collection") else "",
                "location": None,
            }
        )

    def fail_under(self, path: str, leaks: Sequence[Leak], *, directory: bool) -> None:
        lines = list(iter_leak_lines(leaks))
        target = self.failing_dirs if directory else self.failing_files
        target.setdefault(path, []).extend(lines)

    def forced_failure(self, item: Item) -> str:
        path = _path_of(item)
        lines = list(self.failing_files.get(path, ()))
        for directory, more in self.failing_dirs.items():
            if path.startswith(directory):
                lines.extend(more)
        if not lines:
            return ""
        who = "the collection of this test's file or one of its conftests"
        return _STRICT_HEADER.format(who=who) + "".join(f"  {line}\n" for line in lines)


def _test_file_matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """A test for "is this a test file or a conftest", by the ``python_files`` patterns.

    A pattern with a slash matches the end of the whole path, any other the file's name,
    as fnmatch would; the guard asks about every module's file, so the patterns are
    compiled into one expression for each of the two.
    """

    def compiled(parts: list[str]) -> Callable[[str], object]:
        if not parts:
            return lambda text: None
        return re.compile(
            "|".join(fnmatch.translate(os.path.normcase(part)) for part in parts)
        ).match

    by_path = compiled(["*" + p for p in patterns if os.sep in p or "/" in p])
    by_name = compiled(["conftest.py", *(p for p in patterns if not (os.sep in p or "/" in p))])

    def is_test_file(filename: str) -> bool:
        if by_name(os.path.normcase(os.path.basename(filename))) is not None:
            return True
        return by_path(os.path.normcase(filename.replace(os.sep, "/"))) is not None

    return is_test_file


def _state(config: Config) -> _State | None:
    return _STATE.get(config)


def _path_of(node: Node) -> str:
    """The node's file (``Node.path`` is 7.0 and later; ``fspath`` is there before)."""
    path = getattr(node, "path", None)
    return str(path if path is not None else node.fspath)


def leaks_of(config: Config) -> list[Leak]:
    """Return the leaks the guard found in this run (merged from xdist workers), in order."""
    state = _state(config)
    return list(state.leaks) if state is not None else []


# -- start and end of the run ----------------------------------------------------------------


def pytest_load_initial_conftests(early_config: Config) -> None:
    """Install session fakes and start the guard before the first conftest is imported.

    A plain hook: it runs after the ``tryfirst`` ones (pytest-cov starts coverage there,
    whose state the guard must not blame on anyone) and before pytest's own, which
    imports the conftests.
    """
    config = early_config
    mode = _mode(config)
    require_use = _require_use(config)
    fake_names = _names(config, "saferemock_fake_modules")
    caches = _names(config, "saferemock_clear_caches")
    state = _State(config, mode)
    state.caches = tuple(caches)
    if caches:
        try:
            saferemock.clear_caches(*caches, missing_ok=True)
        except SaferemockError as exc:
            raise _usage(f"saferemock_clear_caches (ini option): {exc}") from None
    _STATE.set(config, state)
    config.add_cleanup(state.close)
    if require_use:
        from saferemock._patch import settings

        state.journal.setattr(settings, "require_use", True)
    if fake_names:
        from saferemock._safemock import SafeMock

        fakes = SafeMock(intentional=True)
        try:
            fakes.fake_module_tree(fake_names)
        except SaferemockError as exc:
            raise _usage(f"saferemock_fake_modules (ini option): {exc}") from None
        state.fakes = fakes
    accept = _accepted(config)
    if mode != "off":
        state.guard = Guard(
            str(state._rootpath),
            strict=state.strict,
            is_test_file=state.is_test_file,
            relpath=state.relpath,
            accept=accept,
        )


def pytest_configure(config: Config) -> None:
    state = _state(config)
    if state is not None and state.guard is not None:
        config.pluginmanager.register(_GuardHooks(state), _GuardHooks.name)
    config.addinivalue_line(
        "markers",
        "fake_modules(*names, strict=False, keep_real=False, evict='dependents'): fake "
        "these dotted modules (saferemock.fake_module_tree) from the test's setup to its "
        "teardown.",
    )
    config.addinivalue_line(
        "markers",
        "clear_caches(*targets, missing_ok=False): clear the functools caches of these "
        "functions, classes, modules or packages before and after the test "
        "(saferemock.clear_caches).",
    )
    config.addinivalue_line(
        "markers",
        "saferemock_allow(*subjects): accept these leaks from this test or test file; "
        "each subject is what the saferemock report names, such as \"sys.modules['boto3']\" "
        "or 'builtins.open', with * as a wildcard; no argument accepts every leak.",
    )


def pytest_plugin_registered(plugin: object, manager: PytestPluginManager) -> None:
    if not isinstance(plugin, types.ModuleType):
        return
    config = manager.get_plugin("pytestconfig")
    if config is None:
        return
    state = _state(config)
    if state is None or state.guard is None:
        return
    filename = vars(plugin).get("__file__")
    if not isinstance(filename, str):
        return
    state.found(state.check(lambda: _file_culprit(state, "conftest", filename, None)))


def _file_culprit(
    state: _State, phase: str, filename: str, node: Item | Collector | None
) -> Culprit:
    allow = None
    if node is not None:
        allow = _allow_patterns(node)
    relpath = state.relpath(filename)
    return Culprit(phase, relpath, path=filename, relpath=relpath, allow=allow)


def _allow_patterns(node: Item | Collector) -> tuple[str, ...] | None:
    patterns: list[str] = []
    found = False
    for marker in node.iter_markers("saferemock_allow"):
        if not marker.args:
            return ()
        found = True
        patterns.extend(str(arg) for arg in marker.args)
    return tuple(patterns) if found else None


def _session_culprit(state: _State, label: str) -> Callable[[], Culprit]:
    def culprit() -> Culprit:
        manager = state.config.pluginmanager
        conftests = [
            str(plugin.__file__)
            for plugin in manager.get_plugins()
            if isinstance(plugin, types.ModuleType)
            and os.path.basename(str(getattr(plugin, "__file__", ""))) == "conftest.py"
        ]
        search = tuple((path, state.relpath(path)) for path in sorted(conftests))
        return Culprit("session", label, search=search)

    return culprit


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Generator[None, Any, None]:
    """Show the engine each ``monkeypatch`` fixture object as soon as it exists.

    pytest's monkeypatch puts back what it saw when it stops; if a saferemock change
    under it ends first, the engine hands it the original instead (see ``_foreign``).
    """
    outcome = yield
    if fixturedef.argname == "monkeypatch" and outcome.excinfo is None:
        watch_foreign(outcome.get_result())


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: Session) -> None:
    state = _state(session.config)
    if state is None or state.guard is None:
        return
    # What plugins set up since the guard started (pytest-cov's process-wide state, an
    # xdist worker's setup) is configuration, unless a conftest's source makes it.
    culprit = _session_culprit(state, "pytest_configure or pytest_sessionstart hooks")()
    state.guard.current = culprit
    state.found(state.guard.settle(culprit))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_make_collect_report(collector: Collector) -> Generator[None, object, None]:
    state = _state(collector.config)
    if state is None or state.guard is None or not isinstance(collector, pytest.File):
        yield
        return
    state.found(state.check(_session_culprit(state, "collection hooks")))
    filename = _path_of(collector)
    guard = state.guard
    relpath = state.relpath(filename)
    guard.current = Culprit("collection", relpath, path=filename, relpath=relpath)
    yield
    # Built once the module is imported: its pytestmark (saferemock_allow) exists only now.
    culprit = _file_culprit(state, "collection", filename, collector)
    allow = culprit.allow
    leaks = [
        leak
        for leak in state.check(lambda: culprit)
        if allow is None
        or leak.path != filename
        or not (not allow or allow_matches(allow, leak.subject))
    ]
    guard.current = _session_culprit(state, "collection hooks")()
    if leaks:
        state.found(leaks)
        undone = [leak for leak in leaks if leak.phase == "collection" and not leak.kept]
        if state.strict and undone:
            state.fail_under(filename, undone, directory=False)


def _test_lines(items: list[Item]) -> Callable[[str, int], Culprit | None]:
    """Which collected test's body a line of a test file lies in, if any."""
    codes: list[tuple[types.CodeType, str]] = []
    for item in items:
        code = getattr(getattr(item, "function", None), "__code__", None)
        if code is not None:
            codes.append((code, item.nodeid))
    # Read the line tables only when first asked (a test file's function turned up in a
    # module): most runs never ask, and reading them for every test is the costly part.
    built: list[dict[str, list[tuple[int, int, str]]]] = []

    def spans() -> dict[str, list[tuple[int, int, str]]]:
        if built:
            return built[0]
        found: dict[str, list[tuple[int, int, str]]] = {}
        for code, nodeid in codes:
            lines = [line for _, _, line in code.co_lines() if line is not None]
            last = max(lines, default=code.co_firstlineno)
            found.setdefault(code.co_filename, []).append((code.co_firstlineno, last, nodeid))
        for rows in found.values():
            rows.sort()
        built.append(found)
        return found

    def test_at(path: str, line: int) -> Culprit | None:
        rows = spans().get(path, [])
        index = bisect.bisect_right(rows, (line, line, "\uffff")) - 1
        if index >= 0 and rows[index][0] <= line <= rows[index][1]:
            return Culprit("test", rows[index][2])
        return None

    return test_at


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: Config, items: list[Item]) -> None:
    state = _state(config)
    if state is None:
        return
    state.found(state.check(_session_culprit(state, "collection hooks")))
    if state.guard is not None:
        state.guard.test_at = _test_lines(items)
        state.items = {item.nodeid: item for item in items}
        state.guard.test_culprit = state.test_culprit
    manager = config.pluginmanager
    if (
        state.guard is not None
        and any(map(_uses_long_lived_fixtures, items))
        and not manager.has_plugin(_FixtureHolds.name)
    ):
        manager.register(_FixtureHolds(state), _FixtureHolds.name)
    # Per-test hooks are registered only when something needs them: each hook
    # implementation costs every test a call, and most suites need none of these.
    if (state.caches or _any_marked(items)) and not manager.has_plugin(_MarkerHooks.name):
        manager.register(_MarkerHooks(), _MarkerHooks.name)
    if not (state.failing_files or state.failing_dirs):
        return
    for item in items:
        text = state.forced_failure(item)
        if text:
            _FORCED.set(item, text)
    if not manager.has_plugin(_ForcedFailures.name):
        manager.register(_ForcedFailures(), _ForcedFailures.name)


# -- around each test ------------------------------------------------------------------------


def _uses_long_lived_fixtures(item: Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    defs = getattr(info, "name2fixturedefs", None)
    if not isinstance(defs, dict):
        return True  # an item pytest does not describe: assume it does
    return any(fixture.scope != "function" for group in defs.values() for fixture in group)


_MARKERS: Final = frozenset({"fake_modules", "clear_caches"})


def _any_marked(items: list[Item]) -> bool:
    """Tell whether any item, or a module or class above it, has one of our markers."""
    checked: set[int] = set()
    for item in items:
        node: Item | Collector | None = item
        while node is not None and id(node) not in checked:
            checked.add(id(node))
            if any(mark.name in _MARKERS for mark in node.own_markers):
                return True
            node = node.parent
    return False


def _has_markers(item: Item) -> bool:
    # Keywords hold every marker name of the node and its parents: a dict lookup per
    # level, much cheaper than iterating the markers.
    keywords = item.keywords
    return "fake_modules" in keywords or "clear_caches" in keywords


def _marker_activations(item: Item, state: _State) -> list[Activation[Any]]:
    activations: list[Activation[Any]] = []
    if state.caches:
        activations.append(saferemock.clear_caches(*state.caches, missing_ok=True))
    for marker in item.iter_markers("clear_caches"):
        activations.append(saferemock.clear_caches(*marker.args, **marker.kwargs))
    for marker in item.iter_markers("fake_modules"):
        args = marker.args
        tree: Any = args[0] if len(args) == 1 and isinstance(args[0], dict) else list(args)
        activations.append(saferemock.fake_module_tree(tree, **marker.kwargs))
    return activations


@final
class _MarkerHooks:
    """``fake_modules`` and ``clear_caches`` markers and the ``saferemock_clear_caches`` ini.

    Started before the test's fixtures are set up, stopped after they are torn down.
    """

    name: Final = "saferemock-markers"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: Item) -> None:
        state = _state(item.config)
        if state is None or not (state.caches or _has_markers(item)):
            return
        journal = Journal(ROOT, "safemock", holder=f"the markers of {item.nodeid}")
        _MARKERS_JOURNAL.set(item, journal)
        for activation in _marker_activations(item, state):
            activation.open("start", journal)

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: Item) -> Generator[None, Result[None], None]:
        __tracebackhide__ = True
        outcome = yield
        try:
            _stop_activations(item, failed=outcome.excinfo is not None)
        except Exception as exc:
            _force_exception(outcome, exc)


def _force_exception(outcome: Result[Any], exc: BaseException) -> None:
    """Make an old-style hook wrapper's call raise ``exc``, on every pluggy."""
    __tracebackhide__ = True
    force = getattr(outcome, "force_exception", None)
    if force is None:
        # pluggy before 1.1 has no force_exception: there a wrapper fails the call by
        # raising (newer pluggy warns about that, hence force_exception where it exists).
        raise exc
    force(exc)


def _stop_activations(item: Item, *, failed: bool) -> None:
    __tracebackhide__ = True
    journal = _MARKERS_JOURNAL.pop(item)
    if journal is None:
        return
    try:
        journal.close(failed=failed)
    except Exception:
        # The teardown already failed: that error is the one to show.
        if not failed:
            raise


@final
class _ForcedFailures:
    """Strict mode, after a test file or conftest leaked while being imported."""

    name: Final = "saferemock-forced-failures"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: Item) -> None:
        text = _FORCED.get(item)
        if text:
            # The file (or a conftest above it) leaked while being imported: its tests do
            # not run in strict mode, they fail with the leak report.
            pytest.fail(text, pytrace=False)

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: Item, call: CallInfo[None]
    ) -> Generator[None, Result[TestReport], None]:
        outcome = yield
        if call.when == "call" and outcome.excinfo is None:
            text = _FORCED.get(item)
            if text:
                # Failed even where an xfail marker made the failure an expected one.
                _fail_report(outcome.get_result(), text)


@final
class _OutcomeRecorder:
    """Registered when a safemock fixture is first used: a failed test keeps require_use quiet."""

    name: Final = "saferemock-outcomes"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: Item, call: CallInfo[None]) -> None:
        if call.when == "call" and call.excinfo is not None:
            _CALL_FAILED.set(item, True)


def _fail_report(report: TestReport, text: str) -> None:
    """Fail ``report`` with the leak report; one that failed anyway gets it as a section."""
    if (
        report.failed
        and report.longrepr is not None
        and str(report.longrepr).strip() != text.strip()
    ):
        report.sections.append(("saferemock leaks", text))
        return
    report.outcome = "failed"
    report.longrepr = text
    setattr(report, LEAK_ONLY, True)
    if hasattr(report, "wasxfail"):
        del report.wasxfail


def _test_culprit(item: Item) -> Culprit:
    return Culprit("test", item.nodeid, path=_path_of(item), allow=_allow_patterns(item))


def _after_test(state: _State, item: Item, report: TestReport) -> None:
    """The check after a test's teardown; strict mode fails its teardown report."""
    guard = state.guard
    # Warn mode leaves a test's mock on another module to the sweep at the end of its
    # file, which names the test that made it; strict mode must find it now, to undo it
    # before the next test and fail this one, or the fixture torn down with it.
    sweep = (
        state.strict
        and guard is not None
        and (guard.origins.made != state.made or state.released != state.released_before)
    )
    leaks = state.check(lambda: _test_culprit(item), sweep=sweep)
    if not leaks:
        return
    state.found(leaks)
    if not state.strict:
        return
    undone = [leak for leak in leaks if not leak.kept]
    own = [leak for leak in undone if leak.phase == "test" and leak.culprit == item.nodeid]
    others = [leak for leak in undone if leak.phase == "fixture"]
    text = _strict_text("this test", own) if own else ""
    if others:
        text += _strict_text("a fixture torn down after this test", others)
    if text:
        _fail_report(report, text)


def _strict_text(who: str, leaks: Sequence[Leak]) -> str:
    return _STRICT_HEADER.format(who=who) + "".join(
        f"  {line}\n" for line in iter_leak_lines(leaks)
    )


def _item_location(item: Item) -> tuple[str, int]:
    try:
        path, line, _ = item.reportinfo()
        return str(path), (line or 0) + 1
    except Exception:  # pragma: no cover - a custom item with a broken reportinfo
        return _path_of(item), 0


def _with_location(leak: Leak, path: str, line: int) -> Leak:
    return Leak(**{**leak.to_dict(), "path": path, "line": line})


@final
class _GuardHooks:
    """Registered while the guard is on: the check after each test.

    pytest makes a test's teardown report once its fixtures are torn down, whoever runs
    the protocol (pytest itself, pytest-rerunfailures or flaky for each attempt), so the
    check there sees everything the test did, and strict mode fails that report without
    taking the protocol over from those plugins.  The wrapper runs outermost (tryfirst),
    after pytest's xfail handling has made its report.
    """

    name: Final = "saferemock-guard"

    def __init__(self, state: _State) -> None:
        self.state = state

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        state = self.state
        guard = state.guard
        if guard is None:
            return
        filename = location[0]
        if filename != state.last_file:
            if state.last_file:
                # The previous file ended: look at every module's attributes once more.
                previous = state.last_file
                leaks = guard.sweep(lambda: Culprit("collection", previous, relpath=previous))
                state.found(state.late(leaks))
            state.last_file = filename
        guard.current = Culprit("test", nodeid)
        state.made = guard.origins.made
        state.released_before = state.released

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: Item, call: CallInfo[None]
    ) -> Generator[None, Result[TestReport], None]:
        outcome = yield
        if call.when == "teardown" and outcome.excinfo is None:
            _after_test(self.state, item, outcome.get_result())


# pytest runs setUpClass, setup_class, setup_module and the like through fixtures of its
# own: what they change is the test code's, so the report points there.
_XUNIT_SETUPS: Final = ("setUpClass", "setup_class", "setUpModule", "setup_module")


def _setup_code(
    fixturedef: FixtureDef[Any], request: FixtureRequest, is_project_file: Callable[[str], bool]
) -> types.CodeType | None:
    """The code that sets a fixture up: its function, or the xunit setup pytest runs."""
    code: types.CodeType | None = getattr(inspect.unwrap(fixturedef.func), "__code__", None)
    if code is None or is_project_file(code.co_filename):
        return code
    for owner in (getattr(request, "cls", None), getattr(request, "module", None)):
        for name in _XUNIT_SETUPS:
            setup = getattr(owner, name, None)
            setup = inspect.unwrap(getattr(setup, "__func__", setup) or _no_setup)
            found = getattr(setup, "__code__", None)
            if isinstance(found, types.CodeType) and is_project_file(found.co_filename):
                return found
    return code


def _no_setup() -> None:
    """Stands for a class or module without that setup (its code is no project's)."""


@final
class _FixtureHolds:
    """What a class-, module-, package- or session-scoped fixture changes is held by it.

    Registered when some collected test uses such a fixture; judged at its teardown.
    """

    name: Final = "saferemock-fixtures"

    def __init__(self, state: _State) -> None:
        self.state = state

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: FixtureDef[Any], request: FixtureRequest
    ) -> Generator[None, object, None]:
        guard = self.state.guard
        if guard is None or fixturedef.scope == "function":
            yield
            return
        code = _setup_code(fixturedef, request, guard.is_project_file)
        filename = code.co_filename if code is not None else ""
        culprit = Culprit(
            "fixture",
            fixturedef.argname,
            path=filename,
            relpath=self.state.relpath(filename) if filename else "",
            line=code.co_firstlineno if code is not None else 0,
        )
        mark = guard.mark()
        # Mocks made while it sets up are the fixture's, not the test's that asked for it.
        test, guard.current = guard.current, culprit
        try:
            yield
        finally:
            guard.current = test
        self.state.holds[id(fixturedef)] = (fixturedef, guard.hold(mark, culprit))

    def pytest_fixture_post_finalizer(self, fixturedef: FixtureDef[Any]) -> None:
        holds = self.state.holds
        entry = holds.get(id(fixturedef))
        if entry is None or entry[0] is not fixturedef:
            return
        del holds[id(fixturedef)]
        self.state.released += 1
        if self.state.guard is not None:
            self.state.guard.release(entry[1])


# -- reporting --------------------------------------------------------------------------------


_NOT_FAILED: Final = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: Session) -> None:
    config = session.config
    state = _state(config)
    if state is None:
        return
    leaks = state.check(_session_culprit(state, "hooks after the last test"), sweep=True)
    state.found(state.late(leaks))
    workeroutput = getattr(config, "workeroutput", None)
    if isinstance(workeroutput, dict):
        workeroutput[_WORKER_KEY] = [leak.to_dict() for leak in state.leaks]
    if state.strict and state.leaks and session.exitstatus in _NOT_FAILED:
        # Strict mode fails the run whenever something leaked, even with no test to fail
        # for it (a leaking test file whose tests were all deselected, say).
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist: merge what a worker's guard found into the controller's report."""
    state = _state(node.config)
    output = getattr(node, "workeroutput", None)
    if state is None or not isinstance(output, dict):
        return
    state.found(Leak.from_dict(data) for data in output.get(_WORKER_KEY, ()))


def pytest_terminal_summary(terminalreporter: Any, config: Config) -> None:
    state = _state(config)
    if state is None or getattr(config, "workerinput", None) is not None:
        return
    lines = list(iter_leak_lines(state.leaks))
    for error in state.errors:
        terminalreporter.write_line(f"saferemock: {error}")
    if not lines:
        return
    noun = "leak" if len(lines) == 1 else "leaks"
    terminalreporter.write_sep("=", f"saferemock: {len(lines)} {noun}", yellow=True)
    for line in lines:
        terminalreporter.write_line(line)
    if state.strict:
        kept = any(leak.kept for leak in state.leaks)
        if any(leak.late for leak in state.leaks):
            text = (
                "(strict mode: the leaks of tests, fixtures and test files were undone "
                "right after their culprit, which failed, unless the line says otherwise; "
                "the run fails until they are fixed or accepted)"
            )
        elif kept:
            text = (
                "(strict mode: the leaks of tests, fixtures and test files were undone right "
                "after their culprit, which failed; what conftests, project modules and "
                "libraries set up was left in place, as each line says; the run fails until "
                "they are fixed or accepted)"
            )
        else:
            text = (
                "(strict mode: each leak was undone right after its culprit, which failed; "
                "every other test ran in a clean world)"
            )
        terminalreporter.write_line(text)
    else:
        terminalreporter.write_line(
            "(warn mode: nothing was restored and no outcome changed; run "
            "'python -m saferemock check' or --saferemock-guard=strict to fail only the "
            "culprits)"
        )


# -- fixtures ---------------------------------------------------------------------------------


def _managed(request: FixtureRequest, *, intentional: bool = False) -> Iterator[SafeMock]:
    __tracebackhide__ = True
    from saferemock._safemock import SafeMock

    manager = request.config.pluginmanager
    if not manager.has_plugin(_OutcomeRecorder.name):
        manager.register(_OutcomeRecorder(), _OutcomeRecorder.name)
    safemock_ = SafeMock(intentional=intentional, holder=f"fixture {request.fixturename!r}")
    try:
        yield safemock_
    finally:
        failed = request.scope == "function" and bool(_CALL_FAILED.get(request.node))
        safemock_.close(failed=failed)


@pytest.fixture
def safemock(request: FixtureRequest) -> Iterator[SafeMock]:
    """A `saferemock.SafeMock` for one test: everything it starts is undone at teardown.

    ``safemock.patch(...)``, ``.fake_module_tree(...)``, ``.patch_builtin(...)`` and the
    rest start at once and are undone in reverse order when the test ends.
    """
    __tracebackhide__ = True
    yield from _managed(request)


@pytest.fixture(scope="class")
def class_safemock(request: FixtureRequest) -> Iterator[SafeMock]:
    """A `saferemock.SafeMock` shared by a test class, undone after its last test."""
    __tracebackhide__ = True
    yield from _managed(request)


@pytest.fixture(scope="module")
def module_safemock(request: FixtureRequest) -> Iterator[SafeMock]:
    """A `saferemock.SafeMock` shared by a test module, undone after its last test."""
    __tracebackhide__ = True
    yield from _managed(request)


@pytest.fixture(scope="package")
def package_safemock(request: FixtureRequest) -> Iterator[SafeMock]:
    """A `saferemock.SafeMock` shared by a test package, undone after its last test."""
    __tracebackhide__ = True
    yield from _managed(request)


@pytest.fixture(scope="session")
def session_safemock(request: FixtureRequest) -> Iterator[SafeMock]:
    """A `saferemock.SafeMock` for session-wide fakes, undone at the end of the run.

    What it changes is intentional: the guard never reports it.
    """
    __tracebackhide__ = True
    yield from _managed(request, intentional=True)
