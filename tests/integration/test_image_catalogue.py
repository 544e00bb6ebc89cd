"""`canfar-desktop image`: CANFAR's images beside the local ones, and pull, update and rm on the real engine."""

from __future__ import annotations

import io
import json
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core import catalogue
from canfar_desktop.core.kinds import KINDS
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths, save_settings

from .registry_standin import Registry, build_payload_image
from .science_fixtures import need_images


@pytest.fixture
def science_images(docker_engine: Any, session_images: dict[str, str]) -> dict[str, str]:
    return need_images(docker_engine, session_images)

CLI = [sys.executable, "-m", "canfar_desktop"]
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_image_ls_shows_canfars_images_beside_the_local_ones(
        make_service: Callable[..., SessionService], paths: AppPaths, science_images: dict[str, str]) -> None:
    save_settings(paths, make_service().settings)
    done = cli("image", "ls", "-o", "json")
    assert done.returncode == 0, done.stderr
    listed = {e["image"]: e for e in json.loads(done.stdout)}
    for kind in ("notebook", "desktop", "carta", "firefly"):
        canfar = listed[KINDS[kind].default_image]
        assert canfar["from"] == "CANFAR" and canfar["kinds"] == [kind] and not canfar["pulled"], canfar
    for kind in ("notebook", "desktop", "contributed"):
        assert listed[science_images[kind]]["from"] == "this project" and listed[science_images[kind]]["pulled"]
    for app in ("ds9", "topcat", "aladin"):
        assert listed[science_images[app]]["kinds"] == ["desktop-app"]
    assert listed[science_images["carta"]]["from"] == "stand-in"

    table = cli("image", "ls", "-k", "notebook").stdout.splitlines()
    assert table[0].split()[:3] == ["IMAGE", "KINDS", "FROM"]
    rows = {line.split()[0]: line for line in table[1:]}
    assert "not pulled" in rows[KINDS["notebook"].default_image] and " pulled" in rows[science_images["notebook"]]


def test_pull_of_an_unreachable_image_is_one_clear_line(make_service: Callable[..., SessionService],
                                                        paths: AppPaths) -> None:
    save_settings(paths, make_service().settings)
    done = cli("image", "pull", KINDS["firefly"].default_image)
    assert done.returncode == 1 and not done.stdout
    assert len(done.stderr.strip().splitlines()) == 1 and "Could not pull" in done.stderr, done.stderr
    bad = cli("image", "pull", "Not An Image")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_rm_removes_an_image_and_refuses_one_a_session_uses(
        make_service: Callable[..., SessionService], paths: AppPaths, docker_engine: Any) -> None:
    save_settings(paths, make_service().settings)
    tag = f"cd-test/rm-me-notebook:{secrets.token_hex(4)}"  # its name says notebook: the catalogue lists it
    recipe = f"FROM canfar-desktop/base:latest\nLABEL test.unique={secrets.token_hex(8)}\n".encode()
    docker_engine.images.build(fileobj=io.BytesIO(recipe), tag=tag, rm=True)
    try:
        assert tag in [e["image"] for e in json.loads(cli("image", "ls", "-k", "notebook", "-o", "json").stdout)]
        user = docker_engine.containers.create(tag, ["true"])
        try:
            refused = cli("image", "rm", tag)
            assert refused.returncode == 1 and "in use" in refused.stderr, refused.stderr
        finally:
            user.remove(force=True)
        done = cli("image", "rm", tag)
        assert done.returncode == 0 and done.stdout.strip() == f"{tag} removed", done.stderr
        assert tag not in [e["image"] for e in json.loads(cli("image", "ls", "-o", "json").stdout)]
        again = cli("image", "rm", tag)
        assert again.returncode == 2 and "is not on" in again.stderr
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)


def test_pull_reports_progress_and_update_says_whether_the_image_changed(
        make_service: Callable[..., SessionService], paths: AppPaths, docker_engine: Any) -> None:
    """Against a registry on the loopback (registry_standin.py): the engine pulls for real."""
    service = make_service()
    save_settings(paths, service.settings)
    name = f"cd-test/science-notebook-{secrets.token_hex(3)}"  # its name says notebook
    registry = Registry(docker_engine, slow_s=0.02)
    ref = f"{registry.address}/{name}:1"
    try:
        for tag in ("1", "next"):  # two versions, then only the registry has them: a pull downloads
            built = build_payload_image(docker_engine, f"cd-test/payload:{secrets.token_hex(4)}")
            registry.publish(built, name, tag)
            docker_engine.images.remove(built, force=True)
        fractions: list[float] = []
        result = catalogue.pull(service, ref, progress=lambda _stage, f: f is not None and fractions.append(f))
        assert result.describe() == f"{ref} pulled" and not result.before
        assert fractions and max(fractions) > 0.5 and fractions == sorted(fractions), fractions
        listed = {e["image"]: e for e in json.loads(cli("image", "ls", "-k", "notebook", "-o", "json").stdout)}
        assert listed[ref]["pulled"] and listed[ref]["from"] == "this host", listed.get(ref)

        same = cli("image", "update", ref)
        assert same.returncode == 0 and same.stdout.strip() == f"{ref} is already up to date", same.stderr
        registry.manifests[(name, "1")] = registry.manifests[(name, "next")]  # upstream publishes a new version
        changed = cli("image", "update", ref)
        assert changed.returncode == 0 and changed.stdout.strip() == f"{ref} updated to a new version", changed.stderr
    finally:
        registry.close()
        for image in docker_engine.images.list(name=f"{registry.address}/{name}"):
            docker_engine.images.remove(image.id, force=True)
