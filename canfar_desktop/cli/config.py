"""`config show|get|set|path` and `version`."""

from __future__ import annotations

import argparse
import json
import platform
import sys

from .. import __version__
from ..core.errors import ValidationError
from ..core.plain import to_plain
from ..core.settings import Settings, save_settings
from .context import Context
from .output import emit

FIXED = ("schema_version", "hosts", "last_choices", "recent_launches", "presets")


def cmd_config(ctx: Context, args: argparse.Namespace) -> int:
    data = to_plain(ctx.settings)
    if args.action == "path":
        print(ctx.paths.settings_file)
    elif args.action == "show":
        print(json.dumps(data, indent=2))
    elif args.action == "get":
        if not args.key or args.key not in data:
            raise ValidationError(f"Unknown setting {args.key!r}", f"use one of: {', '.join(data)}")
        print(json.dumps(data[args.key]))
    else:
        if not args.key or args.value is None:
            raise ValidationError("config set needs a KEY and a VALUE", "e.g. canfar-desktop config set session_limit 4")
        if args.key not in data or args.key in FIXED:
            settable = ", ".join(k for k in data if k not in FIXED)
            raise ValidationError(f"{args.key!r} cannot be set here", f"settable: {settable}")
        try:
            value = json.loads(args.value)
        except ValueError:
            value = args.value
        from ..core.settings_check import ValidationError as Invalid
        from ..core.settings_check import check, validation_message

        try:
            updated = check(Settings, {**data, args.key: value})
        except Invalid as exc:
            raise ValidationError(f"Invalid value for {args.key}: {args.value!r}", validation_message(exc)) from None
        save_settings(ctx.paths, updated, base=ctx.settings)
        print(f"{args.key} = {json.dumps(to_plain(updated)[args.key])}")
    return 0


def cmd_version(ctx: Context, args: argparse.Namespace) -> int:
    """The version first (what `--version` prints), then what a support request needs to know."""
    facts = {"version": __version__, "python": platform.python_version(),
             "platform": f"{platform.system()} {platform.machine()}", "executable": sys.executable}
    if args.output != "table":
        emit(facts, args.output)
        return 0
    print(f"canfar-desktop {__version__}")
    print(f"python {facts['python']} on {facts['platform']}")
    return 0
