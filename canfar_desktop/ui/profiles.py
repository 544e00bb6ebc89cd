"""Each session's browser profile on disk (cookies, storage, cache), and removing it with the session.

A profile holds the session's login cookie, so it must not outlive the session. QtWebEngine
finishes writing a profile's files a moment after the profile object is gone, so removal is
repeated briefly until the folder stays away. No QtWebEngine here: deleting a session must not load it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QTimer

log = logging.getLogger(__name__)

SESSION_ID_RE = re.compile(r"[a-z0-9]{8}")
RETRY_MS = (300, 1500, 5000)  # QtWebEngine's last writes land within a second or two of closing


def folder_name(session_id: str) -> str:
    """A session id as a folder name: itself when it looks like one, else a hash of it in the same form,
    so that only names of this form are ever created or removed."""
    if SESSION_ID_RE.fullmatch(session_id):
        return session_id
    return "x" + hashlib.sha256(session_id.encode()).hexdigest()[:7]


def profile_folder(profiles_dir: Path, session_id: str) -> Path:
    return profiles_dir / folder_name(session_id)


def remove_profile(profiles_dir: Path, session_id: str) -> bool:
    """Remove a session's profile folder now; True when it is gone. A symlink is unlinked, not followed."""
    folder = profile_folder(profiles_dir, session_id)
    if folder.is_symlink():
        folder.unlink(missing_ok=True)
        return True
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)  # files may still appear or vanish while it runs
    return not folder.exists()


def discard_profile(profiles_dir: Path, session_id: str) -> None:
    """Remove a deleted session's profile, and again shortly after in case QtWebEngine was still writing it.

    The window calls this once the session is deleted (its tab already closed)."""
    remove_profile(profiles_dir, session_id)
    for delay in RETRY_MS:
        QTimer.singleShot(delay, lambda: remove_profile(profiles_dir, session_id))


def prune_profiles(profiles_dir: Path, live_ids: Iterable[str]) -> list[str]:
    """Remove the profiles of sessions that no longer exist (deleted by the CLI, another app, the tray).

    `live_ids` must be every session on every host, from listings that all succeeded; otherwise the
    profile of a session on an unreachable host would go too. Returns the ids removed."""
    keep = {folder_name(sid) for sid in live_ids}
    removed: list[str] = []
    try:
        entries = list(profiles_dir.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if SESSION_ID_RE.fullmatch(entry.name) and entry.name not in keep and remove_profile(profiles_dir, entry.name):
            removed.append(entry.name)
    if removed:
        log.info("removed the browser profiles of %d ended session(s)", len(removed))
    return removed
