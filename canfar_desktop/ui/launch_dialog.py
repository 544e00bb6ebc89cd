"""The launch dialog: kind, image, name and resources, checked as they are typed.

Nothing is created here: Launch runs the service's own validation (`prepare_launch`) on a worker
and, when it passes, hands the request (which carries its host) back to the window, which runs the
launch and shows its stages on a card.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import CanfarError
from ..core.host import HostInfo, ImageInfo
from ..core.kinds import KINDS
from ..core.launch import generate_name
from ..core.plan import FLEX_MAX_CORES, FLEX_MAX_RAM_GB, LaunchRequest, flexible_ram_cap_gb
from ..core.service import SessionService
from ..core.settings import Resources
from ..core.validation import normalize_image, validate_name, validate_resources
from . import icons
from .launches import remember_choice
from .tasks import Latest, Runner


@dataclass(frozen=True)
class HostFacts:
    info: HostInfo
    images: list[ImageInfo]
    defaults: dict[str, str]


def gather(service: SessionService, host: str) -> HostFacts:
    """Worker thread: the host's capacity, its images, and each kind's default image."""
    info = service.host_info(host)
    images = service.images(host)
    defaults = {}
    for kind in KINDS:
        try:
            defaults[kind] = service.default_image(kind, host)
        except CanfarError:
            defaults[kind] = ""
    return HostFacts(info, images, defaults)


class LaunchDialog(QDialog):
    """Choose what to launch; `request` is set when the dialog is accepted."""

    def __init__(self, service: SessionService, runner: Runner, parent: QWidget | None = None,
                 kind: str | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.settings = service.settings
        self._host_job = Latest(runner)  # the chosen host's capacity and images: a later pick cancels an earlier
        self._check_job = Latest(runner)  # Launch's validation: closing the dialog drops it
        self.finished.connect(lambda _result: (self._host_job.cancel(), self._check_job.cancel()))
        self.request: LaunchRequest | None = None
        self.facts: HostFacts | None = None
        self._name_edited = False
        self._checking = False
        self.setWindowTitle("New session")
        self.setAccessibleName("New session")
        self.setMinimumSize(820, 500)

        self.kinds = QListWidget()
        self.kinds.setAccessibleName("Session kind")
        self.kinds.setIconSize(QSize(32, 32))
        self.kinds.setSpacing(3)
        self.kinds.setWordWrap(True)
        self.kinds.setFixedWidth(300)
        for k in KINDS.values():
            item = QListWidgetItem(icons.icon(k.name), f"{k.title}\n{k.description}")
            item.setData(Qt.ItemDataRole.UserRole, k.name)
            item.setToolTip(k.description)
            item.setSizeHint(QSize(280, 58))
            self.kinds.addItem(item)

        self.host_combo = QComboBox()
        self.host_combo.setAccessibleName("Docker host")
        self.host_combo.addItems(service.host_names())
        self.host_combo.setCurrentText(self.settings.default_host)
        self.host_combo.setEnabled(len(service.host_names()) > 1)
        self.capacity = QLabel("Reading the host's capacity…")
        self.capacity.setObjectName("muted")
        self.storage = QLabel()  # where /arc lives on the chosen host
        self.storage.setObjectName("muted")
        self.storage.setWordWrap(True)
        self.storage.setAccessibleName("Where /arc lives")

        self.image = QComboBox()
        self.image.setEditable(True)
        self.image.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.image.setAccessibleName("Container image")
        self.image.setToolTip("An image on the host labelled for this kind, the kind's default, or any reference")
        self.image.lineEdit().setPlaceholderText("registry/repository:tag")
        self.image_error = self._error_label("Image problem")

        self.name = QLineEdit()
        self.name.setAccessibleName("Session name")
        self.name.setToolTip("Letters, digits and '-', at most 32 characters")
        self.name_error = self._error_label("Name problem")

        self.flexible = QRadioButton("Flexible: 1 core and 4 GB guaranteed, bursts up to 8 cores and 32 GB")
        self.flexible.setAccessibleName("Flexible resources")
        self.fixed = QRadioButton("Fixed: exactly these cores and memory")
        self.fixed.setAccessibleName("Fixed resources")
        self.mode = QButtonGroup(self)
        self.mode.addButton(self.flexible)
        self.mode.addButton(self.fixed)
        self.cores = QDoubleSpinBox()
        self.cores.setRange(0.5, 256)
        self.cores.setSingleStep(1)
        self.cores.setDecimals(1)
        self.cores.setSuffix(" cores")
        self.cores.setAccessibleName("Cores")
        self.ram = QDoubleSpinBox()
        self.ram.setRange(0.5, 4096)
        self.ram.setSingleStep(1)
        self.ram.setDecimals(1)
        self.ram.setSuffix(" GB")
        self.ram.setAccessibleName("Memory in GB")
        self.gpus = QSpinBox()
        self.gpus.setRange(0, 28)
        self.gpus.setAccessibleName("GPUs")
        fixed_row = QHBoxLayout()
        for label, widget in (("Cores", self.cores), ("RAM", self.ram), ("GPUs", self.gpus)):
            caption = QLabel(label)
            caption.setBuddy(widget)
            fixed_row.addWidget(caption)
            fixed_row.addWidget(widget)
        fixed_row.addStretch(1)
        self.resources_error = self._error_label("Resource problem")
        self.launch_error = self._error_label("Launch problem")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Host", self.host_combo)
        form.addRow("", self.capacity)
        form.addRow("", self.storage)
        form.addRow("Image", self.image)
        form.addRow("", self.image_error)
        form.addRow("Name", self.name)
        form.addRow("", self.name_error)
        form.addRow("Resources", self.flexible)
        form.addRow("", self.fixed)
        form.addRow("", fixed_row)
        form.addRow("", self.resources_error)

        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.launch_button = QPushButton(icons.icon("open", "#ffffff"), "Launch")
        self.launch_button.setObjectName("primary")
        self.launch_button.setAccessibleName("Launch session")
        self.launch_button.setDefault(True)
        self.launch_button.clicked.connect(self._launch)
        buttons = QHBoxLayout()
        buttons.addWidget(self.launch_error, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.launch_button)

        right = QVBoxLayout()
        right.addLayout(form)
        right.addStretch(1)
        right.addLayout(buttons)
        body = QHBoxLayout(self)
        body.addWidget(self.kinds)
        body.addLayout(right, 1)

        self.kinds.currentRowChanged.connect(self._kind_changed)
        self.name.textEdited.connect(self._name_typed)
        self.name.textChanged.connect(self.check)
        self.image.currentTextChanged.connect(self.check)
        self.image.lineEdit().textChanged.connect(self.check)
        self.mode.buttonToggled.connect(self._mode_changed)
        for spin in (self.cores, self.ram):
            spin.valueChanged.connect(self.check)
        self.gpus.valueChanged.connect(self.check)
        self.host_combo.currentTextChanged.connect(self._load_host)

        names = list(KINDS)
        self.kinds.setCurrentRow(names.index(kind) if kind in names else 0)
        self._load_host(self.host_combo.currentText())

    @staticmethod
    def _error_label(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName("error")
        label.setWordWrap(True)
        label.setAccessibleName(name)
        label.setVisible(False)
        return label

    # --- state --------------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        item = self.kinds.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else "notebook"

    def resources(self) -> Resources:
        return Resources(mode="fixed" if self.fixed.isChecked() else "flexible", cores=self.cores.value(),
                         ram_gb=self.ram.value(), gpus=self.gpus.value())

    def _load_host(self, host: str) -> None:
        self.facts = None
        self.capacity.setText(f"Reading the capacity of “{host}”…")
        try:
            self.storage.setText(self.service.storage_description(host))
        except CanfarError:
            self.storage.setText("")
        self._host_job.run(gather, self.service, host, on_done=self._host_loaded, on_error=self._host_failed)

    def _host_loaded(self, facts: HostFacts) -> None:
        self.facts = facts
        gpu = "GPUs available" if facts.info.gpus_possible else "no GPUs"
        self.capacity.setText(f"{self.host_combo.currentText()}: {facts.info.cpus} CPUs · "
                              f"{facts.info.memory_gb:.1f} GB RAM · {gpu}")
        # the burst ceiling is CANFAR's, capped by what this host has
        cores = min(FLEX_MAX_CORES, facts.info.cpus)
        ram = min(float(FLEX_MAX_RAM_GB), flexible_ram_cap_gb(facts.info.memory_gb))
        self.flexible.setText(f"Flexible: 1 core and 4 GB guaranteed, bursts up to {cores} core{'s' * (cores != 1)} "
                              f"and {ram:.0f} GB")
        self._fill_images(keep=True)
        self.check()

    def _host_failed(self, err: CanfarError) -> None:
        self.capacity.setText("")
        self._show(self.launch_error, f"{err.message}. {err.hint}" if err.hint else err.message)

    def _kind_changed(self, _row: int) -> None:
        choice = self.settings.last_choices.get(self.kind)
        if choice and choice.host in self.service.host_names() and choice.host != self.host_combo.currentText():
            self.host_combo.setCurrentText(choice.host)  # the kind's last host (loads its capacity)
        res = choice.resources if choice else self.settings.default_resources
        self.flexible.setChecked(res.mode == "flexible")
        self.fixed.setChecked(res.mode == "fixed")
        self.cores.setValue(res.cores)
        self.ram.setValue(res.ram_gb)
        self.gpus.setValue(res.gpus)
        if not self._name_edited:
            self.name.setText(generate_name(self.kind))
        self._fill_images(keep=False)
        self._mode_changed()

    def _fill_images(self, keep: bool) -> None:
        typed = self.image.currentText()
        choice = self.settings.last_choices.get(self.kind)
        options: list[str] = []
        if choice and choice.image:
            options.append(choice.image)
        if self.facts:
            default = self.facts.defaults.get(self.kind, "")
            if default:
                options.append(default)
            labelled = sorted((i for i in self.facts.images if self.kind in i.kinds), key=lambda i: i.created,
                              reverse=True)
            options += [i.ref for i in labelled]
        elif KINDS[self.kind].default_image:
            options.append(KINDS[self.kind].default_image)
        unique = list(dict.fromkeys(options))
        self.image.blockSignals(True)
        self.image.clear()
        self.image.addItems(unique)
        self.image.blockSignals(False)
        self.image.setCurrentText(typed if keep and typed else (unique[0] if unique else ""))
        self.check()

    def _name_typed(self, _text: str) -> None:
        self._name_edited = True

    def _mode_changed(self, *_args: object) -> None:
        fixed = self.fixed.isChecked()
        self.cores.setEnabled(fixed)
        self.ram.setEnabled(fixed)
        self.check()

    def _show(self, label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def check(self, *_args: object) -> bool:
        """Validate every field now; Launch is enabled only when all pass."""
        ok = True
        try:
            validate_name(self.name.text())
            self._show(self.name_error, "")
        except CanfarError as exc:
            self._show(self.name_error, f"{exc.message}: {exc.hint}")
            ok = False
        try:
            normalize_image(self.image.currentText())
            self._show(self.image_error, "")
        except CanfarError as exc:
            self._show(self.image_error, f"{exc.message}: {exc.hint}")
            ok = False
        try:
            res = self.resources()
            if self.facts:
                info = self.facts.info
                validate_resources(res, info.cpus, info.memory_gb, None if info.gpus_possible else 0)
            self._show(self.resources_error, "")
        except CanfarError as exc:
            self._show(self.resources_error, f"{exc.message}: {exc.hint}")
            ok = False
        self.launch_error.setVisible(False)
        self.launch_button.setEnabled(ok and not self._checking)
        return ok

    # --- launching ----------------------------------------------------------------------------

    def _launch(self) -> None:
        if not self.check():
            return
        self._checking = True
        self.launch_button.setEnabled(False)
        self.launch_button.setText("Checking…")
        host = self.host_combo.currentText()
        self._check_job.run(self.service.prepare_launch, self.kind, self.image.currentText(), self.name.text(),
                            self.resources(), host, on_done=self._validated, on_error=self._refused)

    def _validated(self, req: LaunchRequest) -> None:
        self._checking = False
        self.request = req
        remember_choice(self.service, req)
        self.accept()

    def _refused(self, err: CanfarError) -> None:
        self._checking = False
        self.launch_button.setText("Launch")
        self.check()
        self._show(self.launch_error, f"{err.message}: {err.hint}" if err.hint else err.message)
