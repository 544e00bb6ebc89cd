"""The Help menu on a real window: the guide's sections, the support contact, a real session's support
report on the clipboard (secret removed), and About."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QGuiApplication

from canfar_desktop import __version__
from canfar_desktop.ui.guide import SECTIONS, SUPPORT_EMAIL

from .conftest import screenshot


def menu_titles(menu: Any) -> list[str]:
    return [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]


def test_help_menu_has_the_guide_support_and_about(make_window: Callable[..., Any], qtbot: Any,
                                                   session_images: dict[str, str]) -> None:
    window = make_window()
    bar = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert bar[-1] == "Help", bar
    help_menu = window.help_menu
    assert menu_titles(help_menu.menu) == ["Guide", "CANFAR documentation online", "Copy support report",
                                           f"Contact support ({SUPPORT_EMAIL})…", "About CANFAR Desktop"]
    guide = help_menu.menu.findChild(type(help_menu.menu), "guideMenu")
    assert menu_titles(guide) == [title for title, _ in SECTIONS]
    assert "Cannot access files" in dict(SECTIONS)["Troubleshooting"]

    # A section opens as a page of its own, rendered.
    next(a for a in guide.actions() if a.text() == "Troubleshooting").trigger()
    dialog = help_menu.dialog
    assert dialog is not None and dialog.isVisible()
    assert "Out of memory" in dialog.browser.toPlainText() and "#" not in dialog.browser.toPlainText()[:20]
    screenshot(dialog, "help-guide.png")
    dialog.close()

    contact = help_menu.show_contact()
    assert SUPPORT_EMAIL in contact.text()
    copy = next(b for b in contact.buttons() if b.text() == "Copy address")
    copy.click()
    assert QGuiApplication.clipboard().text() == SUPPORT_EMAIL
    contact.close()

    about = help_menu.show_about()
    assert __version__ in about.text() and "Python" in about.informativeText()
    about.close()


def test_copy_support_report_of_a_session(make_window: Callable[..., Any], qtbot: Any,
                                          session_images: dict[str, str]) -> None:
    window = make_window()
    reports = window.help_menu.reports
    reports.aboutToShow.emit()
    assert menu_titles(reports) == ["No sessions: launch one first"]

    service = window.service
    # a notebook: its token is a secret the report must leave out
    s = service.launch(service.prepare_launch("notebook", session_images["notebook"], "help-report"))
    s = service.wait_ready(s, timeout=120)
    window.store.refresh()
    qtbot.waitUntil(lambda: window.store.find(s.id) is not None, timeout=30_000)
    reports.aboutToShow.emit()
    [entry] = [a for a in reports.actions() if s.id in a.text()]
    QGuiApplication.clipboard().clear()
    entry.trigger()
    qtbot.waitUntil(lambda: s.id in QGuiApplication.clipboard().text(), timeout=30_000)
    text = QGuiApplication.clipboard().text()
    secret = service.get(s.id).secret
    assert secret and secret not in text
    assert session_images["notebook"] in text
