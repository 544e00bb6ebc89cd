"""The CANFAR API in the app: a background server (a setting, off by default) and its Settings section.

With it on, the official `canfar` client and CANFAR scripts drive this computer's sessions while the
app runs. The section shows the address and the token (hidden until asked), copies the two export
lines, and rotates the token. The HTTP stack is imported only when the server starts.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..api.token import TokenStore
from ..core.errors import CanfarError
from ..core.settings import AppPaths, Settings

if TYPE_CHECKING:
    from ..api.server import BackgroundServer
    from ..core.service import SessionService

log = logging.getLogger(__name__)


def export_text(port: int, token: str) -> str:
    from ..api.server import Address, export_lines

    return export_lines(Address(port), token)


class ApiController(QObject):
    """Starts, stops and restarts the background API as the settings say; the app owns one."""

    changed = Signal()

    def __init__(self, service: SessionService, paths: AppPaths, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.tokens = TokenStore.for_paths(paths)
        self.server: BackgroundServer | None = None
        self.error = ""

    @property
    def url(self) -> str | None:
        return self.server.address.url if self.server and self.server.address else None

    def apply(self, settings: Settings) -> None:
        """Serve when `api_background` is on, on `api_port`; a taken port is reported, not raised."""
        wanted = settings.api_port if settings.api_background else None
        current = self.server.requested_port if self.server else None
        if wanted == current and (wanted is None or (self.server is not None and self.server.running)):
            return
        self.stop()
        self.error = ""
        if wanted is not None:
            from ..api.server import BackgroundServer

            server = BackgroundServer(self.service, self.tokens, wanted)
            try:
                server.start()
                self.server = server
            except CanfarError as exc:
                self.error = str(exc)
                log.warning("the CANFAR API could not start: %s", exc)
        self.changed.emit()

    def rotate(self) -> str:
        token = self.tokens.rotate()
        self.changed.emit()
        return token

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class ApiSection(QWidget):
    """Settings › CANFAR API: the setting, the address, the token, copy and rotate."""

    def __init__(self, settings: Settings, paths: AppPaths, controller: ApiController | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.tokens = controller.tokens if controller else TokenStore.for_paths(paths)
        self.enabled = QCheckBox("Serve the CANFAR session API while the app runs (for the canfar client and scripts)")
        self.enabled.setChecked(settings.api_background)
        self.enabled.setAccessibleName("Serve the CANFAR API in the background")
        self.port = QSpinBox()
        self.port.setRange(1024, 65535)
        self.port.setValue(settings.api_port)
        self.port.setAccessibleName("API port on 127.0.0.1")
        self.address = QLabel()
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address.setWordWrap(True)
        self.token = QLineEdit()
        self.token.setReadOnly(True)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setAccessibleName("API token")
        self.show_token = QPushButton("Show")
        self.show_token.setCheckable(True)
        self.show_token.setAccessibleName("Show the API token")
        self.show_token.toggled.connect(self._reveal)
        self.copy = QPushButton("Copy export lines")
        self.copy.setAccessibleName("Copy CANFAR_URL and CANFAR_TOKEN export lines")
        self.copy.setToolTip("Paste them into a shell, then use the canfar client as usual")
        self.copy.clicked.connect(self.copy_exports)
        self.rotate = QPushButton("New token")
        self.rotate.setAccessibleName("Make a new API token")
        self.rotate.setToolTip("The old token stops working at once")
        self.rotate.clicked.connect(self._rotate)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token, 1)
        for button in (self.show_token, self.copy, self.rotate):
            token_row.addWidget(button)
        note = QLabel("Listens on 127.0.0.1 only; requests without the token are refused. "
                      "`canfar-desktop api` serves the same API from a terminal instead.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("", self.enabled)
        form.addRow("Port", self.port)
        form.addRow("Address", self.address)
        form.addRow("Token", token_row)
        form.addRow("", note)
        self.enabled.toggled.connect(self._update)
        self.port.valueChanged.connect(self._update)
        if controller is not None:
            controller.changed.connect(self._update)
        self._update()

    def values(self) -> dict[str, object]:
        return {"api_background": self.enabled.isChecked(), "api_port": self.port.value()}

    def saved(self, settings: Settings) -> None:
        if self.controller is not None:
            self.controller.apply(settings)

    def export_lines(self) -> str:
        return export_text(self.port.value(), self.tokens.get())

    def copy_exports(self) -> None:
        try:
            QGuiApplication.clipboard().setText(self.export_lines())
        except CanfarError as exc:
            self.address.setText(str(exc))

    def _rotate(self) -> None:
        try:
            self.controller.rotate() if self.controller else self.tokens.rotate()
        except CanfarError as exc:
            self.address.setText(str(exc))
        self._update()

    def _reveal(self, shown: bool) -> None:
        self.token.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_token.setText("Hide" if shown else "Show")

    def _update(self) -> None:
        try:
            self.token.setText(self.tokens.get())
        except CanfarError as exc:
            self.token.setText("")
            self.address.setText(str(exc))
            return
        url = f"http://127.0.0.1:{self.port.value()}/skaha/v1"
        running = self.controller.url if self.controller else None
        if self.controller is not None and self.controller.error:
            self.address.setText(f"{url} — not serving: {self.controller.error}")
        elif running and running == url:
            self.address.setText(f"{url} — serving")
        elif self.enabled.isChecked():
            self.address.setText(f"{url} — serves once the settings are saved")
        else:
            self.address.setText(f"{url} — off")


def serve_if_enabled(controller: ApiController, settings: Settings, messages: Any) -> None:
    """At start-up: serve in the background when the setting is on; a failure is a message, not a stop."""
    controller.apply(settings)
    if controller.error:
        messages.show_message("The CANFAR API is not serving", controller.error, "warning")
