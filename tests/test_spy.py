"""sm.spy: the real callable runs, every call is recorded, the original comes back exactly."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import patchtargets
import pytest
from statecheck import Snapshot, active_runs

import saferemock as sm
from saferemock._patch import settings


class Shape:
    """A class with every kind of attribute a spy wraps; each call is logged."""

    log: list[str] = []

    def __init__(self, size: int) -> None:
        self.size = size

    def area(self, scale: int = 1) -> int:
        Shape.log.append("area")
        return self.size * self.size * scale

    async def fetch(self, key: str) -> str:
        await asyncio.sleep(0)
        if key == "missing":
            raise KeyError(key)
        return f"{key}:{self.size}"

    @staticmethod
    def unit(name: str) -> str:
        return f"unit {name}"

    @classmethod
    def make(cls, size: int) -> Shape:
        return cls(size)

    @classmethod
    async def amake(cls, size: int) -> Shape:
        await asyncio.sleep(0)
        return cls(size)

    @property
    def label(self) -> str:
        Shape.log.append("label")
        return f"shape {self.size}"

    @label.setter
    def label(self, value: str) -> None:
        Shape.log.append(f"set {value}")

    @property
    def read_only(self) -> int:
        return self.size

    def numbers(self) -> Iterator[int]:
        return iter(range(self.size))


class Square(Shape):
    pass


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    snap = Snapshot(patchtargets, Shape, Square, json, os)
    Shape.log.clear()
    yield
    assert active_runs() == []
    snap.assert_unchanged()


# -- what a spy records ---------------------------------------------------------------------


def test_a_spied_function_runs_and_records_its_calls_and_results() -> None:
    with sm.spy("patchtargets.greet") as greet:
        assert greet.spy_return is None
        assert greet.spy_return_list == []
        assert patchtargets.use_greet() == "hello world!"
        assert patchtargets.greet("you", punctuation="?") == "hello you?"
        assert patchtargets.greet is greet
    greet.assert_called_with("you", punctuation="?")
    assert greet.call_count == 2
    assert greet.spy_return == "hello you?"
    assert greet.spy_return_list == ["hello world!", "hello you?"]
    assert greet.spy_exception is None
    assert greet.spy_return_iter is None


def test_a_spy_records_what_the_original_raised_and_clears_it_on_the_next_call() -> None:
    with sm.spy(json, "loads") as loads:
        with pytest.raises(json.JSONDecodeError):
            json.loads("{")
        assert isinstance(loads.spy_exception, json.JSONDecodeError)
        assert loads.spy_return is None
        assert json.loads("[]") == []
        assert loads.spy_exception is None
        assert loads.spy_return_list == [[]]


def test_a_wrong_call_raises_type_error_before_the_original_runs() -> None:
    with sm.spy(Shape, "area") as area:
        with pytest.raises(TypeError, match="too many positional arguments"):
            Shape(2).area(1, 2)
        with pytest.raises(TypeError, match="got an unexpected keyword argument 'scal'"):
            Shape(2).area(scal=2)
    assert Shape.log == []
    assert area.call_count == 0


def test_a_spy_on_a_class_records_self_and_one_on_an_instance_does_not() -> None:
    shape = Shape(3)
    with sm.spy(Shape, "area") as on_class:
        assert shape.area(2) == 18
    on_class.assert_called_once_with(shape, 2)
    with sm.spy(shape, "area") as on_instance:
        assert shape.area() == 9
        assert Shape(1).area() == 1
        assert vars(shape)["area"] is on_instance
    on_instance.assert_called_once_with()
    assert "area" not in vars(shape)


def test_a_spied_staticmethod_stays_static_on_the_class_and_its_instances() -> None:
    original = vars(Shape)["unit"]
    with sm.spy(Shape, "unit") as unit:
        assert Shape.unit("cm") == "unit cm"
        assert Shape(1).unit("m") == "unit m"
        assert isinstance(vars(Shape)["unit"], staticmethod)
    assert unit.call_args_list == [sm.call("cm"), sm.call("m")]
    assert vars(Shape)["unit"] is original


def test_a_spied_classmethod_still_gets_the_class_it_was_called_on() -> None:
    original = vars(Shape)["make"]
    with sm.spy(Shape, "make") as make:
        assert type(Shape.make(1)) is Shape
        assert type(Square.make(2)) is Square
        assert type(Square(3).make(4)) is Square
        assert type(make(5)) is Shape  # called directly: the class it was spied on
        with pytest.raises(TypeError, match="missing a required argument: 'size'"):
            Square.make()
    assert make.call_args_list == [sm.call(1), sm.call(2), sm.call(4), sm.call(5)]
    assert [type(shape) for shape in make.spy_return_list] == [Shape, Square, Square, Shape]
    assert vars(Shape)["make"] is original


def test_a_spied_classmethod_on_a_subclass_is_undone_there() -> None:
    with sm.spy(Square, "make") as make:
        assert type(Square.make(1)) is Square
        assert "make" in vars(Square)
        Shape.make(1)
    assert make.call_count == 1
    assert "make" not in vars(Square)


def test_a_spied_classmethod_on_an_instance_records_like_a_bound_method() -> None:
    shape = Square(1)
    with sm.spy(shape, "make") as make:
        assert type(shape.make(2)) is Square
    make.assert_called_once_with(2)


def test_a_spied_async_function_records_the_awaited_result_and_exception() -> None:
    shape = Shape(2)
    with sm.spy(Shape, "fetch") as fetch:
        assert asyncio.run(shape.fetch("k")) == "k:2"
        assert fetch.spy_return == "k:2"
        with pytest.raises(KeyError):
            asyncio.run(shape.fetch("missing"))
        assert isinstance(fetch.spy_exception, KeyError)
        with pytest.raises(TypeError, match="missing a required argument: 'key'"):
            shape.fetch()
    fetch.assert_awaited_with(shape, "missing")
    assert fetch.await_count == 2


def test_a_spied_async_classmethod_stays_a_coroutine_function_with_its_class() -> None:
    with sm.spy(Shape, "amake") as amake:
        assert inspect.iscoroutinefunction(Square.amake)
        made = asyncio.run(Square.amake(3))
    assert type(made) is Square
    assert amake.spy_return is made
    amake.assert_awaited_once_with(3)


def test_a_spied_property_records_each_read_and_keeps_the_setter() -> None:
    original = vars(Shape)["label"]
    shape = Shape(4)
    with sm.spy(Shape, "label") as label:
        assert shape.label == "shape 4"
        shape.label = "new"
        assert isinstance(vars(Shape)["label"], property)
        with pytest.raises(AttributeError):
            shape.read_only = 1  # type: ignore[misc]
    label.assert_called_once_with(shape)
    assert label.spy_return == "shape 4"
    assert Shape.log == ["label", "set new"]
    assert vars(Shape)["label"] is original
    with sm.spy(Shape, "read_only"):
        with pytest.raises(AttributeError):
            shape.read_only = 1  # type: ignore[misc]


def test_duplicate_iterators_keeps_a_copy_of_a_returned_iterator() -> None:
    with sm.spy(Shape, "numbers", duplicate_iterators=True) as numbers:
        assert list(Shape(3).numbers()) == [0, 1, 2]
    assert list(numbers.spy_return_iter) == [0, 1, 2]
    with sm.spy(Shape, "numbers") as numbers:
        assert list(Shape(2).numbers()) == [0, 1]
    assert numbers.spy_return_iter is None


def test_a_spied_class_builds_real_instances_and_checks_the_constructor() -> None:
    real = patchtargets.Service
    with sm.spy(patchtargets, "Service") as service:
        made = patchtargets.Service("host")
        assert type(made) is real
        with pytest.raises(TypeError, match="missing a required argument: 'host'"):
            patchtargets.Service()
    service.assert_called_once_with("host")
    assert service.spy_return is made


def test_a_spied_builtin_runs_the_real_one() -> None:
    with sm.spy(os, "getcwd") as getcwd:
        assert patchtargets.getcwd() == getcwd.spy_return
    getcwd.assert_called_once_with()


# -- one object as context manager, decorator and start/stop --------------------------------


def test_spy_as_decorator_passes_a_new_spy_per_call_and_start_stop_works() -> None:
    spying = sm.spy(patchtargets, "greet")

    @spying
    def call_twice(greet: Any) -> int:
        patchtargets.use_greet()
        patchtargets.use_greet()
        return greet.call_count

    assert call_twice() == 2
    assert call_twice() == 2

    @spying
    async def call_async(greet: Any) -> list[str]:
        patchtargets.use_greet()
        return greet.spy_return_list  # type: ignore[no-any-return]

    assert asyncio.run(call_async()) == ["hello world!"]
    started = spying.start()
    assert patchtargets.greet is started
    spying.stop()
    assert spying.target == "patchtargets.greet"
    assert repr(spying.describe()) == "\"spy('patchtargets.greet')\""


def test_a_spy_is_never_required_to_be_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # Asserting that a spied function was not called is a spy's everyday use.
    monkeypatch.setattr(settings, "require_use", True)
    with sm.spy(patchtargets, "greet") as greet:
        pass
    greet.assert_not_called()


def test_resetall_keeps_a_spy_calling_the_original_and_forgets_its_results() -> None:
    with sm.SafeMock() as safemock:
        greet = safemock.spy(patchtargets, "greet")
        patchtargets.use_greet()
        greet.side_effect = ValueError("stubbed")
        safemock.resetall(side_effect=True, return_value=True)
        assert (greet.call_count, greet.spy_return, greet.spy_return_list) == (0, None, [])
        assert patchtargets.use_greet() == "hello world!"
        assert greet.spy_return_list == ["hello world!"]
        safemock.stop(greet)
        assert patchtargets.greet is not greet


# -- errors ---------------------------------------------------------------------------------


def test_spy_refuses_what_it_cannot_wrap_and_says_what_to_do() -> None:
    cases: list[tuple[Any, type[BaseException], str]] = [
        (
            lambda: sm.spy(json, "dumpz").start(),
            sm.TargetAttributeError,
            "module 'json' has no attribute 'dumpz'; did you mean 'dump'? spy() wraps "
            "only attributes that exist.",
        ),
        (
            lambda: sm.spy(Shape, "nothing_like_it").start(),
            sm.TargetAttributeError,
            "class 'Shape' has no attribute 'nothing_like_it'; spy() wraps only attributes "
            "that exist.",
        ),
        (
            lambda: sm.spy("os.sep").start(),
            TypeError,
            "Cannot spy on 'os.sep': it is a 'str' object, not a function, method or "
            "property; use sm.patch() to replace a value.",
        ),
        (
            lambda: sm.spy(Shape(1), "label").start(),
            sm.SaferemockError,
            "Cannot spy on '<Shape object>.label': 'label' is a property of class 'Shape', "
            "which an instance cannot override; spy on the class instead, as "
            "spy(Shape, 'label').",
        ),
        (
            lambda: sm.spy("json.dumps", "indent"),
            sm.InvalidTargetError,
            "Cannot use attribute='indent' with the dotted target 'json.dumps'; write the "
            "whole path as 'json.dumps.indent' or pass the object itself.",
        ),
        (
            lambda: sm.spy(json),
            sm.InvalidTargetError,
            f"Cannot spy on {json!r} without the name of what to spy on; pass the object "
            "and the name, as spy(json, 'dumps'), or a dotted string such as 'json.dumps'.",
        ),
        (
            lambda: sm.spy(None, "x"),
            sm.InvalidTargetError,
            "spy() takes the object that has the callable, not None: pass the module, "
            "class or instance and the name, or a dotted string.",
        ),
        (
            lambda: sm.spy(json, 3),
            TypeError,
            "spy() takes the attribute name as a string, not 3.",
        ),
        (
            lambda: sm.spy("json"),
            sm.InvalidTargetError,
            "Cannot patch 'json': the target must be 'module.attribute', such as 'json.dumps'.",
        ),
    ]
    for make, kind, message in cases:
        with pytest.raises(kind) as info:
            make()
        assert str(info.value) == message


def test_a_property_without_a_getter_cannot_be_spied() -> None:
    class WriteOnly:
        secret = property(None, lambda self, value: None)

    with pytest.raises(sm.SaferemockError) as info:
        sm.spy(WriteOnly, "secret").start()
    assert str(info.value) == (
        f"Cannot spy on '{WriteOnly.__qualname__}.secret': the property has no getter to "
        "wrap; spy on its setter's callers instead, or patch it."
    )


def test_a_mock_already_in_place_cannot_be_spied_and_nothing_is_left() -> None:
    with sm.patch("patchtargets.greet"), pytest.raises(sm.SaferemockError) as info:
        sm.spy(patchtargets, "greet").start()
    assert str(info.value) == (
        "Cannot spy on 'patchtargets.greet': it is a mock already (a patch or spy that is "
        "still active), which records its own calls; assert on that mock, or spy before "
        "patching."
    )
    shared = sm.MagicMock()
    with pytest.raises(sm.SaferemockError, match=re.escape("it is a mock already")):
        sm.spy(shared, "find").start()
    assert "find" not in shared._mock_children
