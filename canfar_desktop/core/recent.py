"""Recent launches and presets: the last ten set-ups a person launched, and the ones they pinned.

People relaunch the same few set-ups every day; each launch made from the app or `create` is kept
(kind, image, resources, host and a name pattern), newest first, without twins. A pinned one stays
as a preset until unpinned. Both live in the settings file; writing one goes onto the file as it is
now, so the app and the CLI never drop each other's entries.

A name pattern makes a fresh name at each relaunch: a name the app generated stays generated
(`""`), `fit-3` becomes `fit-{n}` (the lowest free number), and any other name is used as it is,
numbered (`galaxy-2`) while a session of that name exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .errors import CanfarError
from .launch import WORDS
from .plan import LaunchRequest
from .record import replace
from .settings import AppPaths, RecentLaunch, Settings, load_settings, save_settings, with_changes
from .validation import NAME_MAX

MAX_RECENT = 10
NUMBER = "{n}"
Change = Callable[[list[RecentLaunch]], list[RecentLaunch]]
_NUMBERED = re.compile(r"(.*[A-Za-z0-9])-([0-9]{1,4})")


def pattern_of(kind: str, name: str) -> str:
    """The pattern a launched name stands for (see the module notes)."""
    generated = re.compile(rf"{re.escape(kind)}-(({'|'.join(WORDS)})-[0-9]{{2}}|[a-z0-9]{{4}})")
    if generated.fullmatch(name):
        return ""
    numbered = _NUMBERED.fullmatch(name)
    if numbered:
        return numbered.group(1) + "-" + NUMBER
    return name


def name_for(pattern: str, taken: Iterable[str]) -> str | None:
    """A free name for a relaunch (None: let the launch generate one)."""
    if not pattern:
        return None
    used = {t.lower() for t in taken}
    if NUMBER not in pattern:
        if pattern.lower() not in used:
            return pattern
        pattern = pattern + "-" + NUMBER
    for n in range(1, 10_000):
        name = pattern.replace(NUMBER, str(n))
        if name.lower() not in used and len(name) <= NAME_MAX:
            return name
    return None


def from_request(req: LaunchRequest, default_host: str) -> RecentLaunch:
    return RecentLaunch(kind=req.kind, image=req.image, resources=req.resources, host=req.host or default_host,
                        name_pattern=pattern_of(req.kind, req.name))


def _key(r: RecentLaunch) -> tuple[object, ...]:
    return (r.kind, r.image, r.resources, r.host, r.name_pattern)


def same(a: RecentLaunch, b: RecentLaunch) -> bool:
    """The same set-up (a preset's title does not count)."""
    return _key(a) == _key(b)


def with_launch(recent: list[RecentLaunch], launched: RecentLaunch) -> list[RecentLaunch]:
    """The list after a launch: it first, its twin gone, at most MAX_RECENT."""
    return [launched, *(r for r in recent if not same(r, launched))][:MAX_RECENT]


def describe(r: RecentLaunch) -> str:
    """One line for a menu or a list: kind, image, resources, host, name."""
    res = r.resources
    amount = "flexible" if res.mode == "flexible" else f"{res.cores:g} cores · {res.ram_gb:g} GB"
    if res.gpus:
        amount += f" · {res.gpus} GPU"
    image = r.image.rsplit("/", 1)[-1] if r.image else "default image"
    name = r.name_pattern.replace(NUMBER, "N") if r.name_pattern else "any name"
    return f"{r.kind} · {image} · {amount} · {r.host} · {name}"


def _update(paths: AppPaths, settings: Settings, field: str, change: Change) -> list[RecentLaunch]:
    """Apply `change` (old list -> new list) to the file's list as it is now, and to `settings`."""
    current, _warning = load_settings(paths)
    new = change(list(getattr(current, field)))
    updated = with_changes(current, **{field: new})
    save_settings(paths, updated, base=current)
    setattr(settings, field, new)
    return new


def record(paths: AppPaths, settings: Settings, req: LaunchRequest) -> list[RecentLaunch]:
    """Keep a launch at the top of the recent list; a failure to save never stops a launch."""
    launched = from_request(req, settings.default_host)
    try:
        return _update(paths, settings, "recent_launches", lambda old: with_launch(old, launched))
    except CanfarError:
        settings.recent_launches = with_launch(list(settings.recent_launches), launched)
        return settings.recent_launches


def pin(paths: AppPaths, settings: Settings, entry: RecentLaunch, title: str = "") -> list[RecentLaunch]:
    """Keep a set-up as a preset (once; pinning it again renames it)."""
    default = entry.name_pattern.replace("-" + NUMBER, "").replace(NUMBER, "") or entry.kind
    preset = replace(entry, title=title or entry.title or default)
    return _update(paths, settings, "presets",
                   lambda old: [*(p for p in old if not same(p, preset)), preset])


def unpin(paths: AppPaths, settings: Settings, entry: RecentLaunch) -> list[RecentLaunch]:
    return _update(paths, settings, "presets", lambda old: [p for p in old if not same(p, entry)])


def is_pinned(settings: Settings, entry: RecentLaunch) -> bool:
    return any(same(p, entry) for p in settings.presets)
