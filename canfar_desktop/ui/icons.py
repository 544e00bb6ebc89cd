"""SVG icons by name, tinted for the current theme; a missing file falls back to a QStyle icon.

The app's line icons are drawn in one ink colour (INK); replacing it before rendering keeps one
set of files readable on light and dark palettes. Multi-colour icons (the app's own) are left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStyle

ICON_DIR = Path(__file__).resolve().parent.parent / "assets" / "icons"
INK = "#3b4252"
UNTINTED = frozenset({"app"})


def _fallback(name: str) -> QStyle.StandardPixmap:
    """What to show when an SVG is not there (a fresh checkout without assets, a partial install).

    Made when needed: QStyle's enums cost milliseconds to make, at every start otherwise."""
    from PySide6.QtWidgets import QStyle

    sp = QStyle.StandardPixmap
    return {
        "app": sp.SP_ComputerIcon,
        "notebook": sp.SP_FileDialogDetailedView,
        "desktop": sp.SP_DesktopIcon,
        "carta": sp.SP_DriveNetIcon,
        "firefly": sp.SP_DirIcon,
        "contributed": sp.SP_FileIcon,
        "open": sp.SP_ArrowRight,
        "renew": sp.SP_BrowserReload,
        "delete": sp.SP_TrashIcon,
        "logs": sp.SP_FileDialogContentsView,
        "events": sp.SP_FileDialogListView,
        "add": sp.SP_FileDialogNewFolder,
        "settings": sp.SP_FileDialogInfoView,
        "refresh": sp.SP_BrowserReload,
        "host": sp.SP_DriveNetIcon,
        "warning": sp.SP_MessageBoxWarning,
        "zoom-in": sp.SP_ArrowUp,
        "zoom-out": sp.SP_ArrowDown,
        "reload": sp.SP_BrowserReload,
        "external": sp.SP_DirLinkIcon,
        "copy": sp.SP_FileLinkIcon,
        "close": sp.SP_DialogCloseButton,
    }.get(name, sp.SP_FileIcon)


_cache: dict[tuple[str, str], QIcon] = {}


def _tint() -> str:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app.palette().windowText().color().name()
    return "#202124"


def icon(name: str, color: str | None = None) -> QIcon:
    """The named icon in `color` (default: the palette's text colour)."""
    colour = color or _tint()
    key = (name, colour)
    if key in _cache:
        return _cache[key]
    path = ICON_DIR / f"{name}.svg"
    result = QIcon()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        text = ""
    if text:
        if name not in UNTINTED:
            text = text.replace(INK, colour).replace("currentColor", colour)
        renderer = QSvgRenderer(QByteArray(text.encode()))
        if renderer.isValid():
            for size in (16, 20, 24, 32, 48, 64):
                pixmap = QPixmap(QSize(size, size) * 2)
                pixmap.setDevicePixelRatio(2.0)
                pixmap.fill(Qt.GlobalColor.transparent)
                painter = QPainter(pixmap)
                renderer.render(painter, QRectF(0, 0, size, size))
                painter.end()
                result.addPixmap(pixmap)
    if result.isNull():
        app = QApplication.instance()
        style = app.style() if isinstance(app, QApplication) else None
        if style is not None:
            result = style.standardIcon(_fallback(name))
    _cache[key] = result
    return result


def set_icon(target: QObject, name: str, color: str | None = None) -> None:
    """Give a widget or action a named icon and remember the name, so a theme change can re-tint it."""
    target.setIcon(icon(name, color))  # type: ignore[attr-defined]
    target.setProperty("canfarIcon", name)
    target.setProperty("canfarIconColor", color or "")


def retint(app: QApplication) -> None:
    """Re-render every remembered icon in the current palette (after the theme changed)."""
    from PySide6.QtGui import QAction

    targets: list[QObject] = list(app.allWidgets())
    for window in app.topLevelWidgets():
        targets += window.findChildren(QAction)
    for target in targets:
        name = target.property("canfarIcon")
        if name:
            target.setIcon(icon(str(name), str(target.property("canfarIconColor") or "") or None))  # type: ignore[attr-defined]


def icon_path(name: str, color: str | None = None) -> str:
    """The SVG file's path for style sheets (forward slashes, as Qt style sheets want).

    With `color`, a copy drawn in that colour (style sheets cannot tint), kept in a private temporary
    folder of this user; if it cannot be written, the original file."""
    import getpass
    import tempfile

    original = ICON_DIR / f"{name}.svg"
    if not color:
        return original.as_posix()
    try:
        folder = Path(tempfile.gettempdir()) / f"canfar-desktop-icons-{getpass.getuser()}"
        folder.mkdir(mode=0o700, exist_ok=True)
        tinted = folder / f"{name}-{color.lstrip('#')}.svg"
        if not tinted.exists():
            tinted.write_text(original.read_text(encoding="utf-8").replace(INK, color), encoding="utf-8")
        return tinted.as_posix()
    except OSError:
        return original.as_posix()


def clear_cache() -> None:
    """Forget rendered icons (after a theme change re-tints them)."""
    _cache.clear()


def dot(color: str, size: int = 10) -> QPixmap:
    """A small filled circle, used for host status."""
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(color))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return pixmap
