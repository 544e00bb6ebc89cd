"""The login part of the hosts editor for a CANFAR Science Platform host: which credential it will use and
until when, and a place to save (or remove) a token. Shown only while such a host is selected.

The token goes to the system keyring or a private file (core/secret_store.py), never into settings;
looking up credentials can touch the keyring, so it runs on a worker.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ..core.credentials import CredentialError, find_credential
from ..core.errors import CanfarError
from ..core.platform_hosts import site_url
from ..core.secret_store import forget_token, save_token
from ..core.settings import AppPaths, HostConfig
from .tasks import Latest, Runner

WARN_COLOUR = "#b7791f"
FAIL_COLOUR = "#c53030"


def describe_login(cfg: HostConfig, paths: AppPaths) -> tuple[str, str]:
    """Worker thread: (sentence, colour) about the credential this host will use."""
    now = datetime.now(UTC)
    try:
        cred = find_credential(cfg, paths, now)
    except CredentialError as exc:
        return f"{exc.message}. {exc.hint}", FAIL_COLOUR
    except CanfarError as exc:
        return exc.message, FAIL_COLOUR
    text = f"Signs in with {cred.describe(now)}."
    if cred.expires_soon(now):
        return f"{text} {cred.renew[0].upper()}{cred.renew[1:]}.", WARN_COLOUR
    return text, ""


class PlatformLogin(QWidget):
    """The selected platform host's login; `show_for(None)` hides it (a Docker host is selected)."""

    def __init__(self, runner: Runner, paths: AppPaths | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths = paths or AppPaths.default()
        self.cfg: HostConfig | None = None
        self._job = Latest(runner)
        self.destroyed.connect(self._job.cancel)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAccessibleName("CANFAR login")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("optional: paste a token to use instead of your canfar login")
        self.token.setAccessibleName("Platform token")
        self.save_button = QPushButton("Save token")
        self.save_button.setToolTip("Keep the token in the system keyring (or a file only you can read), "
                                    "never in the settings file")
        self.save_button.clicked.connect(self.save)
        self.forget_button = QPushButton("Remove saved token")
        self.forget_button.clicked.connect(self.forget)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.token, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.forget_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addLayout(row)
        self.setVisible(False)

    def show_for(self, cfg: HostConfig | None) -> None:
        self.cfg = cfg
        self.setVisible(cfg is not None)
        if cfg is not None:
            self.refresh()

    def refresh(self) -> None:
        cfg = self.cfg
        if cfg is None:
            return
        try:
            site_url(cfg)
        except CanfarError as exc:
            self._show(exc.message, FAIL_COLOUR)
            return
        self._show("Looking for your CANFAR login…", "")
        self._job.run(describe_login, cfg, self.paths, on_done=lambda r: self._show(*r),
                      on_error=lambda e: self._show(e.message, FAIL_COLOUR))

    def save(self) -> None:
        token = self.token.text().strip()
        if self.cfg is None or not token:
            return
        if any(c.isspace() for c in token):
            self._show("A token has no spaces in it; paste the token alone.", FAIL_COLOUR)
            return
        self.token.clear()
        self._job.run(save_token, self.paths, site_url(self.cfg), token, on_done=lambda _where: self.refresh(),
                      on_error=lambda e: self._show(e.message, FAIL_COLOUR))

    def forget(self) -> None:
        if self.cfg is not None:
            self._job.run(forget_token, self.paths, site_url(self.cfg), on_done=lambda _found: self.refresh(),
                          on_error=lambda e: self._show(e.message, FAIL_COLOUR))

    def _show(self, text: str, colour: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {colour};" if colour else "")
        self.status.setAccessibleDescription(text)
