"""Records (core/record.py) to and from plain JSON data, for objects whose values were already checked."""

from __future__ import annotations

import typing
from typing import Any, TypeVar

from .record import fields, is_record

T = TypeVar("T")


def to_plain(obj: Any) -> Any:
    """A record (and what it holds) as dicts and lists; fields marked internal are left out."""
    if is_record(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in fields(obj) if not f.internal}
    if isinstance(obj, list | tuple):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    return obj


def from_plain(cls: type[T], data: dict[str, Any]) -> T:
    """Build `cls` from what `to_plain` made; keys it does not know are ignored (an older copy)."""
    hints = _hints(cls)
    kwargs = {f.name: _convert(hints[f.name], data[f.name])
              for f in fields(cls)
              if f.init and f.name in data}
    return cls(**kwargs)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _convert(kind: Any, value: Any) -> Any:
    if isinstance(kind, type) and is_record(kind):
        return from_plain(kind, value)
    origin = typing.get_origin(kind)
    if origin is list:
        (item,) = typing.get_args(kind)
        return [_convert(item, v) for v in value]
    if origin is dict:
        _key, item = typing.get_args(kind)
        return {k: _convert(item, v) for k, v in value.items()}
    return value
