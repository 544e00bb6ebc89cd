"""The window's status bar and host strip: each host's connection and round trip, the active-session
count against the limit, and a notice (once per host and run) when a platform login is about to expire.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QStatusBar

from ..core.service import SessionService
from . import icons
from .hosts_panel import HostStrip
from .messages import MessageBar, Toast
from .store import SessionStore


class HostStatusBar(QObject):
    """Keeps the status bar's labels and the dashboard's host chips in step with the store."""

    def __init__(self, bar: QStatusBar, service: SessionService, store: SessionStore, strip: HostStrip,
                 messages: MessageBar) -> None:
        super().__init__(bar)
        self.service, self.store, self.strip, self.messages = service, store, strip, messages
        self.host_dot = QLabel()
        self.host_label = QLabel("Connecting…")
        self.host_label.setAccessibleName("Docker host status")
        self.count_label = QLabel()
        self.count_label.setAccessibleName("Active sessions")
        bar.addWidget(self.host_dot)
        bar.addWidget(self.host_label)
        bar.addPermanentWidget(self.count_label)
        self._notices: dict[str, Toast] = {}  # hosts whose expiring login was told (until it is renewed)
        store.host_status_changed.connect(self.update_hosts)

    def update_counts(self) -> None:
        limit = self.service.settings.session_limit
        self.count_label.setText(f"{self.store.active_count()} of {limit} active sessions")

    def update_hosts(self) -> None:
        parts = []
        ok = True
        for name in self.service.host_names():
            st = self.store.statuses.get(name)
            if st is None:
                parts.append(f"{name}: connecting…")
            elif st.ok:
                parts.append(f"{name}: connected" + (f" · {st.rtt_ms:.0f} ms" if st.rtt_ms is not None else ""))
            else:
                ok = False
                parts.append(f"{name}: unreachable")
            self._notice(name, st.warning if st is not None and st.ok else "")
        self.host_dot.setPixmap(icons.dot("#2f855a" if ok else "#c53030"))
        self.host_label.setText(("Hosts " if len(parts) > 1 else "Docker host ") + ", ".join(parts))
        self.strip.show_hosts(self.service.host_names(), self.store.statuses, self.store.unreachable,
                              self.service.storage_description)

    def _notice(self, host: str, warning: str) -> None:
        """Say once that a login needs renewing; take the notice back once it is renewed (or has expired,
        when the host's own "unreachable" says more). A later expiring login is told again."""
        if not warning:
            shown = self._notices.pop(host, None)
            if shown is not None:
                self.messages.dismiss(shown)
        elif host not in self._notices:  # told once, even if the person closed the notice
            self._notices[host] = self.messages.show_message(f"Your login on “{host}” needs renewing", warning,
                                                             "warning", timeout_ms=0)
