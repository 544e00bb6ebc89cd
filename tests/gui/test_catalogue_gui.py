"""The image catalogue in the app: CANFAR's images for every kind beside this host's, pull with progress
(in the background, from a registry on the loopback), update, remove, and picking an image for a launch."""

from __future__ import annotations

import io
import secrets
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressBar

from canfar_desktop.core.kinds import KINDS
from canfar_desktop.ui.catalogue_dialog import CatalogueDialog, ImagePulls

from ..integration.registry_standin import Registry, build_payload_image
from ..integration.science_fixtures import need_images
from .conftest import press_in_modal, screenshot


@pytest.fixture
def science_images(docker_engine: Any, session_images: dict[str, str]) -> dict[str, str]:
    return need_images(docker_engine, session_images)


def status_of(dialog: CatalogueDialog, ref: str) -> str:
    row = dialog.row_of(ref)
    assert row >= 0, f"{ref} is not listed"
    item = dialog.table.item(row, 5)
    return item.text() if item is not None else ""


def test_catalogue_lists_pulls_and_removes(make_app: Any, qtbot: Any, docker_engine: Any,
                                           science_images: dict[str, str]) -> None:
    parts = make_app()
    window = parts.window
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    tag = f"cd-test/gui-rm-notebook:{secrets.token_hex(4)}"  # named for notebooks: the catalogue lists it
    recipe = f"FROM canfar-desktop/base:latest\nLABEL test.unique={secrets.token_hex(8)}\n".encode()
    docker_engine.images.build(fileobj=io.BytesIO(recipe), tag=tag, rm=True)
    try:
        browse_pull_and_remove(window, qtbot, docker_engine, science_images, tag)
    finally:
        for image in docker_engine.images.list(name=tag.split(":")[0]):
            docker_engine.images.remove(image.id, force=True)


def browse_pull_and_remove(window: Any, qtbot: Any, docker_engine: Any, science_images: dict[str, str],
                           tag: str) -> None:
    window.catalogue_action.trigger()
    dialog = window.findChild(CatalogueDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=15000)
    for kind in ("notebook", "desktop", "carta", "firefly"):
        assert status_of(dialog, KINDS[kind].default_image) == "not pulled"
    for ref in (science_images["notebook"], science_images["desktop"], science_images["ds9"], tag):
        assert status_of(dialog, ref) == "pulled"

    # a pull runs in the background with a progress bar; this machine has no registry, so it says why it failed
    dialog.kind.setCurrentIndex(dialog.kind.findData("firefly"))
    dialog.select(KINDS["firefly"].default_image)
    assert dialog.pull_button.isEnabled() and not dialog.update_button.isEnabled()
    qtbot.mouseClick(dialog.pull_button, Qt.MouseButton.LeftButton)
    pulls = window.findChild(ImagePulls)
    assert (pulls is not None and (dialog.host, KINDS["firefly"].default_image) in pulls.running) or \
        "Could not pull" in dialog.message.text()
    qtbot.waitUntil(lambda: not pulls.running, timeout=60000)
    qtbot.waitUntil(lambda: "Could not pull" in dialog.message.text(), timeout=15000)
    qtbot.waitUntil(lambda: not dialog._job.busy, timeout=15000)  # the listing after the pull
    assert "Could not pull" in dialog.message.text(), "the outcome stays on show"
    dialog.select(science_images["firefly"])
    assert not dialog.pull_button.isEnabled(), "a stand-in is built here, never pulled"

    # remove, after a confirmation
    dialog.kind.setCurrentIndex(0)
    dialog.select(tag)
    assert dialog.remove_button.isEnabled()
    seen = press_in_modal(qtbot, "&Yes")
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert seen["clicked"] and tag in seen["text"]
    qtbot.waitUntil(lambda: dialog.loaded and dialog.row_of(tag) < 0, timeout=20000)
    assert not [t for i in docker_engine.images.list() for t in i.tags if t == tag]
    dialog.select(KINDS["notebook"].default_image)
    screenshot(dialog, "catalogue.png", qtbot, settle_ms=300)
    dialog.close()


def test_launch_dialog_offers_canfars_image_and_picks_from_the_catalogue(
        make_app: Any, qtbot: Any, science_images: dict[str, str]) -> None:
    parts = make_app()
    window = parts.window
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    launch = window.new_session("notebook")
    qtbot.waitUntil(lambda: launch.facts is not None, timeout=15000)
    offered = [launch.image.itemText(i) for i in range(launch.image.count())]
    assert science_images["notebook"] in offered and KINDS["notebook"].default_image in offered, offered

    qtbot.mouseClick(launch.browse_images, Qt.MouseButton.LeftButton)
    picker = launch.catalogue
    qtbot.waitUntil(lambda: picker.loaded, timeout=15000)
    assert picker.kind.currentData() == "notebook" and picker.use_button.isVisible()
    assert {e.ref for e in picker.shown_entries()} >= {science_images["notebook"], KINDS["notebook"].default_image}
    picker.select(KINDS["notebook"].default_image)
    qtbot.mouseClick(picker.use_button, Qt.MouseButton.LeftButton)
    assert launch.image.currentText() == KINDS["notebook"].default_image
    launch.reject()


def open_dialog(window: Any, qtbot: Any) -> CatalogueDialog:
    window.catalogue_action.trigger()
    shown = [d for d in window.findChildren(CatalogueDialog) if d.isVisible()]
    assert len(shown) == 1
    qtbot.waitUntil(lambda: shown[0].loaded, timeout=15000)
    return shown[0]


def test_pull_goes_on_in_the_background_and_update_shows_its_progress(make_app: Any, qtbot: Any,
                                                                       docker_engine: Any) -> None:
    parts = make_app()
    window = parts.window
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    name = f"cd-test/gui-notebook-{secrets.token_hex(3)}"  # its name says notebook
    registry = Registry(docker_engine, slow_s=0.05)  # about 4 s a pull: time to watch it
    ref = f"{registry.address}/{name}:1"
    try:
        for tag in ("1", "next"):
            built = build_payload_image(docker_engine, f"cd-test/payload:{secrets.token_hex(4)}")
            registry.publish(built, name, tag)
            docker_engine.images.remove(built, force=True)

        dialog = open_dialog(window, qtbot)
        dialog.other.setText(ref)
        qtbot.mouseClick(dialog.pull_other_button, Qt.MouseButton.LeftButton)
        pulls = window.findChild(ImagePulls)
        assert pulls is not None and (dialog.host, ref) in pulls.running
        dialog.close()  # the pull goes on without the window
        qtbot.waitUntil(lambda: not pulls.running, timeout=60000)
        dialog = open_dialog(window, qtbot)
        assert status_of(dialog, ref) == "pulled"

        registry.manifests[(name, "1")] = registry.manifests[(name, "next")]  # a new version upstream
        dialog.select(ref)
        assert dialog.update_button.isEnabled()
        qtbot.mouseClick(dialog.update_button, Qt.MouseButton.LeftButton)

        def bar_moving() -> bool:
            bar = dialog.table.cellWidget(dialog.row_of(ref), 5)
            return isinstance(bar, QProgressBar) and bar.maximum() == 100 and bar.value() > 10

        qtbot.waitUntil(bar_moving, timeout=30000)
        screenshot(dialog, "catalogue-pull.png")
        qtbot.waitUntil(lambda: not pulls.running, timeout=60000)
        qtbot.waitUntil(lambda: "updated to a new version" in dialog.message.text(), timeout=15000)
        dialog.close()
    finally:
        registry.close()
        for image in docker_engine.images.list(name=f"{registry.address}/{name}"):
            docker_engine.images.remove(image.id, force=True)
