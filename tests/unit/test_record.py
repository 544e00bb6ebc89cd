"""Records behave as the dataclasses they replace: fields, defaults, rules, equality, immutability."""

from __future__ import annotations

import pickle
from typing import ClassVar

import pytest

from canfar_desktop.core.record import FrozenInstanceError, asdict, field, fields, is_record, record, replace


@record
class Point:
    """A frozen record with a default, a factory, a hidden field and a field left out of comparisons."""

    LIMIT: ClassVar[int] = 10

    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    secret: str = field(default="", repr=False)
    seen: int = field(default=0, compare=False)


@record(frozen=False)
class Range:
    low: int = 0
    high: int = 1
    width: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low above high")
        self.width = self.high - self.low


@record
class Point3(Point):
    z: int = 0


def test_fields_come_from_the_annotations_in_order_without_class_variables() -> None:
    assert [f.name for f in fields(Point)] == ["x", "y", "tags", "secret", "seen"]
    assert Point.LIMIT == 10 and is_record(Point) and is_record(Point(1)) and not is_record(object())


def test_arguments_defaults_and_factories() -> None:
    p = Point(1, tags=["a"])
    assert (p.x, p.y, p.tags, p.secret) == (1, 0, ["a"], "")
    assert Point(2).tags is not Point(2).tags, "a factory makes a new value each time"
    with pytest.raises(TypeError, match="missing required argument: 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values"):
        Point(1, x=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected keyword argument 'q'"):
        Point(1, q=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes 5 arguments"):
        Point(1, 2, [], "", 0, 9)  # type: ignore[call-arg]


def test_frozen_records_refuse_changes_and_hash_by_value() -> None:
    p = Point(1, 2)
    with pytest.raises(FrozenInstanceError):
        p.x = 5  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del p.y
    assert p == Point(1, 2, seen=7), "fields left out of comparisons do not count"
    assert p != Point(1, 3) and p != (1, 2)
    assert hash(Point(1, 2, ("a",))) == hash(Point(1, 2, ("a",)))  # type: ignore[arg-type]
    assert len({Point(1, 2, ("a",), seen=1), Point(1, 2, ("a",), seen=2)}) == 1  # type: ignore[arg-type]


def test_repr_leaves_out_hidden_fields() -> None:
    shown = repr(Point(1, secret="s3cr3t"))
    assert shown == "Point(x=1, y=0, tags=[], seen=0)" and "s3cr3t" not in shown


def test_mutable_records_run_their_rules_and_are_not_hashable() -> None:
    r = Range(1, 4)
    assert r.width == 3, "__post_init__ ran and set a field left out of __init__"
    r.high = 9
    assert r.high == 9
    with pytest.raises(TypeError):
        hash(r)
    with pytest.raises(ValueError, match="low above high"):
        Range(5, 1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'width'"):
        Range(width=3)  # type: ignore[call-arg]


def test_replace_makes_a_copy_through_the_rules() -> None:
    p = Point(1, 2, secret="x")
    q = replace(p, y=5)
    assert (q.x, q.y, q.secret, p.y) == (1, 5, "x", 2)
    with pytest.raises(ValueError, match="low above high"):
        replace(Range(1, 2), low=3)
    assert replace(Range(1, 2), high=6).width == 5
    with pytest.raises(TypeError, match="no field 'nope'"):
        replace(p, nope=1)


def test_subclasses_add_fields_after_their_base() -> None:
    p = Point3(1, z=4)
    assert [f.name for f in fields(p)][-1] == "z" and p == Point3(1, 0, z=4) and p != Point(1)


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="'b' without a default"):
        @record
        class Bad:
            a: int = 0
            b: int  # type: ignore[misc]


def test_asdict_unpacks_nested_records_and_pickling_keeps_them() -> None:
    @record
    class Pair:
        left: Point
        right: list[Point]

    pair = Pair(Point(1), [Point(2, tags=["t"])])
    assert asdict(pair) == {"left": {"x": 1, "y": 0, "tags": [], "secret": "", "seen": 0},
                            "right": [{"x": 2, "y": 0, "tags": ["t"], "secret": "", "seen": 0}]}
    again = pickle.loads(pickle.dumps(Point(3, tags=["a"])))
    assert again == Point(3, tags=["a"])


def test_class_variables_are_not_fields_without_postponed_annotations() -> None:
    namespace: dict[str, object] = {}
    exec("from typing import ClassVar\nfrom canfar_desktop.core.record import record\n"
         "@record\nclass Plain:\n    KINDS: ClassVar[tuple[str, ...]] = ()\n    a: int = 1\n", namespace)
    assert [f.name for f in fields(namespace["Plain"])] == ["a"]
