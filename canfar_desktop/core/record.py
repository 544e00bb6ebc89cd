"""Value classes that cost nothing to define: the project's replacement for `dataclasses`.

Python 3.11 builds each dataclass by compiling its generated methods from source (0.3–0.8 ms a
class), and `dataclasses` imports `inspect` with `ast`, `dis` and `tokenize` (about 10 ms). For the
two dozen value classes a listing defines, that was a third of what `canfar-desktop ps` took. A
record's methods are shared functions that read the class's field list, so defining one is a
dictionary walk.

`@record` makes a frozen (immutable, hashable) class; `@record(frozen=False)` a mutable one.
Fields are the class's annotations in order, with defaults as in a dataclass (`field()` for a
factory, for hiding a value from `repr`, or for leaving it out of `__init__`, comparisons or
`plain.to_plain`). `__post_init__` runs after `__init__` when the class defines it. Type checkers
read records as dataclasses (`dataclass_transform`).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, ClassVar, TypeVar, dataclass_transform, get_origin, overload

T = TypeVar("T")
MISSING: Any = object()  # a field's default or factory when it has none
_set = object.__setattr__


class FrozenInstanceError(AttributeError):
    """Raised when something assigns to a field of a frozen record."""


class Field:
    """One field: its name, how its value is made when not given, and where it takes part."""

    __slots__ = ("compare", "default", "factory", "init", "internal", "name", "repr")

    def __init__(self, default: Any = MISSING, factory: Any = MISSING, *, init: bool = True, repr: bool = True,
                 compare: bool = True, internal: bool = False) -> None:
        self.name = ""
        self.default = default
        self.factory = factory
        self.init = init
        self.repr = repr
        self.compare = compare
        self.internal = internal  # left out of plain.to_plain: state of the object, not a value of it

    def value(self) -> Any:
        if self.factory is not MISSING:
            return self.factory()
        return self.default

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] = MISSING, init: bool = True,
          repr: bool = True, compare: bool = True, internal: bool = False) -> Any:
    """A field with a factory (`default_factory`), or one left out of `__init__`, `repr` or comparisons."""
    return Field(default, default_factory, init=init, repr=repr, compare=compare, internal=internal)


@overload
def record(cls: type[T], /) -> type[T]: ...
@overload
def record(*, frozen: bool = True) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(cls: type[T] | None = None, /, *, frozen: bool = True) -> Any:
    """Make `cls` a record (see the module's docstring)."""
    def wrap(c: type[T]) -> type[T]:
        return _build(c, frozen)

    return wrap if cls is None else wrap(cls)


def _build(cls: type[T], frozen: bool) -> type[T]:
    own: list[Field] = []
    # the class's own annotations, read directly: inspect.get_annotations would import inspect
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
        if (annotation.startswith(("ClassVar", "typing.ClassVar")) if isinstance(annotation, str)
                else annotation is ClassVar or get_origin(annotation) is ClassVar):
            continue
        given = cls.__dict__.get(name, MISSING)
        f = given if isinstance(given, Field) else Field(given)
        f.name = name
        if isinstance(given, Field):  # the class attribute is the default, or nothing
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        own.append(f)
    inherited = [f for base in reversed(cls.__mro__[1:]) for f in base.__dict__.get("__record_fields__", ())]
    merged = {f.name: f for f in (*inherited, *own)}
    fields = tuple(merged.values())
    seen_default = False
    for f in fields:
        if not f.init:
            continue
        if f.default is not MISSING or f.factory is not MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"{cls.__name__}: field {f.name!r} without a default follows one with a default")
    cls.__record_fields__ = fields  # type: ignore[attr-defined]
    cls.__record_init__ = tuple(f.name for f in fields if f.init)  # type: ignore[attr-defined]
    # what __init__ and comparisons read, once per class rather than once per object
    cls.__record_steps__ = tuple((f.name, f.init, f.default, f.factory) for f in fields)  # type: ignore[attr-defined]
    cls.__record_post__ = getattr(cls, "__post_init__", None)  # type: ignore[attr-defined]
    compared = [f.name for f in fields if f.compare]
    getter = attrgetter(*compared) if compared else (lambda _obj: ())
    cls.__record_compared__ = (  # type: ignore[attr-defined]
        getter if len(compared) != 1 else lambda obj: (getter(obj),))
    for name, method in (("__init__", _init), ("__repr__", _repr), ("__eq__", _eq)):
        if name not in cls.__dict__:
            setattr(cls, name, method)
    if "__hash__" not in cls.__dict__ or cls.__dict__["__hash__"] is None:
        cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
    if frozen:
        cls.__setattr__ = _refuse  # type: ignore[method-assign]
        cls.__delattr__ = _refuse  # type: ignore[method-assign]
    return cls


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    if args:
        taking = cls.__record_init__
        if len(args) > len(taking):
            raise TypeError(f"{cls.__name__}() takes {len(taking)} arguments but {len(args)} were given")
        for name, value in zip(taking, args, strict=False):
            if name in kwargs:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
            kwargs[name] = value
    for name, init, default, factory in cls.__record_steps__:
        value = kwargs.pop(name, MISSING) if init else MISSING
        if value is MISSING:
            if factory is not MISSING:
                value = factory()
            elif default is not MISSING:
                value = default
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
        _set(self, name, value)
    if kwargs:
        raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {next(iter(kwargs))!r}")
    if cls.__record_post__ is not None:
        cls.__record_post__(self)


def _repr(self: Any) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in type(self).__record_fields__ if f.repr)
    return f"{type(self).__qualname__}({shown})"


def _compared(self: Any) -> tuple[Any, ...]:
    return type(self).__record_compared__(self)  # type: ignore[no-any-return]


def _eq(self: Any, other: object) -> Any:  # NotImplemented lets Python try the other side
    if other.__class__ is not self.__class__:
        return NotImplemented
    return bool(_compared(self) == _compared(other))


def _hash(self: Any) -> int:
    return hash(_compared(self))


def _refuse(self: Any, name: str, *value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")


def is_record(obj: object) -> bool:
    """Whether `obj` is a record or a record class."""
    return hasattr(obj, "__record_fields__")


def fields(obj: Any) -> tuple[Field, ...]:
    """A record's (or record class's) fields, in order."""
    return obj.__record_fields__  # type: ignore[no-any-return]


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the record `obj` with `changes`, made through `__init__` so its rules run again."""
    values = {f.name: getattr(obj, f.name) for f in fields(obj) if f.init}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)[0]!r}")
    values.update(changes)
    return type(obj)(**values)


def asdict(obj: Any) -> dict[str, Any]:
    """A record, and the records, lists, tuples and dicts it holds, as dicts, lists and tuples."""
    return {f.name: _unpacked(getattr(obj, f.name)) for f in fields(obj)}


def _unpacked(value: Any) -> Any:
    if is_record(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, list | tuple):
        return type(value)(_unpacked(v) for v in value)
    if isinstance(value, dict):
        return {k: _unpacked(v) for k, v in value.items()}
    return value
