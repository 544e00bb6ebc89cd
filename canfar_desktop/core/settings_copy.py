"""The settings as last checked, kept beside the file: reading settings that did not change skips the check.

Type-checking a file with pydantic costs more than everything else a short command does, so the
checked result is kept with the text it came from and the version that checked it. Any edit of the
file, or another version of the app, means checking again. (The text itself, not a hash of it: a
settings file is a few kilobytes, and comparing it costs less than loading a hash function.)
"""

from __future__ import annotations

import json
import os
from typing import Any

from .files import open_private
from .paths import AppPaths
from .plain import to_plain


def checked_copy(paths: AppPaths, raw: bytes, version: str) -> dict[str, Any] | None:
    """The settings as checked for a file of exactly these bytes, by this version, if kept."""
    try:
        kept = json.loads(paths.checked_settings_file.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("version") != version:
        return None
    source = kept.get("source")
    if not isinstance(source, str) or source.encode("utf-8", "surrogateescape") != raw:
        return None
    settings = kept.get("settings")
    return settings if isinstance(settings, dict) else None


def keep_checked_copy(paths: AppPaths, raw: bytes, version: str, settings: Any) -> None:
    """Remember that these bytes passed the check (a failure to write costs only time later)."""
    path = paths.checked_settings_file
    source = raw.decode("utf-8", "surrogateescape")
    text = json.dumps({"source": source, "version": version, "settings": to_plain(settings)})
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        with open_private(tmp) as handle:  # renamed whole, not synced: losing it costs one check
            handle.truncate()
            handle.write(text)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)

