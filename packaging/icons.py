"""Check, render and theme the SVG icons in canfar_desktop/assets/icons.

    python packaging/icons.py check              every icon parses with QSvgRenderer and has the expected frame
    python packaging/icons.py sheet OUT.png      contact sheet of all icons on light and dark backgrounds
    python packaging/icons.py hicolor OUTDIR     app.svg as OUTDIR/hicolor/<n>x<n>/apps/<ID>.png (+ scalable/apps)
    python packaging/icons.py ico OUT.ico        app.svg as a Windows icon (16…256 px, PNG-compressed entries)

Line icons keep their colour in one place (NEUTRAL below), so a theme recolours one by string replacement.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parent.parent / "canfar_desktop" / "assets" / "icons"
APP_ID = "net.canfar.Desktop"
NEUTRAL = "#3b4252"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
LINE_ICONS = (
    "notebook", "desktop", "carta", "firefly", "contributed", "open", "renew", "delete", "logs", "events", "add",
    "settings", "refresh", "host", "warning", "zoom-in", "zoom-out", "reload", "external", "copy", "close",
)  # fmt: skip


def _app():  # type: ignore[no-untyped-def]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication(sys.argv[:1])


def _renderer(data: bytes):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QByteArray
    from PySide6.QtSvg import QSvgRenderer

    return QSvgRenderer(QByteArray(data))


def render(data: bytes, size: int):  # type: ignore[no-untyped-def]
    """The SVG as a transparent size×size QImage."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _renderer(data).render(painter)
    painter.end()
    return image


def check() -> list[str]:
    """Problems with the icon set (empty when all is well)."""
    _app()
    present = {path.stem for path in ICON_DIR.glob("*.svg")}
    problems = [f"{ICON_DIR / name}.svg: missing" for name in (*LINE_ICONS, "app") if name not in present]
    for name in sorted(present):
        path = ICON_DIR / f"{name}.svg"
        text = path.read_text()
        renderer = _renderer(text.encode())
        if not renderer.isValid():
            problems.append(f"{path}: QSvgRenderer cannot parse it")
        if name != "app":
            if 'viewBox="0 0 24 24"' not in text:
                problems.append(f"{path}: not on the 24×24 grid")
            if text.count(NEUTRAL) != 1:
                problems.append(f"{path}: its colour {NEUTRAL} should appear exactly once")
        if render(text.encode(), 48).isNull():
            problems.append(f"{path}: renders to nothing")
    return problems


def sheet(out: Path) -> None:
    """A contact sheet: each line icon at 16, 24 and 48 px on light and dark, then app.svg from 16 to 256 px."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    _app()
    names = sorted(path.stem for path in ICON_DIR.glob("*.svg") if path.stem != "app")
    cell_w, cell_h, cols = 150, 92, 6
    rows = (len(names) + cols - 1) // cols
    themes = (("#eceff4", NEUTRAL), ("#2e3440", "#d8dee9"))
    band_h = rows * cell_h
    app_h = 300
    sheet_img = QImage(cols * cell_w, 2 * band_h + app_h, QImage.Format.Format_ARGB32)
    painter = QPainter(sheet_img)
    painter.setFont(QFont("DejaVu Sans", 8))
    for t, (bg, fg) in enumerate(themes):
        top = t * band_h
        painter.fillRect(0, top, cols * cell_w, band_h, QColor(bg))
        for i, name in enumerate(names):
            x, y = (i % cols) * cell_w, top + (i // cols) * cell_h
            data = (ICON_DIR / f"{name}.svg").read_text().replace(NEUTRAL, fg).encode()
            px = x + 10
            for size in (16, 24, 48):
                painter.drawImage(px, y + 10 + (48 - size), render(data, size))
                px += size + 10
            painter.setPen(QColor(fg))
            painter.drawText(QRect(x, y + 64, cell_w, 20), Qt.AlignmentFlag.AlignCenter, name)
    top = 2 * band_h
    painter.fillRect(0, top, cols * cell_w, app_h, QColor("#ffffff"))
    painter.fillRect(cols * cell_w // 2, top, cols * cell_w // 2, app_h, QColor("#1c1f26"))
    data = (ICON_DIR / "app.svg").read_bytes()
    for half in (0, 1):
        px = half * cols * cell_w // 2 + 10
        for size in (16, 24, 32, 48, 64, 128, 256) if half == 0 else (16, 32, 48, 128, 256):
            if px + size > (half + 1) * cols * cell_w // 2:
                break
            painter.drawImage(px, top + app_h - 20 - size, render(data, size))
            px += size + 10
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet_img.save(str(out))


def hicolor(outdir: Path) -> list[Path]:
    """The application icon in the hicolor theme layout under outdir; returns the files written."""
    _app()
    data = (ICON_DIR / "app.svg").read_bytes()
    written = []
    for size in HICOLOR_SIZES:
        target = outdir / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not render(data, size).save(str(target)):
            raise RuntimeError(f"could not write {target}")
        written.append(target)
    scalable = outdir / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ICON_DIR / "app.svg", scalable)
    written.append(scalable)
    return written


def ico(out: Path) -> None:
    """A Windows .ico holding the app icon at the sizes Explorer and the taskbar use, each entry a PNG."""
    import struct

    from PySide6.QtCore import QBuffer, QIODevice

    _app()
    data = (ICON_DIR / "app.svg").read_bytes()
    sizes = (16, 20, 24, 32, 40, 48, 64, 128, 256)
    pngs = []
    for size in sizes:
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        render(data, size).save(buffer, "PNG")
        pngs.append(bytes(buffer.data()))
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries = b""
    for size, png in zip(sizes, pngs, strict=True):
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(header + entries + b"".join(pngs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check")
    sub.add_parser("sheet").add_argument("out", type=Path)
    sub.add_parser("hicolor").add_argument("outdir", type=Path)
    sub.add_parser("ico").add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "check":
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(list(ICON_DIR.glob('*.svg')))} icons checked, {len(problems)} problem(s)")
        return 1 if problems else 0
    if args.command == "sheet":
        sheet(args.out)
        print(args.out)
        return 0
    if args.command == "ico":
        ico(args.out)
        print(args.out)
        return 0
    for path in hicolor(args.outdir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
