"""Printing answers: aligned tables for people, JSON or YAML for programs.

The YAML is written here rather than by a YAML library: the answers are plain dicts, lists,
strings, numbers, booleans and None, and a few dozen lines emit them as valid YAML (strings that
could be read as anything else are double-quoted with JSON's escapes, which YAML reads the same).
"""

from __future__ import annotations

import json
import re
from typing import Any

# Plain scalars YAML 1.1 or 1.2 would read as something other than a string.
_SPECIAL_WORDS = {"", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n"}
_NUMBER = re.compile(r"[-+]?(\.?[0-9][0-9_:.eE+-]*|\.inf|\.nan|0x[0-9a-fA-F]+|0o[0-7]+)", re.IGNORECASE)
_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")  # YAML 1.1 reads these as timestamps
_SAFE = re.compile(r"[A-Za-z0-9_./@()+=,^-][A-Za-z0-9 _./@()+=,^:-]*")


def table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def emit(data: Any, output: str) -> None:
    """Print `data` as JSON or YAML (`output` is the -o value; "table" callers print their own)."""
    if output == "yaml":
        print(to_yaml(data), end="")
    else:
        print(json.dumps(data, indent=2))


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)  # NaN and infinities never occur in the answers; json writes them plainly
    text = str(value)
    plain = (_SAFE.fullmatch(text) and text.lower() not in _SPECIAL_WORDS and not _NUMBER.fullmatch(text)
             and not _DATE.match(text)
             and not text.endswith((" ", ":")) and ": " not in text and " #" not in text
             and not text.startswith(("-", "?", ":", ",", "[", "]", "{", "}", "#", "&", "*", "!", "|", ">",
                                      "'", '"', "%", "@", "`")))
    return text if plain else json.dumps(text, ensure_ascii=False)


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        out: list[str] = []
        for key, item in value.items():
            name = _scalar(str(key))
            if isinstance(item, dict | list) and item:
                out.append(f"{pad}{name}:")
                out.extend(_lines(item, indent + 2) if isinstance(item, dict) else _lines(item, indent))
            else:
                out.append(f"{pad}{name}: {_inline(item)}")
        return out
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        out = []
        for item in value:
            if isinstance(item, dict | list) and item:
                inner = _lines(item, indent + 2)
                out.append(f"{pad}- {inner[0].lstrip()}")
                out.extend(inner[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
        return out
    return [pad + _scalar(value)]


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def to_yaml(data: Any) -> str:
    """A YAML document for plain data (dicts, lists, str, int, float, bool, None)."""
    return "\n".join(_lines(data, 0)) + "\n"
