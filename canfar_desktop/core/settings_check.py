"""Type-checking settings that came from outside the app (a file, a command line, a form) with pydantic.

The settings themselves are records (core/settings.py) whose value rules run on construction;
pydantic adds what a record does not check: types, unknown keys, nested lists. It is imported only
when something unchecked arrives, so commands that just read the settings never pay for it.
pydantic reads standard dataclasses, so each settings record is shown to it as a dataclass of the
same fields, defaults, rules and configuration; what it accepts is then built as the record.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from .plain import from_plain, to_plain
from .record import MISSING, fields, is_record

T = TypeVar("T")

__all__ = ["ValidationError", "check", "validation_message"]


def check(cls: type[T], data: Any) -> T:
    """`data` as a `cls`, or pydantic's ValidationError saying what is wrong with it."""
    adapter: TypeAdapter[Any] | None = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(_as_dataclass(cls))
    return from_plain(cls, _plain(adapter.validate_python(data)))


_ADAPTERS: dict[type, Any] = {}  # building one costs more than using it
_DATACLASSES: dict[type, type] = {}


def _as_dataclass(cls: type) -> type:
    """The record class `cls` as a standard dataclass: its fields (those `__init__` takes), each
    field's type with records in it replaced the same way, its `__post_init__` and pydantic config."""
    made = _DATACLASSES.get(cls)
    if made is None:
        hints = typing.get_type_hints(cls)
        specs: list[Any] = []
        for f in fields(cls):
            if not f.init:
                continue
            if f.factory is not MISSING:
                specs.append((f.name, _mirror(hints[f.name]), dataclasses.field(default_factory=f.factory)))
            elif f.default is not MISSING:
                specs.append((f.name, _mirror(hints[f.name]), dataclasses.field(default=f.default)))
            else:
                specs.append((f.name, _mirror(hints[f.name])))
        namespace = {key: cls.__dict__[key] for key in ("__post_init__", "__pydantic_config__") if key in cls.__dict__}
        made = _DATACLASSES[cls] = dataclasses.make_dataclass(cls.__name__, specs, namespace=namespace)
    return made


def _plain(value: Any) -> Any:
    """What pydantic made, as plain data: its dataclasses, and records a default factory made."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return to_plain(value)


def _mirror(hint: Any) -> Any:
    if isinstance(hint, type) and is_record(hint):
        return _as_dataclass(hint)
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if not args or origin is typing.Literal:
        return hint
    mirrored = tuple(_mirror(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[mirrored]  # noqa: UP007 (a computed union)
    return origin[mirrored]


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
