"""At start, the browser profiles of sessions deleted while the app was closed are removed; the profile
of a session that still exists stays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from canfar_desktop.core.settings import AppPaths
from canfar_desktop.ui.profiles import profile_folder


def test_profiles_of_gone_sessions_go_at_start(make_service: Callable[..., Any], make_app: Callable[..., Any],
                                               qtbot: Any, paths: AppPaths, session_images: dict[str, str]) -> None:
    service = make_service()
    live = service.launch(service.prepare_launch("contributed", session_images["contributed"], "keeps-profile"))
    kept = profile_folder(paths.profiles_dir, live.id)
    gone = profile_folder(paths.profiles_dir, "zz9gone0")
    unrelated = paths.profiles_dir / "notes"  # not named like a session: never touched
    for folder in (kept, gone, unrelated):
        (folder / "Cookies").mkdir(parents=True)
    parts = make_app()  # the same test user as `service`
    qtbot.waitUntil(lambda: parts.store.loaded and not gone.exists(), timeout=20_000)
    assert kept.exists() and unrelated.exists()
