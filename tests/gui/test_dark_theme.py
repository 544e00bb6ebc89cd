"""The dark theme, switched to while a tab and the troubleshooting charts are open: tab icons are light on
dark and the charts dark, with their time labels whole."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.record import replace
from canfar_desktop.ui import theme
from canfar_desktop.ui.troubleshooting import TroubleshootingPanel

from .conftest import screenshot, state_of


def ink_lightness(icon: Any) -> float:
    """The mean lightness (0 black … 1 white) of an icon's drawn pixels."""
    image = icon.pixmap(32, 32).toImage()
    values = [QColor(image.pixel(x, y)).lightnessF() for x in range(image.width()) for y in range(image.height())
              if QColor.fromRgba(image.pixel(x, y)).alpha() > 128]
    assert values, "the icon draws nothing"
    return sum(values) / len(values)


def test_dark_theme_reaches_tab_icons_and_charts(make_window: Any, qtbot: Any,
                                                 session_images: dict[str, str]) -> None:
    window = make_window(theme="light")
    service = window.service
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    s = service.launch(service.prepare_launch("contributed", session_images["contributed"], "in-the-dark"))
    qtbot.waitUntil(lambda: state_of(window, "in-the-dark") == State.RUNNING, timeout=60000)
    window.open_session(s.id, s.host)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=30000)
    window.troubleshooting_dock.show()
    panel = window.findChild(TroubleshootingPanel)
    assert ink_lightness(window.tabs.tabIcon(0)) < 0.4, "dark ink on the light theme"
    try:
        window.apply_settings(replace(service.settings, theme="dark"))
        assert QApplication.instance().property("canfarTheme") == "dark"
        assert ink_lightness(window.tabs.tabIcon(0)) > 0.6, "the tab's icon is light on the dark theme"
        for chart in panel.charts:
            assert chart.chart().backgroundBrush().color() == QColor(theme.DARK.card), chart.base_title
        labels = panel.cpu_chart.x_axis
        assert labels.tickCount() * 75 <= panel.cpu_chart.width() + 75, "as many time labels as fit"
        for toast in list(window.messages.toasts):
            window.messages.dismiss(toast)
        screenshot(window, "dark-theme-tab-and-charts.png", qtbot, settle_ms=1500)
    finally:
        theme.apply(QApplication.instance(), "light")  # one QApplication serves every GUI test
