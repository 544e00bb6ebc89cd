"""The launch dialog: kind, image, name and resources, checked as they are typed.

Nothing is created here: Launch runs the service's own validation (`prepare_launch`) on a worker
and, when it passes, hands the request (which carries its host) back to the window, which runs the
launch and shows its stages on a card (and remembers the choice once the session is ready).

The image offered first is the one the CLI would use (`default_image`), unless a launch of this
kind succeeded with another one before; an empty field means exactly that default. At the
active-session limit the dialog says so and Launch waits for a free slot.
"""

from __future__ import annotations

from collections.abc import Callable

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

from ..core.catalogue import image_choices
from ..core.errors import CanfarError
from ..core.host import HostInfo, ImageInfo
from ..core.kinds import KINDS, is_batch
from ..core.launch import generate_name
from ..core.plan import FLEX_MAX_CORES, FLEX_MAX_RAM_GB, LaunchRequest, flexible_ram_cap_gb
from ..core.record import record
from ..core.service import SessionService
from ..core.settings import Resources
from ..core.validation import normalize_image, validate_name, validate_resources
from . import icons
from .catalogue_dialog import image_row
from .image_picker import ImageBox
from .recent_launches import RecentPanel
from .resource_options import OptionChoices, amount, flexible_text
from .tasks import Latest, Runner
from .wording import LIMIT_HINT, sentence

SlotCount = Callable[[str], int]  # the active sessions (and launches under way) holding a slot on a host


@record
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
                 kind: str | None = None, used_slots: SlotCount | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.settings = service.settings
        self.used_slots = used_slots
        self._host_job = Latest(runner)  # the chosen host's capacity and images: a later pick cancels an earlier
        self._check_job = Latest(runner)  # Launch's validation: closing the dialog drops it
        self.finished.connect(lambda _result: (self._host_job.cancel(), self._check_job.cancel()))
        self.request: LaunchRequest | None = None
        self.facts: HostFacts | None = None
        self._name_edited = False
        self._auto_image = ""  # the image text the dialog filled in itself (anything else was chosen)
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

        self.image = ImageBox()
        self.image.setAccessibleName("Container image")
        self.image.setToolTip("An image on the host labelled for this kind, the kind's default, or any reference; "
                              "empty: the kind's default image")
        self.image_note = QLabel()  # on this host, or will be pulled
        self.image_note.setObjectName("muted")
        self.image_note.setWordWrap(True)
        self.image_note.setAccessibleName("Where the image comes from")
        self.image_error = self._error_label("Image problem")

        self.name = QLineEdit()
        self.name.setAccessibleName("Session name")
        self.name.setToolTip("Letters, digits and '-', at most 32 characters")
        self.name_error = self._error_label("Name problem")

        self.flexible = QRadioButton(flexible_text(FLEX_MAX_CORES, FLEX_MAX_RAM_GB))
        self.flexible.setAccessibleName("Flexible resources")
        self.flexible.setToolTip("Guaranteed: 1 core and 4 GB; more when the host has it free, up to the figures shown")
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
        self.choices = OptionChoices((self.cores, self.ram, self.gpus), self)  # a platform's menu of sizes
        self.fixed_row = QWidget()  # shown in fixed mode only: flexible sessions take no numbers
        fixed_row = QHBoxLayout(self.fixed_row)
        fixed_row.setContentsMargins(0, 0, 0, 0)
        for label, widget, choice in (("Cores", self.cores, self.choices.lists[0]),
                                      ("RAM", self.ram, self.choices.lists[1])):
            caption = QLabel(label)
            caption.setBuddy(widget)
            fixed_row.addWidget(caption)
            fixed_row.addWidget(widget)
            fixed_row.addWidget(choice)
        fixed_row.addStretch(1)
        gpu_row = QHBoxLayout()
        gpu_caption = QLabel("GPUs")
        gpu_caption.setBuddy(self.gpus)
        gpu_row.addWidget(gpu_caption)
        gpu_row.addWidget(self.gpus)
        gpu_row.addWidget(self.choices.lists[2])
        gpu_row.addStretch(1)
        self.resources_error = self._error_label("Resource problem")
        self.launch_error = self._error_label("Launch problem")
        self.limit_note = self._error_label("Session limit reached")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Host", self.host_combo)
        form.addRow("", self.capacity)
        form.addRow("", self.storage)
        form.addRow("Image", image_row(self, runner))  # the field with Browse… (the image catalogue)
        form.addRow("", self.image_note)
        form.addRow("", self.image_error)
        form.addRow("Name", self.name)
        form.addRow("", self.name_error)
        form.addRow("Resources", self.flexible)
        form.addRow("", self.fixed)
        form.addRow("", self.fixed_row)
        form.addRow("", gpu_row)
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
        right.addWidget(self.limit_note)
        right.addLayout(form)
        right.addStretch(1)
        right.addLayout(buttons)
        body = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addWidget(self.kinds, 1)
        self.recent = RecentPanel(service, runner, self)  # recent launches and presets, one click each
        self.recent.chosen.connect(self._validated)
        left.addWidget(self.recent)
        body.addLayout(left)
        body.addLayout(right, 1)

        self.kinds.currentRowChanged.connect(self._kind_changed)
        self.name.textEdited.connect(self._name_typed)
        self.name.textChanged.connect(self.check)
        self.image.currentTextChanged.connect(self.check)
        self.image.lineEdit().textChanged.connect(self.check)
        self.image.lineEdit().textChanged.connect(self._show_image_note)
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
        self._fill_images()
        self._host_job.run(gather, self.service, host, on_done=self._host_loaded, on_error=self._host_failed)

    def _host_loaded(self, facts: HostFacts) -> None:
        self.facts = facts
        info = facts.info
        gpu = "GPUs available" if info.gpus_possible else "no GPUs"
        ram_max = int(info.memory_gb * 10) / 10  # the most a fixed session may ask, as the host line says it
        size = (f"sessions of up to {info.cpus} cores and {amount(ram_max)} GB" if info.options is not None
                else f"{info.cpus} CPUs · {amount(ram_max)} GB RAM")  # a platform's menu, or the machine
        self.capacity.setText(f"{self.host_combo.currentText()}: {size} · {gpu}")
        # the burst ceiling is CANFAR's, capped by what this host has
        cores = min(FLEX_MAX_CORES, info.cpus)
        ram = min(float(FLEX_MAX_RAM_GB), flexible_ram_cap_gb(info.memory_gb))
        self.flexible.setText(flexible_text(cores, ram))
        self.cores.setMaximum(max(0.5, float(info.cpus)))  # a fixed session gets at most the host
        self.ram.setMaximum(max(0.5, ram_max))
        self.choices.set_options(info.options)
        self._fill_images()
        self.check()

    def _host_failed(self, err: CanfarError) -> None:
        self.capacity.setText("")
        self._show(self.launch_error, sentence(err))

    def _kind_changed(self, _row: int) -> None:
        choice = self.settings.last_choices.get(self.kind)
        if choice and choice.host in self.service.host_names() and choice.host != self.host_combo.currentText():
            self.host_combo.setCurrentText(choice.host)  # the kind's last host (loads its capacity)
        self._set_resources(choice.resources if choice else self.settings.default_resources)
        if not self._name_edited:
            self.name.setText(generate_name(self.kind))
        self._auto_image = self.image.currentText()  # another kind: its own default, not the last kind's
        self._fill_images()

    def _set_resources(self, res: Resources) -> None:
        self.flexible.setChecked(res.mode == "flexible")
        self.fixed.setChecked(res.mode == "fixed")
        self.cores.setValue(res.cores)
        self.ram.setValue(res.ram_gb)
        self.gpus.setValue(res.gpus)
        self._mode_changed()

    def _fill_images(self) -> None:
        """The kind's images: the last one that launched, the CLI's default, the host's labelled ones.

        Text the person typed or picked stays; text the dialog filled in follows the host's answer.
        Until the host answers the field is empty, which means the CLI's default."""
        typed = self.image.currentText()
        chosen = typed if typed != self._auto_image else ""
        choice = self.settings.last_choices.get(self.kind)
        options: list[str] = []
        if choice and choice.image:
            options.append(choice.image)  # kept only after a launch that reached Running
        if self.facts:
            default = self.facts.defaults.get(self.kind, "")
            if default:
                options.append(default)
            options += image_choices(self.kind, self.facts.images)  # the catalogue's: CANFAR's always among them
        unique = list(dict.fromkeys(options))
        self.image.set_images(unique, self.facts.images if self.facts else None, self.host_combo.currentText())
        self._auto_image = "" if chosen or not self.facts or not unique else unique[0]
        self.image.setCurrentText(chosen or self._auto_image)
        self.image.lineEdit().setPlaceholderText(
            f"the default {KINDS[self.kind].title} image" + ("" if self.facts else " (reading the host's images…)"))
        self._show_image_note()
        self.check()

    def _show_image_note(self, *_args: object) -> None:
        note, local = self.image.note()
        if not self.image.currentText().strip():
            note = "" if self.facts is None else "the image the command line would choose"
        self.image_note.setText(note)
        colour = "#2f855a" if local else "#b7791f" if local is False else ""
        self.image_note.setStyleSheet(f"color: {colour};" if colour else "")

    def _name_typed(self, _text: str) -> None:
        self._name_edited = True

    def _mode_changed(self, *_args: object) -> None:
        self.fixed_row.setVisible(self.fixed.isChecked())
        self.check()

    def _show(self, label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def slots_left(self) -> int | None:
        """Free slots of the active-session limit on the chosen host (None: not counted here)."""
        if self.used_slots is None or is_batch(self.kind):
            return None
        return self.limit() - self.used_slots(self.host_combo.currentText())

    def limit(self) -> int:
        """The chosen host's own limit when it has one (a platform's), else the setting."""
        own = self.facts.info.session_limit if self.facts else None
        return own if own is not None else self.settings.session_limit

    def check(self, *_args: object) -> bool:
        """Validate every field now; Launch is enabled only when all pass and a slot is free."""
        ok = True
        try:
            validate_name(self.name.text())
            self._show(self.name_error, "")
        except CanfarError as exc:
            self._show(self.name_error, sentence(exc))
            ok = False
        try:
            if self.image.currentText().strip():
                normalize_image(self.image.currentText())
            self._show(self.image_error, "")
        except CanfarError as exc:
            self._show(self.image_error, sentence(exc))
            ok = False
        try:
            res = self.resources()
            if self.facts:
                info = self.facts.info
                validate_resources(res, info.cpus, info.memory_gb, None if info.gpus_possible else 0)
            self._show(self.resources_error, "")
        except CanfarError as exc:
            self._show(self.resources_error, sentence(exc))
            ok = False
        left = self.slots_left()
        if left is not None and left <= 0:
            limit = self.limit()
            self._show(self.limit_note, f"The limit of {limit} active session{'s' * (limit != 1)} on "
                                        f"“{self.host_combo.currentText()}” is reached. {LIMIT_HINT}.")
            ok = False
        else:
            self._show(self.limit_note, "")
        self.launch_error.setVisible(False)
        self.launch_button.setEnabled(ok and not self._checking)
        self.launch_button.setToolTip("" if left is None or left > 0 else "No free session slot: " + LIMIT_HINT)
        return ok

    def preset(self, kind: str, image: str, name: str, resources: Resources, host: str) -> None:
        """Fill the dialog with an earlier launch (a failed card's "Edit and retry")."""
        names = list(KINDS)
        if kind in names:
            self.kinds.setCurrentRow(names.index(kind))
        if host in self.service.host_names():
            self.host_combo.setCurrentText(host)
        self._set_resources(resources)
        self.name.setText(name)
        self._name_edited = True
        self.image.setCurrentText(image)
        self._show_image_note()
        self.check()

    # --- launching ----------------------------------------------------------------------------

    def _launch(self) -> None:
        if not self.check():
            return
        self._checking = True
        self.launch_button.setEnabled(False)
        self.launch_button.setText("Checking…")
        host = self.host_combo.currentText()
        image = self.image.currentText().strip() or None  # None: the CLI's default, chosen by the core
        self._check_job.run(self.service.prepare_launch, self.kind, image, self.name.text(),
                            self.resources(), host, on_done=self._validated, on_error=self._refused)

    def _validated(self, req: LaunchRequest) -> None:
        self._checking = False
        self.request = req
        self.accept()

    def _refused(self, err: CanfarError) -> None:
        self._checking = False
        self.launch_button.setText("Launch")
        self.check()
        self._show(self.launch_error, sentence(err))
