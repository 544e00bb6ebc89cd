"""Type-checking settings that came from outside the app (a file, a command line, a form) with pydantic.

The settings themselves are dataclasses (core/settings.py) whose value rules run on construction;
pydantic adds what a dataclass does not check: types, unknown keys, nested lists. It is imported only
when something unchecked arrives, so commands that just read the settings never pay for it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

T = TypeVar("T")

__all__ = ["ValidationError", "check", "validation_message"]


def check(cls: type[T], data: Any) -> T:
    """`data` as a `cls`, or pydantic's ValidationError saying what is wrong with it."""
    adapter: TypeAdapter[T] | None = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter.validate_python(data)


_ADAPTERS: dict[type, Any] = {}  # building one costs more than using it


def validation_message(exc: ValidationError) -> str:
    """The first problem in one line: the field, what is wrong, and the value given."""
    errors = exc.errors()
    if not errors:
        return str(exc).replace("\n", " ")
    first = errors[0]
    field = ".".join(str(p) for p in first.get("loc", ()))
    text = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    given = first.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float | bool) and len(repr(given)) <= 60 else ""
    if "(got " in text:
        shown = ""
    more = f"; {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
    return f"{field + ': ' if field else ''}{text}{shown}{more}".replace("\n", " ")
