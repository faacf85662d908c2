"""``sm.stub`` and ``sm.async_stub``: callables that accept anything, for callbacks.

Nothing global changes, so there is nothing to undo: these only make mocks.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

__all__ = ["async_stub", "stub"]


def _anything(*args: Any, **kwargs: Any) -> None:
    """The spec of a stub: any arguments, as a callback registry may pass."""


def stub(name: str | None = None) -> mock.MagicMock:
    """Return a mock that takes any arguments: a callback to hand to the code under test.

    As ``mocker.stub``: a ``MagicMock`` specced from a function of ``(*args, **kwargs)``,
    so it is callable, records every call, and has no attributes a function lacks.
    ``name`` shows in its ``repr`` and in assertion messages.

    Examples:
        >>> import saferemock as sm
        >>> on_done = sm.stub("on_done")
        >>> def download(url, callback):
        ...     callback(url, status=200)
        >>> download("https://example.com", on_done)
        >>> on_done.assert_called_once_with("https://example.com", status=200)
        >>> on_done.no_such_attribute
        Traceback (most recent call last):
        ...
        AttributeError: Mock object has no attribute 'no_such_attribute'
    """
    return mock.MagicMock(spec=_anything, name=name)


def async_stub(name: str | None = None) -> mock.AsyncMock:
    """Return an ``AsyncMock`` that takes any arguments: an ``async`` callback.

    As ``mocker.async_stub``: calling it is recorded at once (``assert_called_once_with``),
    awaiting the result is recorded when it happens (``assert_awaited_once_with``).

    Examples:
        >>> import asyncio, saferemock as sm
        >>> on_message = sm.async_stub("on_message")
        >>> async def consume(handler):
        ...     await handler({"id": 1})
        >>> asyncio.run(consume(on_message))
        >>> on_message.assert_awaited_once_with({"id": 1})
    """
    return mock.AsyncMock(spec=_anything, name=name)
