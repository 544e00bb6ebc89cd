"""Session tabs against hostile pages: the clipboard, leaving the session's origin, profiles after delete.

Pages come from two local HTTP servers on 127.0.0.1: one plays the session (its origin), the other
any other site. The system browser is replaced by a URL handler that records what it was given.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import AppPaths, Resources

from .conftest import card_named, js_value, press_in_modal, wait_js_true

CLIPBOARD = "http://127.0.0.1:1/lab?token=copied-session-secret"
READ_CLIPBOARD = ("window.got = null; navigator.clipboard.readText()"
                  ".then(t => { window.got = 'read:' + t; }, e => { window.got = 'refused:' + e.name; })")


class Site:
    """A local web server; `pages` maps a path to HTML, `redirects` a path to a Location."""

    def __init__(self, pages: dict[str, str], redirects: dict[str, str] | None = None) -> None:
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path in site.redirects:
                    self.send_response(302)
                    self.send_header("Location", site.redirects[path])
                    self.end_headers()
                    return
                body = site.pages.get(path, f"<title>{path}</title><p>page {path}</p>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.pages = pages
        self.redirects = redirects or {}
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sites() -> Iterator[tuple[Site, Site]]:
    """The session's site and another one."""
    other = Site({})
    session = Site({}, {"/redirect": other.url("/landed")})
    session.pages["/"] = (
        "<title>session</title><input id=field autofocus>"
        f"<a id=away href='{other.url('/clicked')}' style='display:block;width:400px;height:120px'>elsewhere</a>"
    )
    yield session, other
    session.close()
    other.close()


class SystemBrowser(QObject):
    """Stands in for the system browser: QDesktopServices.openUrl hands http(s) URLs here."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


@pytest.fixture
def system_browser(qapp: Any) -> Iterator[SystemBrowser]:
    browser = SystemBrowser()
    for scheme in ("http", "https"):
        QDesktopServices.setUrlHandler(scheme, browser, "open")
    yield browser
    for scheme in ("http", "https"):
        QDesktopServices.unsetUrlHandler(scheme)


def fake_session(session_id: str = "tabsec01") -> Session:
    """The data of a session (no container): tabs only read its id, name and kind."""
    now = datetime.now(UTC)
    return Session(id=session_id, name="hostile", kind="contributed", image="x", owner="ada", host="local",
                   container_id="c" * 64, container_name=f"canfar-hostile-{session_id}", created=now, expiry=None,
                   resources=Resources(), status="running", state=State.RUNNING)


@pytest.fixture
def open_tab(qtbot: Any, qapp: Any, paths: AppPaths) -> Iterator[Callable[[str], Any]]:
    """A session tab as the window makes it, shown and focused, on the given session URL."""
    from canfar_desktop.ui.browser import SessionTab, make_profile

    tabs: list[Any] = []

    def factory(url: str) -> Any:
        tab = SessionTab(fake_session(), url, make_profile(paths.profiles_dir, "tabsec01"))
        tab.resize(900, 600)
        tab.show()
        qtbot.waitExposed(tab)
        tabs.append(tab)
        load(qtbot, tab)
        return tab

    yield factory
    for tab in tabs:
        tab.dispose()


def load(qtbot: Any, tab: Any, url: str | None = None) -> None:
    with qtbot.waitSignal(tab.page.loadFinished, timeout=15000):
        tab.load(url)


def focus_page(qtbot: Any, tab: Any) -> None:
    """Give the page the keyboard as a click would: the clipboard API needs a focused document."""
    tab.activateWindow()
    qtbot.waitUntil(tab.isActiveWindow, timeout=5000)
    qtbot.mouseClick(tab.view.focusProxy(), Qt.MouseButton.LeftButton, pos=QPoint(600, 400))
    wait_js_true(qtbot, tab, "document.hasFocus()", 5000)


def read_clipboard(qtbot: Any, tab: Any) -> str:
    focus_page(qtbot, tab)
    js_value(qtbot, tab, READ_CLIPBOARD + "; true")
    wait_js_true(qtbot, tab, "window.got !== null", 10000)
    return str(js_value(qtbot, tab, "window.got"))


def test_only_the_sessions_own_origin_reads_the_clipboard(open_tab: Callable[[str], Any], qtbot: Any,
                                                         sites: tuple[Site, Site]) -> None:
    session, other = sites
    QGuiApplication.clipboard().setText(CLIPBOARD)
    tab = open_tab(session.url("/"))
    assert read_clipboard(qtbot, tab) == f"read:{CLIPBOARD}", "the session's own page may paste (with permission)"

    # A page of another origin in the same tab (loaded by the app here, since pages cannot get there
    # themselves) asks too: no prompt-free access, and the permission is refused for its origin.
    load(qtbot, tab, other.url("/"))
    assert tab.page.url().port() == other.port
    assert read_clipboard(qtbot, tab) == "refused:NotAllowedError", "another origin read the copied session URL"


def test_a_tab_stays_on_its_sessions_origin(open_tab: Callable[[str], Any], qtbot: Any, sites: tuple[Site, Site],
                                            system_browser: SystemBrowser) -> None:
    session, other = sites
    tab = open_tab(session.url("/"))
    messages: list[str] = []
    tab.message.connect(lambda text, _hint, _level: messages.append(text))

    def stays_home() -> None:
        assert tab.page.url().port() == session.port, f"the tab left its session for {tab.page.url().toString()}"

    # a script moving the page elsewhere: the system browser gets it, the tab stays
    js_value(qtbot, tab, f"location.href = '{other.url('/scripted')}'; true")
    qtbot.waitUntil(lambda: other.url("/scripted") in system_browser.opened, timeout=10000)
    stays_home()
    assert any("in your browser" in m for m in messages)

    # a link the person clicks
    focus_page(qtbot, tab)
    qtbot.mouseClick(tab.view.focusProxy(), Qt.MouseButton.LeftButton, pos=QPoint(60, 60))
    qtbot.waitUntil(lambda: other.url("/clicked") in system_browser.opened, timeout=10000)
    stays_home()

    # a redirect from the session's own server to another origin
    js_value(qtbot, tab, "location.href = '/redirect'; true")
    qtbot.waitUntil(lambda: other.url("/landed") in system_browser.opened, timeout=10000)
    assert tab.page.url().port() == session.port

    # window.open to another origin: no tab, the system browser instead
    load(qtbot, tab)
    shown: list[Any] = []
    tab.popup_opened.connect(shown.append)
    js_value(qtbot, tab, f"window.open('{other.url('/popup')}'); true")
    qtbot.waitUntil(lambda: other.url("/popup") in system_browser.opened, timeout=10000)
    qtbot.waitUntil(lambda: not tab.popups, timeout=5000)
    # ...and window.open() then sent elsewhere by script
    js_value(qtbot, tab, f"var w = window.open(); w.location = '{other.url('/later')}'; true")
    qtbot.waitUntil(lambda: other.url("/later") in system_browser.opened, timeout=10000)
    qtbot.waitUntil(lambda: not tab.popups, timeout=5000)
    assert shown == [], "a window of another origin was shown as a session tab"

    # window.open on the session's own origin is a tab of the session, as before
    js_value(qtbot, tab, "window.open('/notebook-window'); true")
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=10000)
    popup = shown[0]
    qtbot.waitUntil(lambda: popup.page.url().path() == "/notebook-window", timeout=10000)
    assert popup.page.url().port() == session.port and popup in tab.popups
    assert all(session.url() not in u for u in system_browser.opened)


def test_deleting_a_session_removes_its_browser_profile(make_window: Callable[..., Any], qtbot: Any,
                                                       session_images: dict[str, str], paths: AppPaths) -> None:
    from canfar_desktop.ui.profiles import RETRY_MS

    window = make_window()
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    req = window.service.prepare_launch("contributed", session_images["contributed"], "with-login")
    window.launch(req)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=60000)
    tab = next(iter(window.session_tabs.values()))
    qtbot.waitUntil(lambda: tab.page.url().toString().startswith("http://127.0.0.1:"), timeout=15000)
    wait_js_true(qtbot, tab, "document.readyState === 'complete'", 15000)
    # what a login leaves behind: a persistent cookie and local storage
    js_value(qtbot, tab, "document.cookie = 'login=yes; max-age=86400; path=/'; localStorage.setItem('k', 'v'); true")
    folder = paths.profiles_dir / tab.session_id
    qtbot.waitUntil(lambda: (folder / "Cookies").exists(), timeout=30000)

    s = card_named(window, "with-login").session
    seen = press_in_modal(qtbot, "Delete")
    window.delete(s)
    assert seen["clicked"]
    qtbot.waitUntil(lambda: card_named(window, "with-login") is None
                    or card_named(window, "with-login").state == State.TERMINATED, timeout=60000)
    qtbot.waitUntil(lambda: not folder.exists(), timeout=15000)
    qtbot.wait(RETRY_MS[-1] + 500)  # not synchronisation: QtWebEngine's late writes must not bring it back
    assert not folder.exists(), f"left behind: {sorted(p.name for p in folder.rglob('*'))}"


def test_profiles_of_sessions_that_no_longer_exist_are_pruned(tmp_path: Path, qapp: Any) -> None:
    from canfar_desktop.ui.profiles import profile_folder, prune_profiles

    profiles = tmp_path / "profiles"
    for name in ("alive001", "gone0001", "gone0002"):
        (profiles / name / "Local Storage").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (profiles / "not-a-session").mkdir()
    (profiles / "gone0003").symlink_to(outside)
    odd = profile_folder(profiles, "Made_By-Hand")  # an id that is not a folder name gets a hashed one
    odd.mkdir()
    assert sorted(prune_profiles(profiles, {"alive001", "Made_By-Hand"})) == ["gone0001", "gone0002", "gone0003"]
    assert sorted(p.name for p in profiles.iterdir()) == sorted(["alive001", "not-a-session", odd.name])
    assert outside.is_dir(), "a symlinked profile is unlinked, never followed"
