"""The command line's grammar: every verb, its arguments and flags, and the hint for a mistyped verb.

Building the parser imports only the session kinds (plain data), so `--help`, `version` and a
mistyped verb answer at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..core.kinds import ALL_KINDS, ATTACHED_KINDS, KINDS

VERBS = ("ps", "list", "create", "info", "open", "logs", "events", "renew", "delete", "prune", "stats",
         "image", "doctor", "config", "hosts", "api", "version", "cp", "project", "share")
OUTPUTS = ("table", "json", "yaml")

# Verbs of the canfar client that mean nothing here, with what to do instead.
CLIENT_ONLY = {
    "login": "Docker hosts need no login; for the CANFAR Science Platform run `canfar login`, or save a token "
             "with canfar-desktop hosts login NAME",
    "auth": "Docker hosts need no login; for the CANFAR Science Platform run `canfar login`, or save a token "
            "with canfar-desktop hosts login NAME",
    "server": "the Docker hosts sessions run on are listed by canfar-desktop hosts",
    "data": "copy files in and out of a session's /arc with canfar-desktop cp LOCAL ID:/arc/home/USER/",
    "feedback": "write to support@canfar.net with the report of canfar-desktop doctor ID --report",
}


def suggestion(word: str) -> str:
    """The hint for a word that is not a verb: the client's own verbs, else the nearest verbs."""
    if word in CLIENT_ONLY:
        return CLIENT_ONLY[word]
    import difflib  # only for a mistyped verb

    close = difflib.get_close_matches(word.lower(), VERBS, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(f"`{c}`" for c in close) + "? (canfar-desktop --help lists every command)"
    return "canfar-desktop --help lists every command"


def add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", choices=list(OUTPUTS), default="table",
                   help="table (default), json or yaml")


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size reads it (COLUMNS, the terminal, else 80), without
    importing shutil (and with it bz2, lzma and zlib), which argparse's formatter does for every parser."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() if width is None else width)


class Parser(argparse.ArgumentParser):
    """argparse's parser with the formatter above; its sub-parsers are of this class too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


class _Unused:
    """Stands in for the parsers of the verbs not being run: making all of them costs a command ~10 ms."""

    def __getattr__(self, name: str) -> Any:
        return self._ignore

    def _ignore(self, *args: object, **kwargs: object) -> Any:
        return self


def build_parser(verb: str | None = None) -> argparse.ArgumentParser:
    """The parser; given the verb being run, only that verb's part of it (help of all verbs needs None)."""
    parser = Parser(
        prog="canfar-desktop",
        description="Interactive CANFAR sessions as containers on your Docker host. "
                    "Without a command, the desktop app opens.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"canfar-desktop {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="log what the command does on stderr and show the details of unexpected errors")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")

    def plain(name: str, help_: str, aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
        if verb is not None and verb != name and verb not in aliases:
            unused: argparse.ArgumentParser = _Unused()  # type: ignore[assignment]
            return unused
        return sub.add_parser(name, help=help_, description=help_, aliases=list(aliases))

    def add(name: str, help_: str, aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
        p = plain(name, help_, aliases)
        p.add_argument("--host", help="the Docker host to use (a name from settings; default: all or the default)")
        return p

    p = add("ps", "list sessions (Launching, Running and Suspended unless -a)", aliases=["list"])
    p.add_argument("-a", "--all", action="store_true", help="include ended sessions")
    p.add_argument("-q", "--quiet", action="store_true", help="print session ids only")
    p.add_argument("-k", "--kind", choices=sorted(ALL_KINDS), help="only this kind")
    p.add_argument("-s", "--status", help="only this state (Running, Failed, …)")
    add_output(p)

    p = add("create", "launch a session: create KIND [IMAGE] [-- CMD ARGS]")
    p.add_argument("kind", help=f"one of: {', '.join(ALL_KINDS)}")
    p.add_argument("image", nargs="?", help="image reference (default: the newest image on the host for KIND)")
    p.add_argument("-n", "--name", help="session name ([A-Za-z0-9-]+; default: generated)")
    p.add_argument("-c", "--cpu", type=float, help="fixed cores (makes a fixed session)")
    p.add_argument("-m", "--memory", help="fixed RAM in GB (makes a fixed session; 512M also works)")
    p.add_argument("-g", "--gpu", type=int, default=0, help="GPUs")
    p.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE", help="environment variable")
    p.add_argument("-p", "--port", type=int, help="publish on this port of 127.0.0.1 (default: a free one)")
    p.add_argument("-r", "--replicas", type=int, default=1, metavar="N",
                   help="launch N sessions named NAME-1…NAME-N, each with REPLICA_ID and REPLICA_COUNT")
    p.add_argument("--dry-run", action="store_true", help="print the container configuration and create nothing")
    p.add_argument("--wait", action="store_true", help="wait until the session is Running, showing progress")
    p.add_argument("--timeout", type=float, default=300, help="seconds --wait waits (default 300)")
    add_output(p)
    p.add_argument("--show-secret", action="store_true", help="print the URL with its secret")

    for about, text in (("info", "show everything about sessions"), ("renew", "push expiry to now + lifetime"),
                        ("events", "show the engine's events for sessions")):
        p = add(about, text)
        p.add_argument("ids", nargs="+", metavar="ID")
        if about == "info":
            add_output(p)
            p.add_argument("--show-secret", action="store_true", help="print the URL with its secret")

    p = add("open", "open Running sessions in the app or the system browser")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--print", action="store_true",
                   help="only print the URL (for a remote host it works while this command runs, until Ctrl+C)")

    p = add("logs", "show a session's output (secrets redacted)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new output")
    p.add_argument("-n", "--tail", type=int, default=200, help="lines to show (default 200)")

    p = add("delete", "delete sessions (their /scratch goes, /arc stays)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("-f", "--force", action="store_true", help="do not ask to confirm")

    p = add("prune", "delete sessions by name and, as the canfar client, kind (default headless) and state "
                     "(default Completed): prune PREFIX [KIND|any] [STATE|any]")
    p.add_argument("prefix", help="the start of the names, or a regular expression when it has one of .^$*+?{}[]()|")
    p.add_argument("kind", nargs="?")
    p.add_argument("state", nargs="?")
    p.add_argument("-f", "--force", action="store_true", help="do not ask to confirm")

    p = add("stats", "host capacity and each running session's CPU and memory")
    add_output(p)

    p = add("image", "the image catalogue: CANFAR's and this host's images for each kind; pull, update, remove")
    isub = p.add_subparsers(dest="image_verb", metavar="ls|pull|update|rm")
    ls = isub.add_parser("ls", help="list the images usable for each kind, pulled or not")
    ls.add_argument("-k", "--kind", choices=sorted([*KINDS, *ATTACHED_KINDS]))
    add_output(ls)
    ls.add_argument("--host")
    for action, text in (("pull", "pull an image (with progress)"), ("update", "pull again; say whether it changed"),
                         ("rm", "remove an image from the host")):
        one = isub.add_parser(action, help=text, description=text)
        one.add_argument("ref", metavar="IMAGE")
        one.add_argument("--host")

    p = add("doctor", "check the engine, images, storage and a session; say what to fix")
    p.add_argument("id", nargs="?", metavar="ID")
    add_output(p)
    p.add_argument("--report", action="store_true",
                   help="print a support report of session ID (secrets redacted) to send when asking for help")

    p = plain("config", "show or change settings: config show|get|set|path")
    p.add_argument("action", choices=["show", "get", "set", "path"])
    p.add_argument("key", nargs="?")
    p.add_argument("value", nargs="?")

    p = plain("api", "serve the CANFAR session API for the canfar client (foreground, Ctrl+C stops)")
    p.add_argument("--port", type=int, help="port on 127.0.0.1 (default: the api_port setting; 0: any free port)")
    p.add_argument("--show-token", action="store_true", help="print the two export lines and exit")
    p.add_argument("--rotate-token", action="store_true", help="make a new token (the old one stops working) and exit")

    p = plain("hosts", "list configured hosts (Docker engines, the CANFAR Science Platform) and whether "
                                     "they answer")
    p.add_argument("action", nargs="?", choices=["ls", "add", "remove", "import-contexts", "login", "logout"],
                   default="ls")
    p.add_argument("name", nargs="?")
    p.add_argument("url", nargs="?")
    p.add_argument("--tls-ca", default="")
    p.add_argument("--tls-cert", default="")
    p.add_argument("--tls-key", default="")
    p.add_argument("--arc-path", default="")
    p.add_argument("--ssh-tunnel", default="", help="for tcp:// hosts: ssh://user@host to forward session ports")
    p.add_argument("--canfar", action="store_true",
                   help="URL is a CANFAR Science Platform (a Skaha server), e.g. https://ws-uv.canfar.net/skaha")
    p.add_argument("--token-file", default="", metavar="FILE",
                   help="for a platform host (add, login): a file holding your token; - reads standard input")

    p = add("cp", "copy files or folders into a session (LOCAL… ID:PATH) or out of one (ID:PATH LOCAL)")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="sources, then the destination; one side is ID:PATH (ID: alone is /arc/home/USER)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line")

    p = add("project", "project folders in /arc/projects with a group each: project create|add-member|"
                       "remove-member|ls")
    p.add_argument("action", nargs="?", choices=["ls", "create", "add-member", "remove-member"], default="ls")
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("user", nargs="?", metavar="USER")
    add_output(p)

    p = add("share", "make a session reachable from other devices over TLS for a while (foreground, Ctrl+C stops)")
    p.add_argument("id", metavar="ID")
    p.add_argument("--for", dest="duration", default="60m", help="how long: 90m, 2h, 1d (default 60m, at most 7d)")
    p.add_argument("--address", help="the address of this computer other devices reach (default: the one of the "
                                      "default route)")
    p.add_argument("--port", type=int, default=0, help="the port to listen on (default: any free one)")
    p.add_argument("--qr", action="store_true", help="print the link as a QR code too")

    p = plain("version", "print the version of canfar-desktop and of Python")
    add_output(p)
    return parser
