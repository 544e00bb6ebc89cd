"""Files dropped into sessions in the app: a FITS file dropped on a notebook's card shows in JupyterLab's
file browser; a large copy shows its progress and can be cancelled; drops on a tab's title and on the
dashboard find their session. The drops are the events Qt delivers for a real drag from a file manager."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from canfar_desktop.core.lifecycle import State

from .conftest import card_named, screenshot, state_of, wait_js_true


def fits(path: Path) -> Path:
    """A minimal valid FITS file: one header block, an 8x8 image of bytes."""
    cards = ["SIMPLE  =                    T", "BITPIX  =                    8", "NAXIS   =                    2",
             "NAXIS1  =                    8", "NAXIS2  =                    8", "END"]
    header = "".join(c.ljust(80) for c in cards).ljust(2880).encode()
    path.write_bytes(header + bytes(range(64)).ljust(2880, b"\0"))
    return path


def drop(window: Any, files: list[Path], at: QPoint) -> bool:
    """Drag files over the window and drop them at `at` (window coordinates); True when it was taken."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    enter = QDragEnterEvent(at, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(QPointF(at), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)
    return event.isAccepted()


def centre_of(window: Any, widget: Any) -> QPoint:
    return widget.mapTo(window, widget.rect().center())


def big_file(path: Path, mb: int) -> Path:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as out:
        for _ in range(mb):
            out.write(block)
    return path


def test_files_dropped_on_a_notebook_card_show_in_jupyterlab(make_window: Any, qtbot: Any, tmp_path: Path,
                                                             session_images: dict[str, str]) -> None:
    window = make_window()
    service = window.service
    home = service.settings.arc_folder() / "home" / service.settings.user
    s = service.launch(service.prepare_launch("notebook", session_images["notebook"], "drop-nb"))
    qtbot.waitUntil(lambda: state_of(window, "drop-nb") == State.RUNNING, timeout=120000)
    card = card_named(window, "drop-nb")

    # A FITS file dropped on the card lands in /arc/home/<user>.
    image = fits(tmp_path / "m31.fits")
    assert drop(window, [image], centre_of(window, card))
    qtbot.waitUntil(lambda: (home / "m31.fits").exists() and not window.transfers.rows, timeout=30000)
    assert (home / "m31.fits").read_bytes() == image.read_bytes()

    # A large copy shows its progress and can be cancelled: nothing is left of it.
    large = big_file(tmp_path / "survey.fits", 1500)
    assert drop(window, [large], centre_of(window, card))
    [row] = window.transfers.rows
    qtbot.waitUntil(lambda: 0 < row.bar.value() < 1000, timeout=30000)
    assert window.transfers.panel.isVisible() and "survey.fits" in row.label.text()
    for toast in list(window.messages.toasts):
        window.messages.dismiss(toast)
    screenshot(window, "transfer-in-progress.png")
    row.cancel_button.click()
    qtbot.waitUntil(lambda: not window.transfers.rows, timeout=30000)
    assert not window.transfers.panel.isVisible()
    left = [n for n in os.listdir(home) if "survey" in n]
    assert left == [], f"a cancelled copy leaves nothing, not even its temporary: {left}"

    # The session opens in a tab; its file browser shows the dropped file.
    window.open_session(s.id, s.host)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=20000)
    tab = next(iter(window.session_tabs.values()))
    wait_js_true(qtbot, tab, "[...document.querySelectorAll('.jp-DirListing-itemText')]"
                             ".some(e => e.textContent.trim() === 'm31.fits')", timeout=90000)

    # A drop on the tab's title goes to that session; one on the dashboard to the only running one.
    notes = tmp_path / "notes.txt"
    notes.write_text("observing log\n")
    bar = window.tabs.tabBar()
    at = bar.mapTo(window, bar.tabRect(window.tabs.indexOf(tab)).center())
    assert window.transfers.session_at(at).id == s.id
    assert drop(window, [notes], at)
    qtbot.waitUntil(lambda: (home / "notes.txt").exists() and not window.transfers.rows, timeout=30000)
    (home / "notes.txt").unlink()
    empty = window.dashboard.mapTo(window, QPoint(10, window.dashboard.height() - 10))
    assert window.transfers.session_at(empty) is None
    assert drop(window, [notes], empty)
    qtbot.waitUntil(lambda: (home / "notes.txt").exists() and not window.transfers.rows, timeout=30000)


def test_the_file_browser_uploads_into_a_folder_and_downloads(make_window: Any, qtbot: Any, tmp_path: Path,
                                                              session_images: dict[str, str]) -> None:
    from canfar_desktop.ui.files_dialog import FilesDialog

    window = make_window()
    service = window.service
    home = service.settings.arc_folder() / "home" / service.settings.user
    service.launch(service.prepare_launch("contributed", session_images["contributed"], "browse-web"))
    qtbot.waitUntil(lambda: state_of(window, "browse-web") == State.RUNNING, timeout=60000)
    (home / "raw" / "night1").mkdir(parents=True)
    (home / "raw" / "night1" / "flat.fits").write_bytes(b"F" * 5000)
    for path in (home / "raw", home / "raw" / "night1", home / "raw" / "night1" / "flat.fits"):
        os.chown(path, service.settings.uid, service.settings.gid)  # the person's own, as the session makes them
    card = card_named(window, "browse-web")
    assert card.files_button.isVisible() and card.files_button.isEnabled()
    card.files_button.click()
    dialog = window.findChild(FilesDialog)
    assert dialog is not None and dialog.isVisible()

    def names() -> list[str]:
        return [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]

    qtbot.waitUntil(lambda: "raw" in names(), timeout=20000)
    assert dialog.path_edit.text() == f"/arc/home/{service.settings.user}"
    # into a folder by double-click (activation), then one deeper by typing its path
    raw = next(dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())
               if dialog.tree.topLevelItem(i).text(0) == "raw")
    dialog.tree.itemActivated.emit(raw, 0)
    qtbot.waitUntil(lambda: names() == ["night1"], timeout=20000)
    dialog.path_edit.setText("raw/night1")
    qtbot.keyClick(dialog.path_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: names() == ["flat.fits"], timeout=20000)
    assert dialog.tree.topLevelItem(0).text(1) == "4.9 KB"

    # a file dropped on the list goes into the folder shown; the listing refreshes when it lands
    image = fits(tmp_path / "m31.fits")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(image))])
    viewport = dialog.tree.viewport()
    at = QPointF(viewport.rect().center())
    enter = QDragEnterEvent(at.toPoint(), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(viewport, QDropEvent(at, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                                                Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: "m31.fits" in names(), timeout=30000)
    assert (home / "raw" / "night1" / "m31.fits").read_bytes() == image.read_bytes()

    # download what is selected, into a folder of this computer
    dialog.tree.selectAll()
    assert dialog.download_button.isEnabled()
    out = tmp_path / "downloads"
    out.mkdir()
    dialog.download(out)
    qtbot.waitUntil(lambda: not window.transfers.rows and (out / "flat.fits").exists() and (out / "m31.fits").exists(),
                    timeout=30000)
    assert (out / "flat.fits").read_bytes() == b"F" * 5000
    assert (out / "m31.fits").read_bytes() == image.read_bytes()

    # outside /arc: refused in words, the listing kept
    dialog.path_edit.setText("/etc")
    qtbot.keyClick(dialog.path_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "outside /arc" in dialog.status.text(), timeout=20000)
    assert names() == ["flat.fits", "m31.fits"] and dialog.path_edit.text().endswith("raw/night1")
    dialog.tree.clearSelection()
    dialog.tree.setCurrentItem(None)
    dialog.go("raw/night1")
    qtbot.waitUntil(lambda: dialog.status.text().startswith("2 items"), timeout=20000)
    screenshot(dialog, "files-dialog.png")
    dialog.close()
