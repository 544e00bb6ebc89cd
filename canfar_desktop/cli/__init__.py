"""The `canfar-desktop` command line: the canfar client's verbs over the same core as the app.

It never imports Qt. One module per group of verbs, each imported only when one of its verbs runs
(main.HANDLERS), so `--help`, `version` and a mistyped verb answer without loading the Docker
client or the API server. Every failure prints one line that says what to do and exits non-zero.
"""

from __future__ import annotations

from .main import HANDLERS, main, run
from .parser import VERBS, build_parser

__all__ = ["HANDLERS", "VERBS", "build_parser", "main", "run"]
