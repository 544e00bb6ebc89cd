"""Entry point: verbs run the Qt-free CLI; no arguments open the desktop app."""

from __future__ import annotations

import sys

CLI_OPTIONS = ("-h", "--help", "-V", "--version", "--debug")


def is_cli_invocation(args: list[str]) -> bool:
    """A verb (any word, known or not: the CLI says what it does not know) or a CLI option runs the CLI;
    nothing, or the app's own options (--minimized, --self-test, Qt's), opens the app."""
    return bool(args) and (not args[0].startswith("-") or args[0] in CLI_OPTIONS)


def main(argv: list[str] | None = None) -> int:
    """The program: a CLI command or the app. In-process callers use `cli.run`, which leaves the
    garbage collector alone."""
    args = sys.argv[1:] if argv is None else argv
    if is_cli_invocation(args):
        import gc

        # A command lives for a moment and makes few reference cycles: collecting the young objects
        # after every 700 allocations while its modules load, and every object once more as the
        # interpreter exits, took about a tenth of a listing. Long-running verbs (`api`, `logs -f`)
        # still collect, less often.
        gc.set_threshold(10_000, 10, 10)
        from .cli import run

        try:
            return run(args)
        finally:
            gc.freeze()  # what is left is freed with the process, not traversed first
    from .ui.start import run_app  # imports only Qt's widgets before the window is on screen

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
