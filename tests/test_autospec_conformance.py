"""``sm.create_autospec`` against ``unittest.mock.create_autospec``, attribute by attribute.

For a generated class with 200 methods and for five standard-library classes, as class
spec, with ``instance=True`` and with ``spec_set=True``: every name in ``dir(spec)`` (and
a few that are not there) is read from both mocks; the two must agree on whether the
read raises (type and message), on what the result is (class, name, spec, signature,
``dir``), and, for callables, on which of a fixed set of call shapes raise ``TypeError``
and with which message.  Finally the two mocks must have recorded the same calls.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import inspect
import logging
import pathlib
import re
import sys
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest

import saferemock as sm

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from generated_classes import CALL_SHAPES, Generated

SPECS: list[type] = [
    Generated,
    http.client.HTTPConnection,
    argparse.ArgumentParser,
    logging.Logger,
    pathlib.Path,
    collections.OrderedDict,
]
MODES: dict[str, dict[str, Any]] = {
    "class": {},
    "instance": {"instance": True},
    "spec_set": {"spec_set": True},
}
# Names that are not on any spec: missing attributes and the assert-typo guard.
EXTRA_NAMES = ("nope", "_nope", "assert_nope", "assret_called", "called_with", "Nested_")
_ID = re.compile(r" id='\d+'")


def _outcome(action: Callable[..., Any], *args: Any) -> tuple[tuple[str, ...], Any]:
    try:
        value = action(*args)
    except Exception as exc:
        return ("raises", type(exc).__name__, str(exc)), None
    return ("ok",), value


def _signature(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError) as exc:
        return type(exc).__name__


def describe(value: Any) -> tuple[Any, ...]:
    """Everything about a mock that the stdlib decides (no ids)."""
    if not isinstance(value, mock.NonCallableMock):
        return ("value", type(value).__name__)
    cls = type(value)
    checksig = cls.__dict__.get("_mock_check_sig")
    return (
        cls.__name__,
        [base.__name__ for base in cls.__mro__[1:]],
        _ID.sub("", repr(value)),
        value._spec_class,
        value._spec_set,
        str(value._spec_signature),
        value._mock_methods,
        value._spec_asyncs,
        # Method children also live in __dict__ (the stdlib's loop sets them there);
        # the lazy mock adds each when it is first read, so they are compared later.
        [key for key in value.__dict__ if key not in (value._mock_methods or ())],
        sorted(dir(value)),
        _signature(value),
        None if checksig is None else (checksig.__name__, _signature(checksig)),
        # The magic methods set on the mock's own class (saferemock adds __getattr__ and
        # __setattr__).
        sorted(
            name
            for name in cls.__dict__
            if name.startswith("__")
            and name.endswith("__")
            and name not in ("__getattr__", "__setattr__")
        ),
    )


def _call(target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    outcome, result = _outcome(lambda: target(*args, **kwargs))
    if inspect.iscoroutine(result):
        result.close()  # never awaited on purpose; closing keeps -W error quiet
        return (*outcome, "coroutine")
    return outcome


def _compare(std: Any, ours: Any, label: str, problems: list[str]) -> None:
    if describe(std) != describe(ours):
        problems.append(f"{label}: {describe(std)} != {describe(ours)}")
    if isinstance(std, mock.NonCallableMock) and callable(std):
        for args, kwargs in CALL_SHAPES:
            expected, got = _call(std, args, kwargs), _call(ours, args, kwargs)
            if expected != got:
                problems.append(f"{label}(*{args}, **{kwargs}): {expected} != {got}")


def _names(spec: type) -> list[str]:
    return sorted(set(dir(spec)) | set(EXTRA_NAMES))


def _compare_read(std: Any, ours: Any, name: str, label: str, problems: list[str]) -> None:
    """Read ``name`` from both mocks: the outcomes must agree, and so must the values read."""
    expected, std_value = _outcome(getattr, std, name)
    got, our_value = _outcome(getattr, ours, name)
    if expected != got:
        problems.append(f"{label}: {expected} != {got}")
    elif expected == ("ok",):
        _compare(std_value, our_value, label, problems)


def _walk(std: Any, ours: Any, spec: type, label: str, problems: list[str]) -> None:
    for name in _names(spec):
        if name in ("__init__", "__class__", "__dict__", "__getattr__", "__setattr__"):
            continue  # plain attributes of the mock classes themselves, not specced
        _compare_read(std, ours, name, f"{label}.{name}", problems)


@pytest.mark.parametrize("mode", list(MODES), ids=list(MODES))
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.__name__)
def test_attribute_reads_and_calls_agree(spec: type, mode: str) -> None:
    std = mock.create_autospec(spec, **MODES[mode])
    ours = sm.create_autospec(spec, **MODES[mode])
    problems: list[str] = []
    _compare(std, ours, "mock", problems)
    _walk(std, ours, spec, "mock", problems)
    if mode != "instance":
        # The class mock's return value is the instance autospec; read it only after
        # the walk, so the lazy one is made on demand.
        _compare(std.return_value, ours.return_value, "mock()", problems)
        _walk(std.return_value, ours.return_value, spec, "mock()", problems)
    assert problems == []
    assert repr(std.mock_calls) == repr(ours.mock_calls)
    assert repr(std.method_calls) == repr(ours.method_calls)
    # Everything has been read once now, so the lazy mock holds what the eager one does.
    assert sorted(vars(std)) == sorted(vars(ours))
    assert sorted(std._mock_children) == sorted(ours._mock_children)


@pytest.mark.parametrize("mode", ["spec_set", "instance_spec_set"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.__name__)
def test_attribute_writes_agree(spec: type, mode: str) -> None:
    options: dict[str, Any] = {"spec_set": True, "instance": mode == "instance_spec_set"}
    std = mock.create_autospec(spec, **options)
    ours = sm.create_autospec(spec, **options)
    problems = []
    for name in _names(spec):
        if name.startswith("__"):
            continue
        expected = _outcome(setattr, std, name, 1)[0]
        got = _outcome(setattr, ours, name, 1)[0]
        if expected != got:
            problems.append(f"{name}: {expected} != {got}")
    assert problems == []
    assert sorted(std.__dict__) == sorted(ours.__dict__)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.__name__)
def test_nested_and_return_value_attributes_agree(spec: type) -> None:
    # One level further down: the children of every non-method attribute (class
    # attributes, nested classes), read through the class mock and its instance.
    std = mock.create_autospec(spec)
    ours = sm.create_autospec(spec)
    problems: list[str] = []
    for name in _names(spec):
        if name.startswith("__") or inspect.isroutine(getattr(spec, name, None)):
            continue
        expected, std_child = _outcome(getattr, std, name)
        got, our_child = _outcome(getattr, ours, name)
        if expected != got or expected != ("ok",):
            continue
        child_spec = getattr(spec, name)
        for inner in _names(child_spec):
            if inner.startswith("__"):
                continue
            _compare_read(std_child, our_child, inner, f"mock.{name}.{inner}", problems)
    assert problems == []
    assert repr(std.mock_calls) == repr(ours.mock_calls)
