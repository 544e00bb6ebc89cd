"""The settings dialog: edits a copy of the settings, checks it whole, saves atomically."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.autostart import is_enabled, set_autostart
from ..core.errors import CanfarError
from ..core.plain import to_plain
from ..core.plan import FLEX_MAX_CORES, FLEX_MAX_RAM_GB
from ..core.service import SessionService
from ..core.settings import Settings, save_settings
from ..core.settings_check import ValidationError, check, validation_message
from . import icons
from .api_settings import ApiController, ApiSection
from .hosts_settings import HostsEditor, check_hosts
from .tasks import Runner
from .wording import sentence

FLEXIBLE_NOTE = (f"1 core and 4 GB guaranteed, up to {FLEX_MAX_CORES} cores and {FLEX_MAX_RAM_GB} GB when free "
                 "(the launch dialog shows each host's ceiling)")


class SettingsDialog(QDialog):
    """On accept, `result_settings` holds the validated settings that were saved."""

    def __init__(self, service: SessionService, runner: Runner, api: ApiController | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        settings = self.settings = service.settings
        self.paths = service.paths
        self.result_settings: Settings | None = None
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.setMinimumWidth(760)
        self.hosts = HostsEditor(settings.hosts, settings.default_host, settings.arc_root, settings.user,
                                 service.test_host, runner)
        self.arc = QLineEdit(settings.arc_root)
        self.arc.setPlaceholderText(str(settings.arc_folder()))
        self.arc.setToolTip(f"Empty: {settings.arc_folder()}")
        self.arc.setMinimumWidth(min(520, self.arc.fontMetrics().horizontalAdvance(self.arc.placeholderText()) + 24))
        self.arc.setAccessibleName("Folder behind /arc")
        browse = QPushButton("Choose…")
        browse.setAccessibleName("Choose the folder behind /arc")
        browse.clicked.connect(self._browse)
        arc_row = QHBoxLayout()
        arc_row.addWidget(self.arc, 1)
        arc_row.addWidget(browse)

        res = settings.default_resources
        self.mode = QComboBox()
        self.mode.addItems(["flexible", "fixed"])
        self.mode.setCurrentText(res.mode)
        self.mode.setAccessibleName("Default resource mode")
        self.cores = QDoubleSpinBox()
        self.cores.setRange(0.5, 256)
        self.cores.setValue(res.cores)
        self.cores.setSuffix(" cores")
        self.cores.setAccessibleName("Default cores")
        self.ram = QDoubleSpinBox()
        self.ram.setRange(0.5, 4096)
        self.ram.setValue(res.ram_gb)
        self.ram.setSuffix(" GB")
        self.ram.setAccessibleName("Default memory in GB")
        self.flexible_note = QLabel(FLEXIBLE_NOTE)  # flexible sessions take no numbers: none are shown
        self.flexible_note.setObjectName("muted")
        self.flexible_note.setWordWrap(True)
        res_row = QHBoxLayout()
        for widget in (self.mode, self.cores, self.ram):
            res_row.addWidget(widget)
        res_row.addWidget(self.flexible_note, 1)
        self.mode.currentTextChanged.connect(self._mode_changed)
        self._mode_changed(self.mode.currentText())
        self.limit = QSpinBox()
        self.limit.setRange(1, 100)
        self.limit.setValue(settings.session_limit)
        self.limit.setAccessibleName("Active session limit")
        self.lifetime = QDoubleSpinBox()
        self.lifetime.setRange(0.1, 24 * 365)
        self.lifetime.setDecimals(1)
        self.lifetime.setValue(settings.session_lifetime_hours)
        self.lifetime.setSuffix(" hours")
        self.lifetime.setAccessibleName("Session lifetime in hours")
        self.theme = QComboBox()
        self.theme.addItems(["system", "light", "dark"])
        self.theme.setCurrentText(settings.theme)
        self.theme.setAccessibleName("Theme")
        self.close_to_tray = QCheckBox("Closing the window keeps the app running in the system tray")
        self.close_to_tray.setChecked(settings.close_to_tray)
        self.close_to_tray.setAccessibleName("Close to the tray")
        self.close_to_tray.setToolTip("Only where the desktop has a system tray; otherwise closing quits")
        self.start_minimized = QCheckBox("Start minimized (only the tray icon when there is a tray)")
        self.start_minimized.setChecked(settings.start_minimized)
        self.start_minimized.setAccessibleName("Start minimized")
        self.start_at_login = QCheckBox("Start CANFAR Desktop when I log in")
        self.start_at_login.setChecked(settings.start_at_login)
        self.start_at_login.setAccessibleName("Start at login")
        self.start_at_login.setToolTip("Linux: an entry in ~/.config/autostart; macOS and Windows: see the README")
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setVisible(False)

        form = QFormLayout()
        form.addRow("Folder behind /arc", arc_row)
        form.addRow("Default resources", res_row)
        form.addRow("Active session limit", self.limit)
        form.addRow("Session lifetime", self.lifetime)
        form.addRow("Theme", self.theme)
        form.addRow("Tray", self.close_to_tray)
        form.addRow("", self.start_minimized)
        form.addRow("", self.start_at_login)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        general = QWidget()
        general.setLayout(form)
        self.tabs = QTabWidget()
        self.tabs.addTab(general, "General")
        self.tabs.addTab(self.hosts, icons.icon("host"), "Docker hosts")
        self.api_section = ApiSection(settings, self.paths, api)
        self.tabs.addTab(self.api_section, "CANFAR API")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _mode_changed(self, mode: str) -> None:
        fixed = mode == "fixed"
        self.cores.setVisible(fixed)
        self.ram.setVisible(fixed)
        self.flexible_note.setVisible(not fixed)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder behind /arc", self.arc.text() or self.arc.placeholderText())
        if folder:
            self.arc.setText(folder)

    def build(self) -> Settings:
        """A checked copy of the settings with this dialog's values (raises the settings check's ValidationError,
        or a CanfarError for a host list that cannot work)."""
        data = to_plain(self.settings)
        check_hosts(self.hosts.hosts(), self.hosts.default_host)
        data.update(
            hosts=to_plain(self.hosts.hosts()),
            default_host=self.hosts.default_host,
            arc_root=self.arc.text().strip(),
            default_resources={"mode": self.mode.currentText(), "cores": self.cores.value(),
                               "ram_gb": self.ram.value(), "gpus": self.settings.default_resources.gpus},
            session_limit=self.limit.value(),
            session_lifetime_hours=self.lifetime.value(),
            theme=self.theme.currentText(),
            close_to_tray=self.close_to_tray.isChecked(),
            start_minimized=self.start_minimized.isChecked(),
            start_at_login=self.start_at_login.isChecked(),
        )
        data.update(self.api_section.values())
        return check(Settings, data)

    def save(self) -> None:
        try:
            new = self.build()
            if new.start_at_login != is_enabled():
                set_autostart(new.start_at_login)  # first, so a failure leaves the saved setting as it was
            new = save_settings(self.paths, new, base=self.settings)  # only what was edited; keeps the CLI's
        except ValidationError as exc:
            self._fail(validation_message(exc))
            return
        except CanfarError as exc:
            self._fail(sentence(exc))
            return
        self.result_settings = new
        self.api_section.saved(new)
        self.accept()

    def _fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)
