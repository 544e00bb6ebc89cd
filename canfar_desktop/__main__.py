"""Entry point: verbs run the Qt-free CLI; no arguments open the desktop app."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    from .cli import is_cli_invocation

    if is_cli_invocation(args):
        from .cli import run

        return run(args)
    from .ui.app import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
