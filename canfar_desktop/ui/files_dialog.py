"""A session's files: a small browser of its /arc (and /scratch) to upload into any folder and download from.

The listing is the core's (`SessionService.list_folder`: `find` run in the session as its user, so it
shows what that person may read, on remote hosts too); the copies are the window's transfers
(ui/transfers.py), with their progress bar and Cancel below the sessions. Files dropped on the
dialog go into the folder it shows.
"""

from __future__ import annotations

import posixpath
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import CanfarError
from ..core.session import Session
from ..core.transfer import Entry
from .dialogs import hint_of, message_of
from .tasks import Latest
from .transfers import human

if TYPE_CHECKING:
    from ..core.service import SessionService
    from .tasks import Runner
    from .transfers import Transfers

PATH_ROLE = Qt.ItemDataRole.UserRole
FOLDER_ROLE = Qt.ItemDataRole.UserRole + 1


class FilesDialog(QDialog):
    """Browse one session's /arc: Up, a path to type, folders to enter; Upload here, Download, Refresh."""

    def __init__(self, parent: QWidget, service: SessionService, runner: Runner, transfers: Transfers, s: Session,
                 path: str = "") -> None:
        super().__init__(parent)
        self.service, self.transfers, self.session = service, transfers, s
        self.path = f"/arc/home/{s.owner}"
        self.listing = Latest(runner)  # a newer folder supersedes the one still loading
        self.setWindowTitle(f"Files of {s.name}")
        self.setObjectName("filesDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setAcceptDrops(True)
        self.resize(720, 480)
        style = self.style()

        self.up_button = QToolButton()
        self.up_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_FileDialogToParent))
        self.up_button.setToolTip("Up one folder")
        self.up_button.setAccessibleName("Up one folder")
        self.up_button.clicked.connect(self.up)
        self.home_button = QToolButton()
        self.home_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DirHomeIcon))
        self.home_button.setToolTip(f"Your home folder, /arc/home/{s.owner}")
        self.home_button.setAccessibleName("Home folder")
        self.home_button.clicked.connect(lambda: self.go(f"/arc/home/{s.owner}"))
        self.path_edit = QLineEdit()
        self.path_edit.setAccessibleName("Folder")
        self.path_edit.setToolTip("A folder under /arc or /scratch; Enter opens it")
        self.path_edit.returnPressed.connect(lambda: self.go(self.path_edit.text().strip()))
        self.refresh_button = QToolButton()
        self.refresh_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_button.setToolTip("Refresh")
        self.refresh_button.setAccessibleName("Refresh the folder")
        self.refresh_button.clicked.connect(self.refresh)
        bar = QHBoxLayout()
        for widget in (self.up_button, self.home_button, self.path_edit, self.refresh_button):
            bar.addWidget(widget)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Name", "Size", "Modified"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.tree.setAccessibleName("Files and folders")
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.viewport().installEventFilter(self)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)

        self.upload_button = QPushButton("Upload files…")
        self.upload_button.setToolTip("Copy files of this computer into the folder shown")
        self.upload_button.clicked.connect(self.upload_files)
        self.upload_folder_button = QPushButton("Upload folder…")
        self.upload_folder_button.setToolTip("Copy a folder of this computer, whole, into the folder shown")
        self.upload_folder_button.clicked.connect(self.upload_folder)
        self.download_button = QPushButton("Download…")
        self.download_button.setToolTip("Copy what is selected to a folder of this computer")
        self.download_button.setEnabled(False)
        self.download_button.clicked.connect(self.download)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        for button in (self.upload_button, self.upload_folder_button, self.download_button, close):
            button.setAutoDefault(False)  # Enter in the folder field opens that folder, nothing else
        buttons = QHBoxLayout()
        for widget in (self.upload_button, self.upload_folder_button, self.download_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.go(path or self.path)

    # --- the folder -----------------------------------------------------------------------------

    def go(self, path: str) -> None:
        """Show a folder (relative paths start at the home folder); the old listing stays until it comes."""
        self.status.setText(f"Reading {path}…")
        self.listing.run(self.service.list_folder, self.session, path, on_done=self._show,
                         on_error=self._failed)

    def refresh(self) -> None:
        self.go(self.path)

    def up(self) -> None:
        parent = posixpath.dirname(self.path.rstrip("/"))
        if parent not in ("", "/"):
            self.go(parent)

    def _show(self, result: tuple[str, list[Entry], bool]) -> None:
        path, entries, cut = result
        self.path = path
        self.path_edit.setText(path)
        self.up_button.setEnabled(posixpath.dirname(path) not in ("", "/"))
        self.tree.clear()
        style = self.style()
        folder_icon = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        file_icon = style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)
        for e in entries:
            item = QTreeWidgetItem([e.name, "" if e.folder else human(e.size),
                                    datetime.fromtimestamp(e.modified).strftime("%Y-%m-%d %H:%M")])
            item.setIcon(0, folder_icon if e.folder else file_icon)
            item.setData(0, PATH_ROLE, posixpath.join(path, e.name))
            item.setData(0, FOLDER_ROLE, e.folder)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
        self.tree.resizeColumnToContents(1)
        self.tree.resizeColumnToContents(2)
        count = f"{len(entries)} item{'s' if len(entries) != 1 else ''}" if entries else "This folder is empty"
        self.status.setText(count + (" (the first ones only)" if cut else "")
                            + ". Drop files here to upload them into this folder.")
        self._selection_changed()

    def _failed(self, err: CanfarError) -> None:
        self.path_edit.setText(self.path)
        self.status.setText(f"{message_of(err)} — {hint_of(err)}" if hint_of(err) else message_of(err))

    def _activated(self, item: QTreeWidgetItem) -> None:
        if item.data(0, FOLDER_ROLE):
            self.go(str(item.data(0, PATH_ROLE)))

    def _selection_changed(self) -> None:
        self.download_button.setEnabled(bool(self.tree.selectedItems()))

    # --- copies -----------------------------------------------------------------------------------

    def upload_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, f"Upload into {self.path}", str(Path.home()))
        self.upload([Path(f) for f in files])

    def upload_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"Upload a folder into {self.path}", str(Path.home()))
        self.upload([Path(folder)] if folder else [])

    def upload(self, files: list[Path]) -> None:
        if files:
            self.transfers.copy_in(self.session, files, self.path.rstrip("/") + "/", then=self._after_copy)

    def download(self, folder: Path | None = None) -> None:
        """Download the selection; without `folder`, ask where (Downloads first)."""
        paths = [str(item.data(0, PATH_ROLE)) for item in self.tree.selectedItems()]
        if not paths:
            return
        if folder is None:
            downloads = Path.home() / "Downloads"
            chosen = QFileDialog.getExistingDirectory(self, "Download to", str(downloads if downloads.is_dir()
                                                                               else Path.home()))
            if not chosen:
                return
            folder = Path(chosen)
        self.transfers.copy_out(self.session, paths, folder)

    def _after_copy(self) -> None:
        if self.isVisible():
            self.refresh()

    # --- drops --------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        """Drops on the list go into the folder shown (not the window's home-folder default)."""
        if isinstance(event, QDropEvent) and event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove,
                                                              QEvent.Type.Drop):
            files = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
            if not files:
                return False
            event.acceptProposedAction()
            if event.type() == QEvent.Type.Drop:
                self.upload(files)
            return True
        return False

    def dragEnterEvent(self, event: QDropEvent) -> None:  # type: ignore[override]  # noqa: N802 - Qt naming
        self.eventFilter(self, event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt naming
        self.eventFilter(self, event)

