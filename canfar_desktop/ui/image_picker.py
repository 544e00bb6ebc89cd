"""The launch dialog's image field: a reference a person can type, or pick from a list that says, for
each image, whether it is on the host already or has to be pulled first (and how big it is, when known).

An image that has to be pulled is the usual reason a first launch is slow, or fails on a machine
without access to its registry, so the field says so before Launch rather than after.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QComboBox, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from ..core.errors import CanfarError
from ..core.formats import human_bytes
from ..core.host import ImageInfo
from ..core.validation import normalize_image
from .theme import current as current_colours

NOTE = Qt.ItemDataRole.UserRole + 1  # an item's "on this host" / "will be pulled" note
LOCAL = Qt.ItemDataRole.UserRole + 2  # True when the image is on the host


def comparable(ref: str) -> str:
    """A reference as the engine lists it: Docker Hub's implied registry and library/ left out."""
    try:
        ref = normalize_image(ref)
    except CanfarError:
        return ref.strip()
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "index.docker.io/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def registry_of(ref: str) -> str:
    first = ref.split("/", 1)[0] if "/" in ref else ""
    return first if ("." in first or ":" in first or first == "localhost") else "Docker Hub"


def note_for(ref: str, on_host: dict[str, ImageInfo] | None, host: str) -> tuple[str, bool | None]:
    """What a person should know about `ref` on `host`: (note, on the host?); None while not known."""
    if not ref.strip():
        return "", None
    if on_host is None:
        return "", None
    found = on_host.get(comparable(ref))
    if found is not None:
        return f"on this host · {human_bytes(found.size)}", True
    return f"will be pulled from {registry_of(comparable(ref))} (size known once the download starts)", False


def shown_note(note: str, local: object) -> str:
    """The note as the list shows it beside a reference (the whole note is the item's tooltip)."""
    return "✓ " + note if local else "⤓ " + note.split(" (")[0]


class _Delegate(QStyledItemDelegate):
    """Paints an item's reference on the left and its note, muted, on the right."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        note = str(index.data(NOTE) or "")
        super().paint(painter, option, index)
        if not note:
            return
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        local = index.data(LOCAL)
        colour = option.palette.highlightedText().color() if selected else QColor(  # type: ignore[attr-defined]
            "#2f855a" if local else current_colours().muted)
        painter.setPen(colour)
        rect: QRect = option.rect.adjusted(0, 0, -8, 0)  # type: ignore[attr-defined]
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), shown_note(note, local))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802 - Qt naming
        hint = super().sizeHint(option, index)
        note = shown_note(str(index.data(NOTE) or ""), index.data(LOCAL))
        return QSize(hint.width() + option.fontMetrics.horizontalAdvance(note) + 40,  # type: ignore[attr-defined]
                     max(hint.height(), 24))


class ImageBox(QComboBox):
    """An editable list of image references, each marked as on the host or to be pulled."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setItemDelegate(_Delegate(self))
        self.on_host: dict[str, ImageInfo] | None = None  # None: the host's images are not known yet
        self.host = ""

    def set_images(self, refs: list[str], on_host: list[ImageInfo] | None, host: str) -> None:
        """Offer `refs` (in this order) and know which images `host` has (None: not known)."""
        self.on_host = None if on_host is None else {comparable(i.ref): i for i in on_host}
        self.host = host
        text = self.currentText()
        self.blockSignals(True)
        self.clear()
        for ref in refs:
            self.addItem(ref)
            note, local = note_for(ref, self.on_host, host)
            index = self.count() - 1
            self.setItemData(index, note, NOTE)
            self.setItemData(index, local, LOCAL)
            self.setItemData(index, f"{ref}: {note}" if note else ref, Qt.ItemDataRole.ToolTipRole)
        self.setCurrentText(text)
        self.blockSignals(False)
        metrics = self.view().fontMetrics()
        widest = max((metrics.horizontalAdvance(ref) + metrics.horizontalAdvance(
            shown_note(str(self.itemData(i, NOTE) or ""), self.itemData(i, LOCAL))) + 64
            for i, ref in enumerate(refs)), default=0)
        self.view().setMinimumWidth(widest)  # every reference and its note side by side, never over each other

    def note(self) -> tuple[str, bool | None]:
        return note_for(self.currentText(), self.on_host, self.host)
