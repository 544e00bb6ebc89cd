"""The user guide's sections as the Help menu shows them: CANFAR's interactive-sessions guide, told for
sessions that run on your own Docker hosts. Plain Markdown (QTextBrowser renders it), kept in Python so
every build of the app carries it."""

from __future__ import annotations

DOCS_URL = "https://opencadc.github.io/canfar/latest/"  # CANFAR's own documentation, as its client links it
SUPPORT_EMAIL = "support@canfar.net"

SECTIONS: list[tuple[str, str]] = [
    ("Session types", """
| Kind | What it is | Best for |
|---|---|---|
| **Notebook** | JupyterLab | analysis, code, plots, documentation |
| **Desktop** | a Linux desktop in the browser (noVNC) | GUI applications such as DS9 or TOPCAT |
| **CARTA** | the CARTA image viewer | FITS and HDF5 cubes, regions, catalogues |
| **Firefly** | the Firefly viewer | optical images, catalogue overlays |
| **Contributed** | a web application from an image | specialised tools |
| **Headless** | a batch job without a web page | scripts that run to the end (`create headless`) |

Each session is a container on the Docker host you choose: this computer, or a bigger machine
reached over SSH or TLS (Settings › Docker hosts).
"""),
    ("Launching and connecting", """
**New session** (Ctrl+N) asks for a kind, an image, a name and resources: *flexible* sessions
burst up to 8 cores and 32 GB as the host allows; *fixed* ones get exactly what they ask for.
**Recent** in the dialog and in the tray relaunches one of your last ten set-ups in one click, and
a pinned one stays as a preset.

The card follows the launch (pulling, creating, starting, waiting for the app), then the session
opens in a tab. Closing a tab leaves the session running (*Suspended*); click **Open** on the card to
reconnect. From a terminal: `canfar-desktop create notebook`, `canfar-desktop ps`,
`canfar-desktop open ID`.
"""),
    ("Managing sessions", """
- At most 3 active sessions (Settings › limits), each with a lifetime of 4 days; **Renew** starts the
  lifetime again, as often as you like. The app warns an hour and ten minutes before expiry.
- **Delete** ends a session: its `/scratch` is wiped, `/arc` stays.
- From a terminal, as with CANFAR's `canfar` client: `ps`, `info`, `logs`, `events`, `renew`,
  `delete`, `prune PREFIX [KIND] [STATE]` (finished headless jobs by default), `stats`,
  `create --replicas N` for N numbered sessions, `-o json` or `-o yaml` for scripts.
"""),
    ("Files and storage", """
| Path | What lives there |
|---|---|
| `/arc/home/<you>` | your files, kept across sessions (Settings › `/arc` folder) |
| `/arc/projects/<project>` | a project's shared folder: its group reads and writes, others cannot |
| `/scratch` | fast space of one session, wiped when it is deleted |

**Moving files**: drag files or folders onto a session's card, its tab or the dashboard to copy them
into `/arc/home/<you>` (progress and cancel below the cards), or from a terminal:
`canfar-desktop cp data.fits ID:/arc/home/<you>/` and back with
`canfar-desktop cp ID:/arc/home/<you>/result.fits .` It works the same for remote hosts.

**Projects**: `canfar-desktop project create NAME`, `project add-member NAME USER`, `project ls`.
Sessions you start afterwards carry the groups of your projects (`groups` shows them).
"""),
    ("Sharing a session", """
A session is reachable only from this computer unless you share it. **Share…** on a card makes it
reachable from other devices for the time you choose: over HTTPS with a certificate whose
fingerprint the dialog shows (compare it with what the other device's browser shows), and only with
the share link, which carries a secret of its own. Scan the QR code or send the link to yourself.
**Stop sharing** ends it at once and the link stops working; otherwise it ends by itself.
Share only with people you trust: whoever has the link can use the session as you.
"""),
    ("Troubleshooting", """
Open **Troubleshooting** (F12, or a card's Troubleshoot button). It checks what the guide's
troubleshooting asks you to check, with the figures measured:

- **Session won't start**: the reason is on the card; the logs and engine events say more.
- **Out of memory**: the card says *out of memory (limit …)*; launch with more memory (fixed).
- **Slow**: CPU throttled by the limit, host memory pressure or heavy I/O; move busy I/O to `/scratch`.
- **Cannot access files**: `/arc` permissions against the session's user and groups; for a project,
  ask a member to add you (`project add-member`), then start a new session.
- **Disk full**: the largest folders of `/arc` are listed.

`canfar-desktop doctor [ID]` runs the same checks in a terminal.
"""),
    ("Getting help", f"""
1. Look at the session's logs and the Troubleshooting panel's diagnosis.
2. **Help › Copy support report** puts the session's id, image, state history, errors, last log lines
   and host facts on the clipboard, with every secret removed.
3. Write to [{SUPPORT_EMAIL}](mailto:{SUPPORT_EMAIL}) with that report and the steps that led there.

CANFAR's own documentation: [{DOCS_URL}]({DOCS_URL})
"""),
]
