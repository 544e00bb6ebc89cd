"""`project create|add-member|remove-member|ls`: /arc/projects/<project> folders and their groups.

The groups live on each host beside /arc (core/projects.py); sessions started after a change carry
it (a running session keeps the groups it started with).
"""

from __future__ import annotations

import argparse

from ..core.errors import ValidationError
from .context import Context
from .output import emit, table


def cmd_project(ctx: Context, args: argparse.Namespace) -> int:
    store = ctx.service.projects(args.host)
    host = ctx.service.host_config(args.host).name
    if args.action == "ls":
        projects = store.all()
        me = ctx.settings.user
        if args.output != "table":
            emit([{"name": p.name, "gid": p.gid, "members": list(p.members), "folder": p.folder, "host": host,
                   "member": me in p.members} for p in projects], args.output)
        elif projects:
            table([[p.name + (" *" if me in p.members else ""), str(p.gid), ", ".join(p.members), p.folder]
                   for p in projects], ["PROJECT", "GID", "MEMBERS", "FOLDER"])
        else:
            print(f"No projects on {host}. Make one with: canfar-desktop project create NAME")
        return 0
    if not args.name:
        raise ValidationError(f"project {args.action} needs a project NAME", f"e.g. canfar-desktop project {args.action} "
                              + ("survey" if args.action == "create" else "survey USER"))
    if args.action == "create":
        p = store.create(args.name)
        print(f"{p.folder} created on {host}: group {p.name} ({p.gid}), members {', '.join(p.members)}")
        print("Sessions you start from now on carry this group.")
        return 0
    if not args.user:
        raise ValidationError(f"project {args.action} needs a USER", f"e.g. canfar-desktop project {args.action} "
                              f"{args.name} bob")
    change = store.add_member if args.action == "add-member" else store.remove_member
    p = change(args.name, args.user)
    print(f"{p.name} on {host}: members {', '.join(p.members)}")
    print(f"{args.user}'s sessions started from now on carry the change.")
    return 0
