"""How sizes and durations read, the same in the CLI and the app."""

from __future__ import annotations


def human_bytes(value: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB", "MB") else f"{value:.1f} {unit}".replace(".0 ", " ")
        value /= 1024
    return f"{value} B"


def human_duration(seconds: float) -> str:
    """A short human duration, as the CLI and the app both show it: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"
