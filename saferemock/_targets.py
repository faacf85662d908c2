"""Turn ``"pkg.mod.attr"`` into ``(owner, "attr")`` with errors that name the part that failed."""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
import sys
import types
from typing import Any

from saferemock._undo import describe_owner
from saferemock.exceptions import InvalidTargetError, TargetAttributeError, TargetImportError

__all__ = ["import_owner", "missing_attribute", "resolve", "split_target", "suggest"]


def suggest(name: str, candidates: Any) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest candidate, or ``""``."""
    names = [c for c in candidates if isinstance(c, str)]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def split_target(target: object) -> tuple[str, str]:
    """Split ``"pkg.mod.attr"`` into ``("pkg.mod", "attr")``, validating its form."""
    __tracebackhide__ = True
    if not isinstance(target, str):
        raise InvalidTargetError(
            f"Cannot patch {target!r}: the target must be a string such as 'json.dumps'; "
            "use patch.object(owner, 'name') to patch an object you hold."
        )
    module, _, attribute = target.rpartition(".")
    parts = target.split(".")
    if not module or not all(part.isidentifier() for part in parts):
        raise InvalidTargetError(
            f"Cannot patch {target!r}: the target must be 'module.attribute', such as 'json.dumps'."
        )
    return module, attribute


def import_owner(target: str, dotted: str) -> Any:
    """Import ``dotted`` (the owner part of ``target``) as far as it is a module, then walk attributes."""
    __tracebackhide__ = True
    parts = dotted.split(".")
    first = parts[0]
    try:
        obj: Any = importlib.import_module(first)
    except ModuleNotFoundError as exc:
        if exc.name != first:
            raise
        # Error path only: listing importable top-level names reads directories but
        # imports nothing, and makes the hint independent of what happens to be loaded.
        candidates = {name for name in sys.modules if "." not in name}
        candidates.update(sys.builtin_module_names)
        candidates.update(info.name for info in pkgutil.iter_modules())
        hint = suggest(first, sorted(candidates))
        raise TargetImportError(
            f"Cannot resolve {target!r}: no module named {first!r}"
            f"{hint or '; check the spelling of ' + repr(first) + ' or install it.'}",
            name=first,
        ) from None
    path = first
    for part in parts[1:]:
        path = f"{path}.{part}"
        try:
            obj = getattr(obj, part)
            continue
        except AttributeError:
            pass
        try:
            obj = importlib.import_module(path)
        except ModuleNotFoundError as exc:
            if exc.name != path:
                raise
            hint = suggest(part, _names(obj)) or "."
            raise TargetImportError(
                f"Cannot resolve {target!r}: {describe_owner(obj)} has no attribute or "
                f"submodule {part!r}{hint}",
                name=path,
            ) from None
    return obj


def _names(obj: object) -> list[str]:
    try:
        names = list(vars(obj))
    except TypeError:
        return dir(obj)
    # Submodules not imported yet are candidates too; listing them imports nothing.
    path = getattr(obj, "__path__", None)
    if path is not None:
        names.extend(info.name for info in pkgutil.iter_modules(path))
    return names


def resolve(target: str) -> tuple[Any, str]:
    """Import the owner of ``target`` and return ``(owner, attribute)``."""
    __tracebackhide__ = True
    module, attribute = split_target(target)
    return import_owner(target, module), attribute


def missing_attribute(owner: object, name: str) -> TargetAttributeError:
    """Build the error for patching ``owner.name`` when it does not exist."""
    slot = inspect.getattr_static(type(owner), name, None)
    if isinstance(slot, types.MemberDescriptorType) and not isinstance(owner, type):
        # An unset __slots__ member: dir() lists it, so no "did you mean" of itself.
        return TargetAttributeError(
            f"{describe_owner(owner)} has no value in its slot {name!r}; set it first, or "
            "pass create=True to set one for the block."
        )
    hint = suggest(name, [candidate for candidate in dir(owner) if candidate != name])
    fix = f"{hint} Pass create=True to add it." if hint else "; pass create=True to add it."
    return TargetAttributeError(f"{describe_owner(owner)} has no attribute {name!r}{fix}")


def label(obj: object) -> str:
    """Name an owner for messages: ``json``, ``Service``, ``<Service object>``."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    if isinstance(obj, type):
        return obj.__qualname__
    return f"<{type(obj).__qualname__} object>"


def dotted_target(target: str, attribute: object) -> str:
    """Check a dotted target given without an attribute name, and return it."""
    if attribute is not None:
        raise InvalidTargetError(
            f"Cannot use attribute={attribute!r} with the dotted target {target!r}; "
            f"write the whole path as {target + '.' + str(attribute)!r} or pass the "
            "object itself."
        )
    split_target(target)
    return target


def locate(target: object, attribute: str | None) -> tuple[Any, str]:
    """The owner and the name of a target given dotted or as an object and a name."""
    __tracebackhide__ = True
    if isinstance(target, str):
        return resolve(target)
    assert attribute is not None
    return target, attribute
