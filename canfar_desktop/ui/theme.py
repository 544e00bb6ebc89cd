"""Light and dark palettes with one accent colour; "system" follows the desktop's colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from ..core.lifecycle import State
from ..core.record import record
from . import icons

ACCENT = "#2f6fdf"

# Badge colours per state: readable white text on each, in both themes.
STATE_COLOURS: dict[State, str] = {
    State.LAUNCHING: "#b7791f",
    State.RUNNING: "#2f855a",
    State.SUSPENDED: "#2b6cb0",
    State.FAILED: "#c53030",
    State.EXPIRED: "#718096",
    State.TERMINATING: "#718096",
    State.TERMINATED: "#718096",
}


@record
class Colours:
    window: str
    base: str
    card: str
    border: str
    text: str
    muted: str
    banner: str
    banner_text: str


LIGHT = Colours("#f4f5f7", "#ffffff", "#ffffff", "#d9dde3", "#1f2328", "#5f6b7a", "#fff4e5", "#5c3b00")
DARK = Colours("#1c1e22", "#25282d", "#2b2f35", "#3b4048", "#e6e8eb", "#9aa4b2", "#4a3512", "#ffe2b3")


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def resolve(theme: str) -> Colours:
    if theme == "dark" or (theme == "system" and system_is_dark()):
        return DARK
    return LIGHT


def current() -> Colours:
    app = QApplication.instance()
    mode = app.property("canfarTheme") if app is not None else None
    return DARK if mode == "dark" else LIGHT


def apply(app: QApplication, theme: str) -> Colours:
    """Set the palette and style sheet for `theme` (light, dark or system) on the whole app."""
    c = resolve(theme)
    app.setStyle("Fusion")
    app.setProperty("canfarTheme", "dark" if c is DARK else "light")
    pal = QPalette()
    role = QPalette.ColorRole
    pal.setColor(role.Window, QColor(c.window))
    pal.setColor(role.WindowText, QColor(c.text))
    pal.setColor(role.Base, QColor(c.base))
    pal.setColor(role.AlternateBase, QColor(c.card))
    pal.setColor(role.Text, QColor(c.text))
    pal.setColor(role.Button, QColor(c.card))
    pal.setColor(role.ButtonText, QColor(c.text))
    pal.setColor(role.ToolTipBase, QColor(c.base))
    pal.setColor(role.ToolTipText, QColor(c.text))
    pal.setColor(role.PlaceholderText, QColor(c.muted))
    pal.setColor(role.Highlight, QColor(ACCENT))
    pal.setColor(role.HighlightedText, QColor("#ffffff"))
    pal.setColor(role.Link, QColor(ACCENT))
    pal.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor(c.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor(c.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor(c.muted))
    app.setPalette(pal)
    app.setStyleSheet(style_sheet(c))
    icons.clear_cache()
    icons.retint(app)
    return c


def style_sheet(c: Colours) -> str:
    return f"""
QFrame#card {{ background: {c.card}; border: 1px solid {c.border}; border-radius: 10px; }}
QFrame#card[selected="true"] {{ border: 2px solid {ACCENT}; }}
QFrame#card QLabel {{ background: transparent; border: none; }}
QLabel#cardTitle {{ font-size: 11pt; font-weight: 600; }}
QLabel#muted, QLabel#cardImage, QLabel#cardMeta {{ color: {c.muted}; }}
QLabel#badge {{ color: white; border-radius: 9px; padding: 2px 9px; font-weight: 600; }}
QFrame#card[hostUnreachable="true"] {{ border: 1px dashed #d69e2e; background: {c.window}; }}
QFrame#card QLabel#hostBadge {{ color: {c.muted}; border: 1px solid {c.border}; border-radius: 9px;
  padding: 1px 8px; }}
QFrame#card QLabel#hostBadge[unreachable="true"] {{ color: #b7791f; border-color: #d69e2e; }}
QToolButton#hostChip {{ border: 1px solid {c.border}; border-radius: 12px; padding: 3px 10px; background: {c.card}; }}
QToolButton#hostChip:hover {{ border-color: {ACCENT}; }}
QToolButton#hostChip[unreachable="true"] {{ border-color: #d69e2e; background: {c.banner}; color: {c.banner_text}; }}
QFrame#banner {{ background: {c.banner}; border: 1px solid #e0a040; border-radius: 8px; }}
QFrame#banner QLabel {{ color: {c.banner_text}; background: transparent; }}
QFrame#toast {{ border-radius: 8px; }}
QFrame#toast QLabel {{ color: white; background: transparent; }}
QFrame#toast QToolButton {{ color: white; border: none; }}
QPushButton#primary {{ background: {ACCENT}; color: white; border: none; border-radius: 6px; padding: 6px 14px;
  font-weight: 600; }}
QPushButton#primary:disabled {{ background: {c.border}; color: {c.muted}; }}
QPushButton#primary:hover {{ background: #2a62c6; }}
QLabel#emptyTitle {{ font-size: 16pt; font-weight: 600; }}
QLabel#error {{ color: #c53030; }}
QWidget#dashboard, QScrollArea#dashboardScroll, QWidget#cardGrid {{ background: {c.window}; }}
QFrame#stopped {{ background: {c.window}; }}
QTabBar::close-button {{ image: url({icons.icon_path("close", c.text)}); subcontrol-position: right; }}
QTabBar::close-button:hover {{ background: {c.border}; border-radius: 3px; }}
QTabBar::tab {{ padding: 6px 10px; }}
QFrame#keysHint {{ background: {c.banner}; border-bottom: 1px solid #e0a040; }}
QFrame#keysHint QLabel {{ color: {c.banner_text}; }}
QToolButton#kindTile {{ border: 1px solid {c.border}; border-radius: 10px; padding: 10px 8px; background: {c.card}; }}
QToolButton#kindTile:hover {{ border-color: {ACCENT}; }}
QPushButton:focus, QToolButton:focus, QComboBox:focus, QLineEdit:focus, QAbstractSpinBox:focus,
QListWidget:focus, QCheckBox:focus, QRadioButton:focus {{ outline: none; }}
QPushButton:focus, QToolButton:focus {{ border: 2px solid {ACCENT}; border-radius: 6px; }}
QLineEdit:focus, QComboBox:focus, QAbstractSpinBox:focus {{ border: 2px solid {ACCENT}; border-radius: 4px; }}
QSplitter#listSplitter::handle {{ background: {c.border}; }}
QSplitter#listSplitter::handle:hover {{ background: {ACCENT}; }}
"""
