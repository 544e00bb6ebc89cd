"""The Projects dialog (File › Projects…): each host's /arc/projects folders and their groups; create
a project, add or remove a member. The same as `canfar-desktop project …` (core/projects.py), run on a
worker; sessions started afterwards carry the groups."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import CanfarError
from ..core.projects import Project
from ..core.service import SessionService
from .tasks import Latest, Runner

COLUMNS = ("Project", "Members", "Group id", "Folder")


class ProjectsDialog(QDialog):
    def __init__(self, service: SessionService, runner: Runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.user = service.settings.user
        self._job = Latest(runner)
        self.finished.connect(lambda _r: self._job.cancel())
        self.projects: list[Project] = []
        self.setWindowTitle("Projects")
        self.setMinimumSize(760, 440)

        self.host = QComboBox()
        self.host.setAccessibleName("Docker host")
        self.host.addItems(service.host_names())
        self.host.setCurrentText(service.settings.default_host)
        self.host.currentTextChanged.connect(self.reload)
        intro = QLabel(f"Folders in /arc/projects that a group reads and writes and others cannot enter. You are "
                       f"<b>{self.user}</b>; sessions you start carry the groups of your projects (★).")
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("projectsTable")
        self.table.setAccessibleName("Projects")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText("new project name, e.g. m31-survey")
        self.new_name.setAccessibleName("New project name")
        self.create_button = QPushButton("Create project")
        self.create_button.clicked.connect(self.create)
        self.member = QLineEdit()
        self.member.setPlaceholderText("user name")
        self.member.setAccessibleName("Member's user name")
        self.add_button = QPushButton("Add member")
        self.add_button.clicked.connect(lambda: self.change_member(add=True))
        self.remove_button = QPushButton("Remove member")
        self.remove_button.clicked.connect(lambda: self.change_member(add=False))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Projects status")

        top = QHBoxLayout()
        top.addWidget(QLabel("Host"))
        top.addWidget(self.host, 1)
        create = QHBoxLayout()
        create.addWidget(self.new_name, 1)
        create.addWidget(self.create_button)
        members = QHBoxLayout()
        members.addWidget(QLabel("Selected project:"))
        members.addWidget(self.member, 1)
        members.addWidget(self.add_button)
        members.addWidget(self.remove_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(members)
        layout.addLayout(create)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self._selection_changed()
        self.reload()

    # --- reading ------------------------------------------------------------------------------

    def reload(self, *_args: object) -> None:
        self._busy(f"reading the projects of “{self.host.currentText()}”…")
        self._job.run(lambda host: self.service.projects(host).all(), self.host.currentText(),
                      on_done=self._show, on_error=self._failed)

    def _show(self, projects: list[Project], note: str = "") -> None:
        self.projects = projects
        self.table.setRowCount(len(projects))
        for row, p in enumerate(projects):
            mine = self.user in p.members
            cells = (("★ " if mine else "") + p.name, ", ".join(p.members), str(p.gid), p.folder)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, p.name)
                self.table.setItem(row, col, item)
        for col in (0, 2, 3):
            self.table.resizeColumnToContents(col)
        self.table.resizeRowsToContents()
        self._idle(note or (f"{len(projects)} project{'s' if len(projects) != 1 else ''} on "
                            f"“{self.host.currentText()}”" if projects else "No projects on this host yet."))

    def selected(self) -> Project | None:
        rows = self.table.selectionModel().selectedRows()
        return self.projects[rows[0].row()] if rows and rows[0].row() < len(self.projects) else None

    def _selection_changed(self) -> None:
        p = self.selected()
        mine = p is not None and self.user in p.members
        for widget in (self.member, self.add_button, self.remove_button):
            widget.setEnabled(mine)
        if p is not None and not mine:
            self.status.setText(f"Only members of {p.name} can change it: ask {', '.join(p.members)}.")

    # --- changing -----------------------------------------------------------------------------

    def create(self) -> None:
        name = self.new_name.text().strip()
        host = self.host.currentText()

        def made(p: Project) -> None:
            self.new_name.clear()
            self.reload()
            self.status.setText(f"{p.folder} created; new sessions carry the group {p.name}.")

        self._busy(f"creating {name}…")
        self._job.run(lambda: self.service.projects(host).create(name), on_done=made, on_error=self._failed)

    def change_member(self, add: bool) -> None:
        p = self.selected()
        who = self.member.text().strip()
        if p is None or not who:
            return
        host = self.host.currentText()

        def changed(new: Project) -> None:
            self.member.clear()
            self._show([new if q.name == new.name else q for q in self.projects],
                       f"{who} {'added to' if add else 'removed from'} {new.name}; their new sessions carry the change.")

        self._busy(f"{'adding' if add else 'removing'} {who}…")
        store_call = (lambda: self.service.projects(host).add_member(p.name, who)) if add else (
            lambda: self.service.projects(host).remove_member(p.name, who))
        self._job.run(store_call, on_done=changed, on_error=self._failed)

    def _busy(self, text: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(text)
        self.create_button.setEnabled(False)

    def _idle(self, text: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(text)
        self.create_button.setEnabled(True)
        self._selection_changed()

    def _failed(self, err: CanfarError) -> None:
        self._idle("")
        self.status.setStyleSheet("color: #c53030;")
        self.status.setText(f"{err.message}; {err.hint}" if err.hint else err.message)


def add_menu_item(parent: QWidget, menu: QMenu, service: SessionService, runner: Runner) -> QAction:
    """The window's hook: File › Projects… opens the dialog."""
    act = QAction("&Projects…", parent)
    act.setToolTip("Project folders in /arc/projects and their groups")
    act.triggered.connect(lambda: open_dialog(parent, service, runner))
    menu.addAction(act)
    return act


def open_dialog(parent: QWidget, service: SessionService, runner: Runner) -> ProjectsDialog:
    dialog = ProjectsDialog(service, runner, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
