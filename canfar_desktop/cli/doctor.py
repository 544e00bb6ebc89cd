"""`doctor [ID] [--report]`: the troubleshooting checks, or a session's redacted support report."""

from __future__ import annotations

import argparse

from ..core.errors import ValidationError
from .context import Context
from .output import emit


def cmd_doctor(ctx: Context, args: argparse.Namespace) -> int:
    if args.report:
        if not args.id:
            raise ValidationError("--report needs a session ID", "e.g. canfar-desktop doctor abc123 --report")
        from ..core.report import support_report

        print(support_report(ctx.service, ctx.service.get(args.id, args.host)), end="")
        return 0
    from ..core import diagnostics

    checks = diagnostics.run_checks(ctx.service, args.id, args.host)
    if args.output != "table":
        emit([c.as_dict() for c in checks], args.output)
    else:
        for c in checks:
            print(f"{c.symbol} {c.title}: {c.verdict}" + (f" [{c.figure}]" if c.figure else ""))
            if c.hint and c.level != "ok":
                print(f"    → {c.hint}")
    return 1 if any(c.level == "fail" for c in checks) else 0
