"""A module that tests patch; every test restores it exactly."""

from __future__ import annotations

import os

CONSTANT = 42


def greet(name: str, *, punctuation: str = "!") -> str:
    return f"hello {name}{punctuation}"


async def fetch(url: str, timeout: float = 1.0) -> str:
    return url


class Base:
    inherited_value = "base"

    def inherited_method(self, x: int) -> int:
        return x


class Service(Base):
    class_value = "service"

    def __init__(self, host: str) -> None:
        self.host = host

    def method(self, x: int, y: int = 0) -> int:
        return x + y

    async def amethod(self, x: int) -> int:
        return x

    @staticmethod
    def static(x: int) -> int:
        return x

    @classmethod
    def klass(cls, x: int) -> int:
        return x

    @property
    def prop(self) -> str:
        return self.host


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self) -> None:
        self.a = 1


def use_greet() -> str:
    return greet("world")


def getcwd() -> str:
    return os.getcwd()


class Meta(type):
    """A metaclass with a data descriptor: patching it must go through the setter."""

    _level = "meta"

    @property
    def level(cls) -> str:
        return cls._level

    @level.setter
    def level(cls, value: str) -> None:
        cls._level = value
