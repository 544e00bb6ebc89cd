"""The Docker hosts part of the settings dialog: add, edit, remove, set default, import contexts, test.

It edits copies of the HostConfig entries; the settings dialog validates and saves them with the
rest. TLS verification has no switch: a remote tcp:// host needs its CA (the core refuses it otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import CanfarError, ValidationError
from ..core.hosts import is_remote, list_contexts, needs_tls, resolve_url, storage_description
from ..core.platform_hosts import CANFAR_SITE, is_platform, platform_url
from ..core.platform_hosts import SCHEMES as PLATFORM_SCHEMES
from ..core.record import replace
from ..core.registry import HostProbe
from ..core.settings import HostConfig
from . import icons
from .platform_login import PlatformLogin
from .tasks import Latest, Runner
from .wording import hint_of

SCHEMES = ("unix://", "ssh://", "tcp://", "npipe://", *PLATFORM_SCHEMES)
OK_COLOUR = "#2f855a"
FAIL_COLOUR = "#c53030"


def check_hosts(hosts: list[HostConfig], default: str) -> None:
    """Raise a ValidationError (a CanfarError) for a host list that cannot be saved."""
    names = [h.name for h in hosts]
    if not hosts:
        raise ValidationError("At least one Docker host is needed", "add one, or keep the local engine")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValidationError(f"Two hosts are named {twice[0]!r}", "give every host its own name")
    if default not in names:
        raise ValidationError(f"The default host {default!r} is not in the list", "choose a default host")
    for h in hosts:
        if is_platform(h):  # the CANFAR Science Platform: its address must be one (platform_hosts.py)
            platform_url(h.url)
            continue
        if h.url and not h.url.startswith(SCHEMES):
            raise ValidationError(f"Host {h.name}: {h.url!r} is not a Docker host URL",
                                  "use ssh://user@host[:port], tcp://host:port (TLS) or unix:///path; the CANFAR "
                                  "Science Platform is skaha+https://ws-uv.canfar.net/skaha (Add CANFAR)")
        if needs_tls(h) and not h.tls_ca:
            raise ValidationError(f"Host {h.name} uses tcp:// without a CA certificate",
                                  "TLS verification is always on: choose the CA (and client certificate and key), "
                                  "or use ssh://")
        if h.tls_cert and not h.tls_key:
            raise ValidationError(f"Host {h.name} has a client certificate without its key", "choose the key file")


class HostsEditor(QWidget):
    """A list of hosts beside the selected host's fields; `hosts()` and `default_host` are the result."""

    def __init__(self, hosts: list[HostConfig], default_host: str, local_arc: str, user: str,
                 test_host: Callable[[HostConfig], HostProbe], runner: Runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Docker hosts")
        self._hosts = [replace(h) for h in hosts] or [HostConfig()]
        self.default_host = default_host
        self.local_arc = local_arc
        self.user = user
        self.test_host = test_host  # service.test_host: connects as the app would (same TLS and SSH rules)
        self._test_job = Latest(runner)
        self.destroyed.connect(self._test_job.cancel)
        self._loading = False
        self.result_text = ""

        self.list = QListWidget()
        self.list.setAccessibleName("Configured Docker hosts")
        self.list.setIconSize(QSize(18, 18))
        self.list.setFixedWidth(240)
        self.list.currentRowChanged.connect(self._selected)

        self.name = self._edit("Host name", "letters, digits, '-', '_' and '.'")
        self.url = self._edit("Host URL", "empty: DOCKER_HOST, the current Docker context, or the local socket")
        self.url.setToolTip("ssh://user@host[:port] uses your ~/.ssh/config and keys; tcp://host:port uses TLS "
                            "with the CA, certificate and key below; unix:///path is an engine on this computer")
        self.tls_ca = self._edit("TLS CA certificate", "ca.pem: the CA that signed the host's certificate")
        self.tls_cert = self._edit("TLS client certificate", "cert.pem")
        self.tls_key = self._edit("TLS client key", "key.pem")
        self.ssh_tunnel = self._edit("SSH tunnel for a tcp:// host", "optional ssh://user@host to reach session ports")
        self.arc_path = self._edit("Folder behind /arc on the host", "empty: Docker volumes on that host")
        self.tls_note = QLabel("TLS verification is always on: the host's certificate must be signed by this CA.")
        self.tls_note.setObjectName("muted")
        self.tls_note.setWordWrap(True)
        self.where = QLabel()
        self.where.setObjectName("muted")
        self.where.setWordWrap(True)
        self.where.setAccessibleName("Where /arc lives on this host")
        self.pickers: list[QPushButton] = []
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Name", self.name)
        form.addRow("URL", self.url)
        for caption, edit in (("CA", self.tls_ca), ("Certificate", self.tls_cert), ("Key", self.tls_key)):
            form.addRow(caption, self._with_picker(edit, caption))
        form.addRow("", self.tls_note)
        form.addRow("SSH tunnel", self.ssh_tunnel)
        form.addRow("/arc on host", self.arc_path)
        form.addRow("", self.where)
        self.platform_login = PlatformLogin(runner)  # shown for a CANFAR Science Platform host
        form.addRow("", self.platform_login)

        self.add_button = self._button("Add", "add", "Add a Docker host", self.add_host)
        self.remove_button = self._button("Remove", "delete", "Remove the selected host (its sessions keep running "
                                          "there)", self.remove_host)
        self.default_button = self._button("Make default", "", "New sessions run on the default host unless "
                                           "another is chosen", self.make_default)
        self.add_canfar_button = self._button("Add CANFAR", "add", "Add the CANFAR Science Platform as a host; it "
                                              "signs in with your canfar login or a token", self.add_canfar)
        self.import_button = self._button("Import Docker contexts", "external", "Add the Docker contexts of this "
                                          "computer (docker context ls) as hosts", self.import_contexts)
        self.test_button = self._button("Test connection", "refresh", "Connect to the selected host now and "
                                        "measure the round trip", self.test_connection)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.result.setAccessibleName("Connection test result")
        self.result.setMinimumHeight(36)
        self.result.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        list_buttons = QGridLayout()
        list_buttons.addWidget(self.add_button, 0, 0)
        list_buttons.addWidget(self.remove_button, 0, 1)
        list_buttons.addWidget(self.default_button, 1, 0, 1, 2)
        list_buttons.addWidget(self.import_button, 2, 0, 1, 2)
        list_buttons.addWidget(self.add_canfar_button, 3, 0, 1, 2)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        left.addLayout(list_buttons)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.result, 1)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(test_row)
        right.addStretch(1)
        body = QHBoxLayout(self)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(left)
        body.addLayout(right, 1)

        for edit in (self.name, self.url, self.tls_ca, self.tls_cert, self.tls_key, self.ssh_tunnel, self.arc_path):
            edit.textChanged.connect(self._edited)
        self._fill()
        names = [h.name for h in self._hosts]
        self.list.setCurrentRow(names.index(default_host) if default_host in names else 0)

    # --- building -----------------------------------------------------------------------------

    @staticmethod
    def _edit(accessible: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setAccessibleName(accessible)
        edit.setPlaceholderText(placeholder)
        return edit

    def _button(self, text: str, icon: str, tip: str, slot: object) -> QPushButton:
        button = QPushButton(text)
        if icon:
            icons.set_icon(button, icon)
        button.setToolTip(tip)
        button.setAccessibleName(text)
        button.clicked.connect(slot)
        return button

    def _with_picker(self, edit: QLineEdit, caption: str) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        button = QPushButton("Choose…")
        button.setAccessibleName(f"Choose the TLS {caption.lower()} file")
        button.clicked.connect(lambda: self._pick(edit, caption))
        row.addWidget(button)
        self.pickers.append(button)
        return box

    def _pick(self, edit: QLineEdit, caption: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"TLS {caption}", edit.text(), "PEM files (*.pem *.crt *.key);;"
                                              "All files (*)")
        if path:
            edit.setText(path)

    # --- the list -----------------------------------------------------------------------------

    def hosts(self) -> list[HostConfig]:
        return [replace(h) for h in self._hosts]

    def current(self) -> HostConfig | None:
        row = self.list.currentRow()
        return self._hosts[row] if 0 <= row < len(self._hosts) else None

    def _label(self, h: HostConfig) -> str:
        where = h.url or "this computer's engine"
        return f"{h.name}{'  (default)' if h.name == self.default_host else ''}\n{where}"

    def _fill(self) -> None:
        row = self.list.currentRow()
        self.list.blockSignals(True)
        self.list.clear()
        for h in self._hosts:
            item = QListWidgetItem(icons.icon("host"), self._label(h))
            item.setToolTip(h.url or "DOCKER_HOST, the current Docker context, or the local socket")
            font = item.font()
            font.setBold(h.name == self.default_host)
            item.setFont(font)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if 0 <= row < len(self._hosts):
            self.list.setCurrentRow(row)
        self.remove_button.setEnabled(len(self._hosts) > 1)

    def _selected(self, row: int) -> None:
        h = self.current()
        if h is None:
            return
        self._loading = True
        for edit, value in ((self.name, h.name), (self.url, h.url), (self.tls_ca, h.tls_ca),
                            (self.tls_cert, h.tls_cert), (self.tls_key, h.tls_key),
                            (self.ssh_tunnel, h.ssh_tunnel), (self.arc_path, h.arc_path)):
            edit.setText(value)
        self._loading = False
        self._update_fields(h)
        self._show_result("", "")

    def _edited(self, _text: str) -> None:
        """Keep the selected entry in step with its fields (a bad name is reported, the old one kept)."""
        h = self.current()
        if h is None or self._loading:
            return
        old_name = h.name
        values = {"name": self.name.text().strip() or h.name, "url": self.url.text().strip(),
                  "tls_ca": self.tls_ca.text().strip(), "tls_cert": self.tls_cert.text().strip(),
                  "tls_key": self.tls_key.text().strip(), "ssh_tunnel": self.ssh_tunnel.text().strip(),
                  "arc_path": self.arc_path.text().strip()}
        try:
            new = HostConfig(**values)
        except ValueError:
            new = HostConfig(**{**values, "name": old_name})
            self._show_result("Host names use letters, digits, '-', '_' and '.'", FAIL_COLOUR)
        self._hosts[self.list.currentRow()] = new
        if self.default_host == old_name:
            self.default_host = new.name
        item = self.list.currentItem()
        if item is not None:
            item.setText(self._label(new))
        self._update_fields(new)

    def _update_fields(self, h: HostConfig) -> None:
        tls = h.url.startswith("tcp://")
        platform = is_platform(h)  # its own CA and an X.509 certificate may be set; no tunnel, no /arc folder
        for widget in (self.tls_ca, self.tls_cert, self.tls_key, *self.pickers, self.ssh_tunnel):
            widget.setEnabled(tls or (platform and widget is not self.ssh_tunnel))
        self.tls_note.setVisible(tls)
        self.arc_path.setEnabled(is_remote(h) and not platform)
        self.platform_login.show_for(h if platform else None)
        self.where.setText(storage_description(h, self._local_arc(), self.user))
        self.default_button.setEnabled(h.name != self.default_host)

    def _local_arc(self) -> Path:
        return Path(self.local_arc).expanduser() if self.local_arc else Path.home() / "CANFAR" / "arc"

    def add_canfar(self) -> None:
        """A CANFAR Science Platform host, named "canfar" (or canfar2 …)."""
        taken = {h.name for h in self._hosts}
        n = 1
        while f"canfar{n if n > 1 else ''}" in taken:
            n += 1
        self._hosts.append(HostConfig(name=f"canfar{n if n > 1 else ''}", url="skaha+" + CANFAR_SITE))
        self._fill()
        self.list.setCurrentRow(len(self._hosts) - 1)

    def add_host(self) -> None:
        taken = {h.name for h in self._hosts}
        n = 1
        while f"remote{n if n > 1 else ''}" in taken:
            n += 1
        self._hosts.append(HostConfig(name=f"remote{n if n > 1 else ''}", url="ssh://"))
        self._fill()
        self.list.setCurrentRow(len(self._hosts) - 1)
        self.url.setFocus()
        self.url.setCursorPosition(len(self.url.text()))

    def remove_host(self) -> None:
        row = self.list.currentRow()
        if len(self._hosts) <= 1 or not 0 <= row < len(self._hosts):
            return
        gone = self._hosts.pop(row)
        if gone.name == self.default_host:
            self.default_host = self._hosts[0].name
        self._fill()
        self.list.setCurrentRow(min(row, len(self._hosts) - 1))

    def make_default(self) -> None:
        h = self.current()
        if h is not None:
            self.default_host = h.name
            self._fill()
            self._update_fields(h)

    def import_contexts(self) -> int:
        """Add Docker contexts not configured yet (same URL); returns how many were added."""
        known_urls = {resolve_url(h) for h in self._hosts if h.url}
        names = {h.name for h in self._hosts}
        added = 0
        for ctx in list_contexts():
            if ctx.url in known_urls:
                continue
            name, n = ctx.name, 2
            while name in names:
                name, n = f"{ctx.name}-{n}", n + 1
            self._hosts.append(replace(ctx, name=name))
            names.add(name)
            added += 1
        self._fill()
        if added:
            self.list.setCurrentRow(len(self._hosts) - 1)
            self._show_result(f"Imported {added} Docker context{'s' if added > 1 else ''}", OK_COLOUR)
        else:
            self._show_result("No new Docker contexts found (docker context ls)", "")
        return added

    # --- testing ------------------------------------------------------------------------------

    def test_connection(self) -> None:
        h = self.current()
        if h is None:
            return
        try:
            check_hosts([h], h.name)
        except CanfarError as exc:
            self._show_failure(exc)
            return
        self.test_button.setEnabled(False)
        self._show_result(f"Connecting to {h.name} ({resolve_url(h)})…", "")

        def done(p: HostProbe) -> None:
            self.test_button.setEnabled(True)
            info = p.info
            self._show_result(f"✓ Connected to {h.name} · {p.rtt_ms:.0f} ms round trip · {info.engine} "
                              f"{info.engine_version} · {info.cpus} CPUs · {info.memory_gb:.1f} GB RAM", OK_COLOUR)

        def failed(err: CanfarError) -> None:
            self.test_button.setEnabled(True)
            self._show_failure(err)

        self._test_job.run(self.test_host, h, on_done=done, on_error=failed)

    def _show_failure(self, err: CanfarError) -> None:
        self._show_result(f"✗ {err.message}", FAIL_COLOUR, f"What to do: {hint_of(err)}" if err.hint else "")

    def _show_result(self, text: str, colour: str, hint: str = "") -> None:
        """The outcome beside Test connection; `result_text` keeps it as plain text (tests, screen readers)."""
        self.result_text = text + (f"\n{hint}" if hint else "")
        html = f"<b>{_escape(text)}</b>" if colour else _escape(text)
        if colour:
            html = f"<span style='color: {colour}'>{html}</span>"
        self.result.setText(html + (f"<br>{_escape(hint)}" if hint else ""))
        self.result.setAccessibleDescription(self.result_text)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
