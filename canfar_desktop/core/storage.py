"""Where a session's /arc and /scratch come from, and removing /scratch (never /arc) when it goes.

On this computer: /arc/home/<user> and /arc/projects are folders under the `arc_root` setting, and
each session's /scratch is a folder of its own in the app's scratch folder. On a remote host: named
volumes (or folders under the host's `arc_path`), /scratch a volume per session.
"""

from __future__ import annotations

from pathlib import Path

from .errors import CanfarError, LaunchError
from .host import SessionHost
from .plan import Mount, Storage
from .platform import is_root
from .settings import AppPaths, HostConfig, Settings

SCRATCH_VOLUME_PREFIX = "canfar-scratch-"


def session_storage(settings: Settings, paths: AppPaths, cfg: HostConfig, remote: bool, session_id: str,
                    create: bool = True) -> Storage:
    """The session's mounts; local folders are made (and handed to the session's uid) when `create`."""
    user = settings.user
    if remote:
        if cfg.arc_path:
            base = cfg.arc_path.rstrip("/")
            home = Mount(f"{base}/home/{user}", f"/arc/home/{user}")
            projects = Mount(f"{base}/projects", "/arc/projects")
        else:
            home = Mount(f"canfar-arc-home-{user}", f"/arc/home/{user}", type="volume")
            projects = Mount("canfar-arc-projects", "/arc/projects", type="volume")
        return Storage(home, projects, Mount(f"{SCRATCH_VOLUME_PREFIX}{session_id}", "/scratch", type="volume"))
    arc = settings.arc_folder()
    home_dir = arc / "home" / user
    projects_dir = arc / "projects"
    scratch_dir = paths.scratch_dir / session_id
    if create:
        for folder, mode in ((arc, 0o755), (arc / "home", 0o755), (home_dir, 0o700),
                             (projects_dir, 0o775), (paths.scratch_dir, 0o711), (scratch_dir, 0o700)):
            make_dir(folder, mode, settings if folder in (home_dir, projects_dir, scratch_dir) else None)
    return Storage(
        Mount(str(home_dir), f"/arc/home/{user}"),
        Mount(str(projects_dir), "/arc/projects"),
        Mount(str(scratch_dir), "/scratch"),
    )


def volumes_to_prepare(storage: Storage) -> list[tuple[str, int]]:
    """Named volumes of a launch with the mode each gets (the engine makes them root's)."""
    return [(m.source, mode) for m, mode in ((storage.home, 0o700), (storage.projects, 0o775),
                                             (storage.scratch, 0o700)) if m.type == "volume"]


def make_dir(folder: Path, mode: int, owner: Settings | None) -> None:
    """Create a folder once; when the app runs as root, hand the session's folders to its uid."""
    if folder.exists():
        return
    try:
        try:
            folder.mkdir(parents=True, mode=mode)
        except FileExistsError:
            return  # made a moment ago by a launch running beside this one
        folder.chmod(mode)
        if owner is not None and is_root():
            import os

            os.chown(folder, owner.uid, owner.gid)
    except OSError as exc:
        raise LaunchError(
            f"Could not create {folder} ({exc.strerror})",
            "choose a writable folder for /arc in settings (arc_root)",
        ) from None


def remove_scratch(host: SessionHost, paths: AppPaths, source: str) -> None:
    """Remove a session's private /scratch (a volume or a folder in the app's scratch folder)."""
    if not source:
        return
    if source.startswith(SCRATCH_VOLUME_PREFIX):
        try:
            host.remove_volume(source)
        except CanfarError:
            pass  # still in use, or already gone: housekeeping tries again later
    else:
        remove_scratch_dir(paths, source)


def remove_scratch_dir(paths: AppPaths, source: str) -> None:
    """Only a direct child of the app's scratch folder is ever removed: never /arc, never elsewhere."""
    path = Path(source).resolve()
    root = paths.scratch_dir.resolve()
    if path.parent == root and path.exists():
        import shutil  # only here: it loads the compression modules, which listing commands never need

        shutil.rmtree(path, ignore_errors=True)
