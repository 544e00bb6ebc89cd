"""The official `canfar` client's active login, read from its `~/.canfar/config.yaml` (`canfar login`).

The file is YAML written by the client (block style, as PyYAML dumps it). Rather than depend on a
YAML library for one small file, the subset that file uses (nested mappings, lists, quoted and plain
scalars) is read here; anything else is reported as unreadable, never guessed at.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .record import record

_KEY = re.compile(r"""^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"][^#]*?)\s*:(?:\s+|$)(.*)$""")
_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


def config_path() -> Path:
    return Path.home() / ".canfar" / "config.yaml"


# --- the YAML subset -----------------------------------------------------------------------------

def _strip_comment(line: str) -> str:
    quote = ""
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _scalar(text: str) -> Any:
    text = text.strip()
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if text.startswith('"'):
        return json.loads(text)  # YAML's double-quoted escapes are JSON's for what the client writes
    if text.startswith("'"):
        if not text.endswith("'") or len(text) < 2:
            raise ValueError(f"unterminated quote in {text[:20]!r}")
        return text[1:-1].replace("''", "'")
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [_scalar(part) for part in inner.split(",")] if inner else []
    if text == "{}":
        return {}
    if text[0] in "|>&*!{[":
        raise ValueError(f"unsupported YAML construct {text[:20]!r}")
    if _NUMBER.match(text):
        return float(text) if any(c in text for c in ".eE") else int(text)
    return text


def _lines(text: str) -> list[tuple[int, str]]:
    found = []
    for raw in text.splitlines():
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise ValueError("tabs in indentation")
        line = _strip_comment(raw).rstrip()
        if not line.strip() or line.strip() in ("---", "..."):
            continue
        found.append((len(line) - len(line.lstrip(" ")), line.strip()))
    return found


def _block(lines: list[tuple[int, str]], pos: int, indent: int) -> tuple[Any, int]:
    if lines[pos][1] == "-" or lines[pos][1].startswith("- "):
        return _sequence(lines, pos, indent)
    return _mapping(lines, pos, indent)


def _child(lines: list[tuple[int, str]], pos: int, indent: int) -> tuple[Any, int]:
    """The value of a key written on its own line: a deeper block, a list at the same indent, or nothing."""
    if pos < len(lines):
        deeper, content = lines[pos]
        if deeper > indent or (deeper == indent and (content == "-" or content.startswith("- "))):
            return _block(lines, pos, deeper)
    return None, pos


def _mapping(lines: list[tuple[int, str]], pos: int, indent: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    while pos < len(lines) and lines[pos][0] == indent:
        content = lines[pos][1]
        if content == "-" or content.startswith("- "):
            break
        m = _KEY.match(content)
        if m is None:
            raise ValueError(f"expected 'key: value', found {content[:40]!r}")
        key = _scalar(m.group(1)) if m.group(1)[0] in "'\"" else m.group(1)
        rest = m.group(2)
        pos += 1
        if rest.strip():
            out[str(key)] = _scalar(rest)
        else:
            out[str(key)], pos = _child(lines, pos, indent)
    if pos < len(lines) and lines[pos][0] > indent:
        raise ValueError(f"unexpected indentation at {lines[pos][1][:40]!r}")
    return out, pos


def _sequence(lines: list[tuple[int, str]], pos: int, indent: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    while pos < len(lines) and lines[pos][0] == indent and (lines[pos][1] == "-" or lines[pos][1].startswith("- ")):
        item = lines[pos][1][1:].strip()
        if not item:
            value, pos = _child(lines, pos + 1, indent)
            out.append(value)
        elif _KEY.match(item) and not item.startswith(("'", '"')):
            nested = [*lines[:pos], (indent + 2, item), *lines[pos + 1:]]  # "- key: v" opens a mapping
            value, pos = _mapping(nested, pos, indent + 2)
            out.append(value)
        else:
            out.append(_scalar(item))
            pos += 1
    return out, pos


def parse_yaml(text: str) -> Any:
    """The document in `text` (the subset described above); ValueError for anything outside it."""
    lines = _lines(text)
    if not lines:
        return None
    value, pos = _block(lines, 0, lines[0][0])
    if pos != len(lines):
        raise ValueError(f"unexpected content at {lines[pos][1][:40]!r}")
    return value


# --- the login --------------------------------------------------------------------------------------

@record
class ClientLogin:
    """The active login of the official client: an X.509 certificate or an OIDC access token."""

    mode: str  # "x509" or "oidc"
    server_url: str  # the active server's address (…/skaha), "" when the file names none
    certificate: Path | None = None
    token: str = ""
    expiry: float | None = None  # epoch seconds, when the file says


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _epoch(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def read_login(path: Path | None = None) -> ClientLogin | None:
    """The client's active login, or None when there is no config file. Raises ValueError (with what is
    wrong) for a file that cannot be read as the client writes it."""
    source = path or config_path()
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"cannot read it ({exc.strerror})") from None
    data = parse_yaml(text)
    if not isinstance(data, dict):
        raise ValueError("it is not a mapping of settings")
    if "authentication" in data or "active" in data:  # the client's schema since 1.0
        active = _get(data, "active", "authentication")
        record = _get(data, "authentication", str(active)) if active else None
        server = _get(data, "active", "server")
        url = _get(data, "servers", str(server), "url") if server else None
        if not isinstance(record, dict):
            return None
        mode = str(record.get("mode", ""))
        if mode == "x509":
            where = record.get("path")
            return ClientLogin("x509", str(url or ""), Path(str(where)).expanduser() if where else None,
                               expiry=_epoch(record.get("expiry")))
        if mode == "oidc":
            access = _get(record, "token", "access")
            return ClientLogin("oidc", str(url or ""), token=str(access or ""),
                               expiry=_epoch(_get(record, "expiry", "access")))
        raise ValueError(f"its active login has mode {mode!r}, which this app does not know")
    auth = data.get("auth")  # the older `skaha` client's schema
    if isinstance(auth, dict):
        url = str(_get(data, "server", "url") or "")
        mode = str(auth.get("mode", ""))
        if mode == "x509":
            where = _get(auth, "x509", "path")
            return ClientLogin("x509", url, Path(str(where)).expanduser() if where else None,
                               expiry=_epoch(_get(auth, "x509", "expiry")))
        if mode == "oidc":
            return ClientLogin("oidc", url, token=str(_get(auth, "oidc", "token", "access") or ""),
                               expiry=_epoch(_get(auth, "oidc", "expiry", "access")))
    return None
