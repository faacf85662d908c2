"""A generated class with 200 methods of varied signatures.

Shared by the autospec tests and ``benchmarks/bench_autospec.py`` (which imports it with
this directory on ``sys.path``), so both measure and check the same class.

The methods cycle through every pairing of :data:`PARAMETER_LISTS` with :data:`KINDS`
(13 and 6 are coprime, so the first 78 methods already cover each pairing once), and
the class also has properties, nested classes, class attributes, an inherited method and
private (single-underscore and name-mangled) names.
"""

from __future__ import annotations

from typing import Any

PARAMETER_LISTS: tuple[str, ...] = (
    "",
    "a",
    "a, b=1",
    "a, /, b",
    "a, /, b=2, *, c",
    "*args",
    "**kwargs",
    "a, *args, **kwargs",
    "*, k",
    "*, k=1",
    "a, b, c=3, /",
    "a=1, b=2, c=3",
    "a, b, /, c, *, d=4",
)
KINDS: tuple[str, ...] = ("method", "static", "class", "async", "private", "async_class")

# Positional and keyword arguments covering every parameter list above: each list
# accepts some of these and rejects others.
CALL_SHAPES: tuple[tuple[tuple[Any, ...], dict[str, Any]], ...] = (
    ((), {}),
    ((1,), {}),
    ((1, 2), {}),
    ((1, 2, 3), {}),
    ((1, 2, 3, 4), {}),
    ((), {"a": 1}),
    ((), {"k": 1}),
    ((1,), {"b": 2}),
    ((1,), {"k": 1}),
    ((1, 2), {"c": 3}),
    ((1,), {"b": 2, "c": 3}),
    ((1, 2), {"c": 3, "d": 4}),
    ((), {"a": 1, "b": 2}),
    ((1,), {"a": 1}),
    ((), {"x": 1}),
    (("host",), {"port": 80, "timeout": 1.0}),
)


def _method_source(index: int) -> list[str]:
    params = PARAMETER_LISTS[index % len(PARAMETER_LISTS)]
    kind = KINDS[index % len(KINDS)]
    name = f"m{index:03d}_{kind}"
    sep = ", " if params else ""
    if kind == "method":
        return [f"    def {name}(self{sep}{params}): return {index}"]
    if kind == "static":
        return ["    @staticmethod", f"    def {name}({params}): return {index}"]
    if kind == "class":
        return ["    @classmethod", f"    def {name}(cls{sep}{params}): return {index}"]
    if kind == "async":
        return [f"    async def {name}(self{sep}{params}): return {index}"]
    if kind == "private":
        return [f"    def _{name}(self{sep}{params}): return {index}"]
    return ["    @classmethod", f"    async def {name}(cls{sep}{params}): return {index}"]


def make_class(count: int = 200, name: str = "Generated") -> type:
    """Build a fresh class with ``count`` generated methods (plus the fixed extras).

    Example:
        >>> cls = make_class(20)
        >>> cls.m001_static(1)
        1
    """
    lines = [
        "class Base:",
        "    inherited_attr = 'base'",
        "    def inherited(self, a, *, b=1): return a",
        "    def overridden(self, a): return a",
        f"class {name}(Base):",
        "    '''Generated for the autospec tests and benchmark.'''",
        "    limit = 10",
        "    ratio = 0.5",
        "    label = 'generated'",
        "    items = (1, 2)",
        "    table = {'a': 1}",
        "    nothing = None",
        "    _private_attr = 3",
        "    __mangled_attr = 4",
        "    def __init__(self, host, port=80, *, timeout=None): self.host = host",
        "    def overridden(self, a, b): return a",
        "    def __mangled(self, a): return a",
        "    @property",
        "    def size(self): return 1",
        "    @property",
        "    def settable(self): return 2",
        "    @settable.setter",
        "    def settable(self, value): pass",
        "    class Nested:",
        "        depth = 1",
        "        def __init__(self, x, *, y=0): self.x = x",
        "        def nested_method(self, a, b=1): return a",
        "        async def nested_async(self, a): return a",
        "        class Deeper:",
        "            def deepest(self, z): return z",
    ]
    for index in range(count):
        lines.extend(_method_source(index))
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)
    made: type = namespace[name]
    return made


Generated = make_class()
