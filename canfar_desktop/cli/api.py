"""`api`: serve CANFAR's session API (Skaha v1) for the canfar client; the HTTP stack is imported only here."""

from __future__ import annotations

import argparse
import sys

from ..core.errors import ValidationError
from .context import Context


def cmd_api(ctx: Context, args: argparse.Namespace) -> int:
    from ..api.server import Address, export_lines, serve_foreground
    from ..api.token import TokenStore

    tokens = TokenStore.for_paths(ctx.paths)
    port = ctx.settings.api_port if args.port is None else args.port
    if port != 0 and not 1024 <= port <= 65535:
        raise ValidationError(f"Port {port} is out of range", "choose a port between 1024 and 65535, or 0 for any free one")
    if args.rotate_token or args.show_token:
        token = tokens.rotate() if args.rotate_token else tokens.get()
        print(export_lines(Address(port), token), end="")
        if args.rotate_token:
            print("The previous token no longer works; export the new one where you use the canfar client.",
                  file=sys.stderr)
        return 0
    try:
        serve_foreground(ctx.service, tokens, port)
    finally:
        ctx.service.close()
    return 0
