"""Running one command: parse, find the verb's module (imported only now), turn failures into one line.

Exit codes: 0 done, 1 a failure the command reports, 2 bad input, 3 engine unreachable, 4 no such
session, 70 a bug (with --debug or CANFAR_DESKTOP_DEBUG=1 its traceback is shown).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..core.errors import CanfarError
from ..core.log import get_logger
from .parser import VERBS, build_parser, suggestion

Handler = Callable[[Any, argparse.Namespace], "int | None"]


class Lazy:
    """A verb's handler, imported from its module on first call (so `ps` never loads the API server)."""

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, ctx: Any, args: argparse.Namespace) -> int | None:
        handler: Handler = getattr(importlib.import_module(f"{__package__}.{self.module}"), self.name)
        return handler(ctx, args)


HANDLERS: dict[str, Handler] = {
    "ps": Lazy("sessions", "cmd_ps"), "list": Lazy("sessions", "cmd_ps"), "create": Lazy("create", "cmd_create"),
    "info": Lazy("sessions", "cmd_info"), "open": Lazy("sessions", "cmd_open"), "logs": Lazy("sessions", "cmd_logs"),
    "events": Lazy("sessions", "cmd_events"), "renew": Lazy("sessions", "cmd_renew"),
    "delete": Lazy("sessions", "cmd_delete"), "prune": Lazy("prune", "cmd_prune"),
    "stats": Lazy("hosts", "cmd_stats"), "image": Lazy("images", "cmd_image"), "doctor": Lazy("doctor", "cmd_doctor"),
    "config": Lazy("config", "cmd_config"), "hosts": Lazy("hosts", "cmd_hosts"), "api": Lazy("api", "cmd_api"),
    "version": Lazy("config", "cmd_version"), "cp": Lazy("files", "cmd_cp"),
    "project": Lazy("projects", "cmd_project"), "share": Lazy("share", "cmd_share"),
}
GLOBAL_FLAGS = ("--debug",)


def main(argv: Sequence[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv)


def _split(argv: list[str]) -> tuple[list[str], list[str], bool]:
    """(arguments, command after `create … --`, --debug given anywhere before that `--`)."""
    cmd: list[str] = []
    if "--" in argv and argv and argv[0] == "create":  # create KIND IMAGE -- CMD ARGS
        cut = argv.index("--")
        argv, cmd = argv[:cut], argv[cut + 1:]
    debug = "--debug" in argv
    return [a for a in argv if a not in GLOBAL_FLAGS], cmd, debug


def run(argv: Sequence[str]) -> int:
    args_list, cmd, debug = _split(list(argv))
    verb = next((a for a in args_list if not a.startswith("-")), None)
    if verb is not None and verb not in VERBS and args_list[0] == verb:
        print(f"error: {verb!r} is not a canfar-desktop command: {suggestion(verb)}", file=sys.stderr)
        return 2
    helping = any(a in ("-h", "--help", "-V", "--version") for a in args_list[:1])
    args = build_parser(verb if verb in VERBS and not helping else None).parse_args(args_list)
    args.cmd = cmd
    args.debug = debug
    if debug:
        import logging

        os.environ["CANFAR_DESKTOP_DEBUG"] = "1"
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                            format="debug: %(asctime)s %(name)s: %(message)s")
    if args.verb is None:
        build_parser().print_help()
        return 0
    log = get_logger(__name__)
    started = time.monotonic()
    try:
        from .context import Context

        ctx = Context(debug)
        log.debug("%s, settings %s", args.verb, ctx.paths.settings_file)
        code = HANDLERS[args.verb](ctx, args) or 0
        log.debug("%s finished in %.2f s with exit code %d", args.verb, time.monotonic() - started, code)
        return code
    except CanfarError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if debug:
            log.debug("%s failed after %.2f s", args.verb, time.monotonic() - started, exc_info=exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get("CANFAR_DESKTOP_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} "
              "(run again with --debug for details and report it)", file=sys.stderr)
        return 70
