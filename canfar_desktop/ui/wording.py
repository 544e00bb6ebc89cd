"""The app's words for what the core says in the CLI's words.

The core's errors and checks end in a hint for the command line ("delete a session (canfar-desktop
delete ID) …"), which is right in a terminal and a dead end in a window. Every hint the app shows
passes through `for_app`, which turns the known CLI phrasings into the app's buttons and menus;
anything it does not know is shown unchanged (still true, only less handy).
"""

from __future__ import annotations

import re

from ..core.errors import CanfarError

LIMIT_HINT = "Delete a session from its card, or raise Settings › Active session limit"

# (CLI phrasing, the app's) in order: the longer phrasings first, so they win over their parts.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.IGNORECASE), r) for p, r in (
    (r"delete a session \(canfar-desktop delete ID\) or raise (?:the limit|session_limit) in settings",
     LIMIT_HINT[0].lower() + LIMIT_HINT[1:]),
    (r"then delete it \(canfar-desktop delete -f \S+\)", "then delete it from its card"),
    (r"see its logs \(canfar-desktop logs \S+\) or run canfar-desktop doctor \S+",
     "see its logs (the card's Logs button) or open Troubleshooting (F12)"),
    (r"see its logs \(canfar-desktop logs \S+\)", "see its logs (the card's Logs button)"),
    (r"follow it with canfar-desktop logs -f \S+", "follow it in Troubleshooting › Logs (F12)"),
    (r"renew it with canfar-desktop renew \S+", "renew it from its card"),
    (r"wait for it or see canfar-desktop info \S+", "wait until its card says Running"),
    (r"(?:see|run) canfar-desktop info(?: \S+)?", "see its card"),
    (r"(?:list sessions with|run) canfar-desktop ps -a", "refresh the sessions (F5)"),
    (r"run canfar-desktop doctor for the host checks", "run the checks in Troubleshooting (F12)"),
    (r"(?:or )?run canfar-desktop doctor(?: \S+)?", "open Troubleshooting (F12)"),
    (r"read the last lines of output above \(canfar-desktop logs ID\)", "read the last lines of output above"),
    (r"see canfar-desktop logs ID for the app's progress", "its Logs show the app's progress"),
    (r"pick an image from canfar-desktop image ls", "pick one of the images the launch dialog lists"),
    (r"canfar-desktop hosts login \S+ \(or Settings › Hosts\)", "Settings › Hosts"),
    (r"canfar-desktop prune '' --force deletes every ended session", "delete ended sessions from their cards"),
    (r"\(e\.g\. canfar-desktop create \S+ \S+ -m (\d+)\)", r"(New session › Fixed, \1 GB)"),
))

_NAMES = {" ": "a space", "\t": "a tab"}


def for_app(text: str) -> str:
    """`text` with the CLI's commands replaced by where the same thing is in the app."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return _characters(text)


def _characters(text: str) -> str:
    """"contains ' ' '!'" (the core's list of characters) → "contains a space and “!”"."""
    match = re.search(r"contains ((?:'[^']' ?|\"'\" ?)+)$", text)
    if not match:
        return text
    found = re.findall(r"'([^'])'|\"(')\"", match.group(1))
    shown = [_NAMES.get(a or b, f"“{a or b}”") for a, b in found]
    words = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return text[: match.start(1)] + words


def hint_of(err: CanfarError) -> str:
    """An error's hint as the app says it."""
    return for_app(err.hint) if err.hint else ""


def message_of(err: CanfarError) -> str:
    return for_app(err.message)


def sentence(err: CanfarError) -> str:
    """"What happened: what to do", for a one-line label."""
    hint = hint_of(err)
    return f"{message_of(err)}: {hint}" if hint else message_of(err)
