"""How a batch (headless) job reads on its card: its command, how long it ran, Completed, Run again.

A job has no page to open; what a person wants from its card is what it ran, whether it finished
well, its output (the Logs button) and a way to run the same command again without retyping it.
"""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import TYPE_CHECKING

from ..core.formats import human_duration as duration
from ..core.lifecycle import State
from ..core.session import Session
from . import icons
from .card_parts import made, show_part

if TYPE_CHECKING:
    from .cards import SessionCard

FINISHED = (State.TERMINATED, State.FAILED, State.EXPIRED)
COMPLETED_COLOUR = "#2f855a"


def readable(command: tuple[str, ...]) -> str:
    """The command as a person would type it; quotes only where a part has spaces (the tooltip is exact)."""
    def one(part: str) -> str:
        if part and not any(c.isspace() for c in part):
            return part
        return f'"{part}"' if '"' not in part else shlex.quote(part)

    return " ".join(one(part) for part in command)


def job_meta(s: Session, now: datetime) -> str:
    """`python3 -c …` · ran 4 s (or running for 4 s)."""
    parts = [readable(s.command) if s.command else "the image's own command"]
    if s.started_at is not None:
        if s.state in FINISHED and s.finished_at is not None and s.finished_at >= s.started_at:
            parts.append(f"ran {duration((s.finished_at - s.started_at).total_seconds())}")
        elif s.active:
            parts.append(f"running for {duration(max(0.0, (now - s.started_at).total_seconds()))}")
    return " · ".join(parts)


def present(card: SessionCard, s: Session, now: datetime) -> None:
    """Turn a session card into a job card: the command in place of the resources, Run again once done."""
    card.meta.setText(job_meta(s, now))
    card.meta.setToolTip(shlex.join(s.command) if s.command else "")
    if s.state == State.TERMINATED:
        card.show_badge("Completed", COMPLETED_COLOUR)
        card.badge.setAccessibleName("State: Completed")
    done = s.state in FINISHED
    if done or made(card, "retry_button"):  # a running job's card makes none
        card.retry_button.setText("Run again")
        card.retry_button.setIcon(icons.icon("refresh"))
        card.retry_button.setToolTip("Run the same command again as a new job, with the same image and resources")
        card.retry_button.setAccessibleName("Run the job again")
    show_part(card, "retry_button", done)
    card.setAccessibleName(f"Headless job {s.name}, {'Completed' if s.state == State.TERMINATED else s.state.value}")
