"""The app says the CLI's hints in its own words: buttons and menus, never a command to type."""

from __future__ import annotations

import pytest

from canfar_desktop.core.errors import LimitError
from canfar_desktop.ui.wording import LIMIT_HINT, for_app, sentence


@pytest.mark.parametrize(("cli", "app"), [
    ("delete a session (canfar-desktop delete ID) or raise the limit in settings", LIMIT_HINT.lower()),
    ("see its logs (canfar-desktop logs ab12cd34) or run canfar-desktop doctor ab12cd34",
     "see its logs (the card's Logs button) or open Troubleshooting (F12)"),
    ("cannot start; then delete it (canfar-desktop delete -f ab12cd34)", "cannot start; then delete it from its card"),
    ("run canfar-desktop ps -a", "refresh the sessions (F5)"),
    ("e.g. (e.g. canfar-desktop create notebook img:1 -m 4)", "e.g. (New session › Fixed, 4 GB)"),
])
def test_known_cli_hints_become_the_apps(cli: str, app: str) -> None:
    assert for_app(cli).lower() == app.lower()
    assert "canfar-desktop" not in for_app(cli)


def test_characters_are_named_in_words() -> None:
    assert for_app("The session name 'a b!' contains ' ' '!'").endswith("contains a space and “!”")


def test_unknown_text_is_left_alone() -> None:
    assert for_app("the image is 2 GB") == "the image is 2 GB"


def test_an_error_in_one_line() -> None:
    err = LimitError("User x has reached the maximum of 3 active sessions",
                     "delete a session (canfar-desktop delete ID) or raise the limit in settings")
    assert sentence(err) == f"User x has reached the maximum of 3 active sessions: {LIMIT_HINT[0].lower()}{LIMIT_HINT[1:]}"
