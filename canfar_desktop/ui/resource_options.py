"""Resources in the launch dialog: the words for them, and, for a host with a menu of sizes (a science
platform's `/context`), lists that offer exactly those.

The dialog's spin boxes stay the one source of what is asked for; for such a host each is hidden
behind a list of the host's options, and choosing one sets the spin box. A value set on a spin box
(a preset, the last choice) selects the nearest option, so nothing off the menu is ever sent.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from ..core.host import ResourceOptions

UNITS = ("core", "GB", "GPU")
Spin = QDoubleSpinBox | QSpinBox


def amount(value: float) -> str:
    """17.625 → "17.6", 4.0 → "4": the dialog, Settings and the card say one number one way."""
    return f"{value:.1f}".removesuffix(".0")


def flexible_text(cores: int, ram_gb: float) -> str:
    """The flexible mode in one sentence, with this host's ceiling (the same words as Settings)."""
    return (f"Flexible: 1 core and 4 GB guaranteed, up to {cores} core{'s' * (cores != 1)} "
            f"and {amount(ram_gb)} GB")


def label(value: int, unit: str) -> str:
    return f"{value} {unit}" if unit == "GB" or value == 1 else f"{value} {unit}s"


class OptionChoices(QObject):
    """A list of options beside each spin box, shown in its place while the host has options."""

    def __init__(self, spins: tuple[Spin, Spin, Spin], parent: QWidget) -> None:
        super().__init__(parent)
        self.spins: tuple[Spin, Spin, Spin] = spins
        self.lists: list[QComboBox] = []  # the dialog lays each out just after its spin box
        self._syncing = False
        for spin, name in zip(spins, ("Cores", "Memory in GB", "GPUs"), strict=True):
            choice = QComboBox()
            choice.setAccessibleName(f"{name} (the host's options)")
            choice.setVisible(False)
            self.lists.append(choice)
            choice.currentIndexChanged.connect(lambda _i, s=spin, c=choice: self._chosen(s, c))
            spin.valueChanged.connect(lambda _v, s=spin, c=choice: self._follow(s, c))

    def set_options(self, options: ResourceOptions | None) -> None:
        menus = (options.cores, options.ram_gb, options.gpus) if options is not None else ((), (), ())
        for spin, choice, unit, values in zip(self.spins, self.lists, UNITS, menus, strict=True):
            self._syncing = True
            choice.clear()
            for value in values:
                choice.addItem(label(value, unit), value)
            self._syncing = False
            shown = options is not None and bool(values)
            choice.setVisible(shown)
            spin.setVisible(not shown)
            if shown:
                self._follow(spin, choice)

    def _chosen(self, spin: Spin, choice: QComboBox) -> None:
        if self._syncing or choice.currentIndex() < 0:
            return
        self._syncing = True
        spin.setValue(choice.currentData())
        self._syncing = False

    def _follow(self, spin: Spin, choice: QComboBox) -> None:
        """The spin box changed (or options arrived): select the nearest option and hold the spin box to it."""
        if self._syncing or choice.count() == 0:
            return
        value = spin.value()
        nearest = min(range(choice.count()), key=lambda i: (abs(choice.itemData(i) - value), choice.itemData(i)))
        self._syncing = True
        choice.setCurrentIndex(nearest)
        spin.setValue(choice.itemData(nearest))
        self._syncing = False
