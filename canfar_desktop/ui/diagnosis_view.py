"""What the troubleshooting panel says about a host: its overview table and the doctor's checks as rows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from ..core.diagnostics import Check
from ..core.formats import human_bytes
from ..core.report import HostOverview
from .theme import current as current_colours
from .wording import for_app

LEVEL_COLOURS = {"ok": "#2f855a", "info": "#2b6cb0", "warn": "#b7791f", "fail": "#c53030"}


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def overview_html(o: HostOverview) -> str:
    """The host's engine, CPUs, memory, engine disk and /arc as a two-column table (or its error)."""
    muted = current_colours().muted
    if o.error:
        return f"<b>{esc(o.name)}</b>: {esc(o.error)}"
    memory = human_bytes(o.memory_total)
    if o.memory_used is not None and o.memory_total:
        memory = f"{human_bytes(o.memory_used)} in use of {memory} ({100 * o.memory_used / o.memory_total:.0f} %)"
    rows = [("Engine", f"{o.product} {o.engine} · {o.os}"), ("CPUs", str(o.cpus)), ("Memory", memory)]
    if o.capacity:
        rows.append(("Load", esc(o.capacity)))
    if o.images_bytes is not None:
        rows.append(("Engine disk", f"images {human_bytes(o.images_bytes)} · containers "
                     f"{human_bytes(o.containers_bytes or 0)} · volumes {human_bytes(o.volumes_bytes or 0)}"))
    if o.arc_free is not None and o.arc_total:
        rows.append(("/arc", f"{human_bytes(o.arc_free)} free of {human_bytes(o.arc_total)} "
                     f"<span style='color:{muted}'>at {esc(o.arc_where)}</span>"))
    else:
        rows.append(("/arc", esc(o.arc_where)))
    return ("<table cellspacing='0' cellpadding='1'>" + "".join(
        f"<tr><td style='color:{muted}; padding-right:10px'>{k}</td><td>{v}</td></tr>" for k, v in rows)
        + "</table>")


class DiagnosisList(QScrollArea):
    """The doctor's checks as rows: a coloured mark, the title and verdict, the figure, and the hint."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName("Diagnosis")
        self.checks: list[Check] = []
        self.box = QWidget()
        self.box.setObjectName("diagnosisBox")
        self.rows = QVBoxLayout(self.box)
        self.rows.setContentsMargins(0, 0, 6, 0)
        self.rows.setSpacing(6)
        self.rows.addStretch(1)
        self.setWidget(self.box)

    def show_message(self, text: str) -> None:
        self._clear()
        self.checks = []
        label = QLabel(text)
        label.setObjectName("muted")
        label.setWordWrap(True)
        self.rows.insertWidget(0, label)

    def _clear(self) -> None:
        while self.rows.count() > 1:
            item = self.rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def show_checks(self, checks: list[Check]) -> None:
        self._clear()
        order = {"fail": 0, "warn": 1, "info": 2, "ok": 3}
        self.checks = sorted(checks, key=lambda c: order.get(c.level, 4))
        muted = current_colours().muted
        for index, c in enumerate(self.checks):
            colour = LEVEL_COLOURS.get(c.level, "#718096")
            row = QFrame()
            row.setObjectName("checkRow")
            row.setStyleSheet(f"QFrame#checkRow {{ border-left: 3px solid {colour}; }}")
            mark = QLabel(c.symbol)
            mark.setFixedWidth(16)
            mark.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
            mark.setStyleSheet(f"color: {colour}; font-weight: 700;")
            parts = [f"<b>{esc(c.title)}</b>: {esc(c.verdict)}"]
            if c.figure:
                parts.append(f"<span style='color:{muted}'>{esc(c.figure)}</span>")
            if c.hint and c.level != "ok":
                parts.append(f"<span style='color:{colour}'>→ {esc(for_app(c.hint))}</span>")
            text = QLabel("<br>".join(parts))
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.setAccessibleName(f"{c.title}: {c.verdict}")
            layout = QHBoxLayout(row)
            layout.setContentsMargins(6, 2, 2, 2)
            layout.addWidget(mark)
            layout.addWidget(text, 1)
            self.rows.insertWidget(index, row)

    def text(self) -> str:
        return "\n".join(f"{c.symbol} {c.title}: {c.verdict} [{c.figure}] {c.hint}" for c in self.checks)
