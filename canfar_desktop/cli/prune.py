"""`prune PREFIX [KIND] [STATE]` with the canfar client's defaults and matching.

As in the client: KIND defaults to headless and STATE to Completed (finished batch jobs are what
people prune), and PREFIX is a literal prefix unless it has a regular-expression character, then
it is searched as a regular expression. `any` stands for every kind or every state.
"""

from __future__ import annotations

import argparse
import sys

from ..core.errors import ValidationError
from ..core.housekeeping import matching
from ..core.kinds import ALL_KINDS
from ..core.lifecycle import State, parse_state
from .context import Context, delete_confirmed, sessions

DEFAULT_KIND = "headless"
DEFAULT_STATE = State.TERMINATED  # the client's Succeeded / Completed
ANY = ("any", "all", "*")


def criteria(kind_word: str | None, state_word: str | None) -> tuple[str | None, State | None]:
    """(kind or None for any, state or None for any); a state in the kind's place is understood."""
    kind: str | None = DEFAULT_KIND
    state: State | None = DEFAULT_STATE
    if kind_word is not None:
        word = kind_word.lower()
        if word in ANY:
            kind = None
        elif word in ALL_KINDS:
            kind = word
        else:
            try:
                state = parse_state(kind_word)
            except ValidationError:
                raise ValidationError(f"Unknown session kind {kind_word!r}",
                                      f"choose one of: {', '.join(ALL_KINDS)}, or any") from None
            if state_word is not None:
                raise ValidationError(f"{kind_word!r} is a state, not a kind", "write prune PREFIX KIND STATE")
    if state_word is not None:
        state = None if state_word.lower() in ANY else parse_state(state_word)
    return kind, state


def cmd_prune(ctx: Context, args: argparse.Namespace) -> int:
    kind, state = criteria(args.kind, args.state)
    chosen = matching(sessions(ctx, args.host), args.prefix, kind, state)
    if not chosen:
        print("No sessions match.")
        if args.kind is None or args.state is None:
            print(f"(looked for {kind or 'any kind'} sessions, {state.value if state else 'any state'}; "
                  "give KIND and STATE, or any)", file=sys.stderr)
        return 0
    return delete_confirmed(ctx, chosen, f"Delete {len(chosen)} session(s): {', '.join(s.id for s in chosen)}?",
                            args.force)
