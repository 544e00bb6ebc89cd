"""The image catalogue window: every image usable for each kind, with pull (progress), update, remove.

It lists core/catalogue.py's entries for a host: CANFAR's images for each kind (always, pulled or
not), this project's, and the host's other images that serve a kind. Pulls belong to the window's
`ImagePulls`, not to this dialog, so a pull started ahead of a launch goes on in the background
after the dialog closes, and the dialog shows it again when reopened. From the launch dialog it
opens as a picker: "Use" puts the chosen image into the launch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core import catalogue
from ..core.catalogue import CATALOGUE_KINDS, Entry, PullResult
from ..core.errors import CanfarError
from ..core.formats import human_duration
from ..core.kinds import DESKTOP_APP, KINDS
from ..core.service import SessionService
from ..core.validation import normalize_image
from .tasks import Latest, Runner

COLUMNS = ("Image", "Kinds", "From", "Size", "Age", "Status", "Description")


def kind_title(kind: str) -> str:
    return KINDS[kind].title if kind in KINDS else DESKTOP_APP.title


class ImagePulls(QObject):
    """The pulls in flight, by host and reference; they outlive any dialog that started them."""

    progress = Signal(str, str, object)  # host, ref, fraction (None: unknown)
    finished = Signal(str, str, object, object)  # host, ref, PullResult or None, CanfarError or None

    def __init__(self, service: SessionService, runner: Runner, parent: QObject | None = None,
                 images_changed: Callable[[str], None] | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.runner = runner
        self.images_changed = images_changed or (lambda host: None)
        self.running: dict[tuple[str, str], float | None] = {}
        self.progress.connect(self._remember)

    def start(self, host: str, ref: str) -> bool:
        """Start pulling (or updating) `ref` on `host`; False if that pull is already running."""
        key = (host, ref)
        if key in self.running:
            return False
        self.running[key] = None

        def report(_stage: str, fraction: float | None) -> None:  # on the worker thread: signals queue
            try:
                self.progress.emit(host, ref, fraction)
            except RuntimeError:
                pass

        def done(result: PullResult) -> None:
            self.running.pop(key, None)
            self.images_changed(host)
            self.finished.emit(host, ref, result, None)

        def failed(err: CanfarError) -> None:
            self.running.pop(key, None)
            self.finished.emit(host, ref, None, err)

        self.runner.run(catalogue.pull, self.service, ref, host, report, on_done=done, on_error=failed)
        return True

    def _remember(self, host: str, ref: str, fraction: object) -> None:
        if (host, ref) in self.running:
            self.running[(host, ref)] = fraction if isinstance(fraction, float) else None


class CatalogueDialog(QDialog):
    """Browse the host's catalogue; with `choose`, Use accepts the dialog with `chosen` set."""

    def __init__(self, service: SessionService, runner: Runner, pulls: ImagePulls, parent: QWidget | None = None,
                 kind: str | None = None, host: str | None = None, choose: bool = False) -> None:
        super().__init__(parent)
        self.service = service
        self.runner = runner
        self.pulls = pulls
        self.host = host or service.settings.default_host
        self.choose = choose
        self.chosen = ""
        self.entries: list[Entry] = []
        self.loaded = False
        self._job = Latest(runner)
        self.finished.connect(lambda _r: self._job.cancel())
        self.setWindowTitle(f"Images on {self.host}")
        self.setAccessibleName("Image catalogue")
        self.resize(1100, 520)

        self.kind = QComboBox()
        self.kind.setAccessibleName("Show images for kind")
        self.kind.addItem("Every kind", "")
        for k in CATALOGUE_KINDS:
            self.kind.addItem(kind_title(k), k)
        if kind:
            self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        self.kind.currentIndexChanged.connect(self._fill)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Images")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _i: self.choose and self._use())

        self.other = QLineEdit()
        self.other.setPlaceholderText("another image to pull: registry/repository:tag")
        self.other.setAccessibleName("Image to pull")
        self.other.returnPressed.connect(self._pull_other)
        self.pull_other_button = self._button("Pull image", "Pull this image in the background", self._pull_other)

        self.message = QLabel("Reading the images on the host…")
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Catalogue status")

        self.pull_button = self._button("Pull", "Pull the image (it goes on in the background)", self._pull)
        self.update_button = self._button("Update", "Pull again and say whether the image changed", self._pull)
        self.remove_button = self._button("Remove", "Remove the image from the host", self._remove)
        self.refresh_button = self._button("Refresh", "Read the host's images again", self.reload)
        self.use_button = self._button("Use", "Launch with this image", self._use)
        self.use_button.setVisible(choose)
        self.use_button.setObjectName("primary")
        close = self._button("Close", "Close the catalogue", self.reject)

        top = QHBoxLayout()
        top.addWidget(QLabel("Kind"))
        top.addWidget(self.kind)
        top.addStretch(1)
        top.addWidget(self.other, 2)
        top.addWidget(self.pull_other_button)
        top.addWidget(self.refresh_button)
        buttons = QHBoxLayout()
        for b in (self.pull_button, self.update_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

        pulls.progress.connect(self._progress)
        pulls.finished.connect(self._pulled)
        self._selection_changed()
        self.reload()

    def _button(self, text: str, tip: str, slot: Callable[[], Any]) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setAccessibleName(text)
        button.clicked.connect(slot)
        return button

    # --- reading ------------------------------------------------------------------------------

    def reload(self) -> None:
        self._job.run(catalogue.listing, self.service, self.host, on_done=self._loaded, on_error=self._failed)

    def _loaded(self, entries: list[Entry]) -> None:
        first = not self.loaded
        self.entries = entries
        self.loaded = True
        self._fill()
        if first:  # later listings follow a pull or a removal, whose outcome stays on show
            pulled = sum(1 for e in entries if e.pulled)
            self._say(f"{len(entries)} images for session kinds, {pulled} of them on {self.host}. CANFAR's image "
                      "for each kind is always listed; pull it ahead of a launch and it downloads in the background.")

    def _failed(self, err: CanfarError) -> None:
        self._say(f"{err.message}. {err.hint}" if err.hint else err.message, error=True)

    def shown_entries(self) -> list[Entry]:
        kind = self.kind.currentData()
        return [e for e in self.entries if not kind or kind in e.kinds]

    def _fill(self, *_args: object) -> None:
        selected = self.selected()
        shown = self.shown_entries()
        self.table.setRowCount(len(shown))
        for row, e in enumerate(shown):
            size = f"{e.size / 1e6:.0f} MB" if e.size is not None else "—"
            age = e.age()
            cells = (e.ref, ", ".join(kind_title(k) for k in e.kinds), e.origin, size,
                     human_duration(age) if age is not None else "—", "", e.description)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, e.ref)
                if col == 0:
                    item.setToolTip(e.title)
                self.table.setItem(row, col, item)
            self._status_cell(row, e)
            if selected is not None and e.ref == selected.ref:
                self.table.selectRow(row)
        if selected is None and shown:
            self.table.selectRow(0)
        self._selection_changed()  # the rows changed under a selection that may have stayed put

    def _status_cell(self, row: int, e: Entry) -> None:
        key = (self.host, e.ref)
        if key in self.pulls.running:
            bar = QProgressBar()
            bar.setAccessibleName(f"Pulling {e.ref}")
            fraction = self.pulls.running[key]
            bar.setRange(0, 0 if fraction is None else 100)
            bar.setValue(int((fraction or 0) * 100))
            bar.setFormat("pulling %p%")
            self.table.setCellWidget(row, 5, bar)
        else:
            self.table.removeCellWidget(row, 5)
            item = self.table.item(row, 5)
            if item is not None:
                item.setText("pulled" if e.pulled else "not pulled")

    def row_of(self, ref: str) -> int:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.text() == ref:
                return row
        return -1

    def selected(self) -> Entry | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        ref = self.table.item(rows[0].row(), 0).text()
        return next((e for e in self.entries if e.ref == ref), None)

    def select(self, ref: str) -> None:
        row = self.row_of(ref)
        if row >= 0:
            self.table.selectRow(row)
            self._selection_changed()

    def _selection_changed(self) -> None:
        e = self.selected()
        busy = e is not None and (self.host, e.ref) in self.pulls.running
        self.pull_button.setEnabled(e is not None and not e.pulled and e.can_pull and not busy)
        self.update_button.setEnabled(e is not None and e.pulled and e.can_pull and not busy)
        self.remove_button.setEnabled(e is not None and e.pulled and not busy)
        self.use_button.setEnabled(e is not None)
        if e is not None and not e.can_pull:
            self.pull_button.setToolTip("Built on this machine by `make images`, not pulled from a registry")
        else:
            self.pull_button.setToolTip("Pull the image (it goes on in the background)")

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setObjectName("error" if error else "muted")
        self.message.setStyleSheet("")  # re-read the object name's style
        self.message.setText(text)

    # --- acting -------------------------------------------------------------------------------

    def _pull(self) -> None:
        e = self.selected()
        if e is None:
            return
        if self.pulls.start(self.host, e.ref):
            self._say(f"Pulling {e.ref} in the background…")
            self._fill()
            self._selection_changed()

    def _pull_other(self) -> None:
        """Pull any reference, listed or not; it is listed once it is on the host and serves a kind."""
        text = self.other.text().strip()
        try:
            ref = normalize_image(text)
        except CanfarError as exc:
            self._say(f"{exc.message}: {exc.hint}", error=True)
            return
        if self.pulls.start(self.host, ref):
            self._say(f"Pulling {ref} in the background…")
            self.other.clear()
            self._fill()

    def _progress(self, host: str, ref: str, fraction: object) -> None:
        if host != self.host:
            return
        row = self.row_of(ref)
        bar = self.table.cellWidget(row, 5) if row >= 0 else None
        if isinstance(bar, QProgressBar) and isinstance(fraction, float):
            bar.setRange(0, 100)
            bar.setValue(int(fraction * 100))
        elif row < 0 and isinstance(fraction, float):  # not listed (yet): the status line shows it
            self._say(f"Pulling {ref} in the background… {fraction * 100:.0f} %")

    def _pulled(self, host: str, ref: str, result: object, err: object) -> None:
        if host != self.host:
            return
        if isinstance(result, PullResult):
            self._say(result.describe() + ".")
        elif isinstance(err, CanfarError):
            self._say(f"{err.message}. {err.hint}" if err.hint else err.message, error=True)
        self.reload()

    def _remove(self) -> None:
        e = self.selected()
        if e is None:
            return
        answer = QMessageBox.question(self, "Remove image", f"Remove {e.ref} from {self.host}?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return

        def done(ref: str) -> None:
            self._say(f"{ref} removed from {self.host}.")
            self.pulls.images_changed(self.host)
            self.reload()

        self.runner.run(catalogue.remove, self.service, e.ref, self.host, on_done=done, on_error=self._failed)

    def _use(self) -> None:
        e = self.selected()
        if e is not None:
            self.chosen = e.ref
            self.accept()


def pulls_of(window: QObject, service: SessionService, runner: Runner) -> ImagePulls:
    """The window's one ImagePulls (made on first use), so pulls outlive the dialogs."""
    found = window.findChild(ImagePulls)
    if isinstance(found, ImagePulls):
        return found
    bridge = getattr(window, "desktop_apps", None)
    return ImagePulls(service, runner, window, bridge.images_changed if bridge is not None else None)


def open_catalogue(window: QWidget, service: SessionService, runner: Runner, kind: str | None = None,
                   host: str | None = None, choose: bool = False, parent: QWidget | None = None) -> CatalogueDialog:
    dialog = CatalogueDialog(service, runner, pulls_of(window, service, runner), parent or window, kind, host, choose)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def install(window: Any, service: SessionService, runner: Runner) -> QAction:
    """File › Images… (Ctrl+I) opens the catalogue."""
    action = QAction("&Images…", window)
    action.setShortcut("Ctrl+I")
    action.setToolTip("Images for each kind: pull, update, remove (Ctrl+I)")
    action.setStatusTip(action.toolTip())
    action.triggered.connect(lambda: open_catalogue(window, service, runner))
    window.catalogue_action = action
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if menu is not None and menu_action.text().replace("&", "") == "File":
            first = menu.actions()[1] if len(menu.actions()) > 1 else None
            menu.insertAction(first, action) if first is not None else menu.addAction(action)
            break
    window.addAction(action)
    return action


def image_row(dialog: Any, runner: Runner) -> QWidget:
    """The launch dialog's image field with a "Browse…" button that picks from the catalogue."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(dialog.image, 1)
    browse = QPushButton("Browse…")
    browse.setAccessibleName("Browse images")
    browse.setToolTip("Every image for this kind: CANFAR's, this project's and the host's; pull ahead of launching")
    layout.addWidget(browse)
    dialog.browse_images = browse

    def pick() -> None:
        window = dialog.parentWidget() or dialog
        picker = open_catalogue(window, dialog.service, runner, dialog.kind, dialog.host_combo.currentText(),
                                choose=True, parent=dialog)
        picker.accepted.connect(lambda: picker.chosen and dialog.image.setCurrentText(picker.chosen))
        dialog.catalogue = picker

    browse.clicked.connect(pick)
    return row
