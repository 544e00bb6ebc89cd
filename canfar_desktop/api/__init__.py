"""The CANFAR session API (Skaha v1) served over the same core as the app and the CLI.

The official `canfar` client and scripts written against CANFAR's Python API drive this
computer's sessions with `CANFAR_URL=http://127.0.0.1:PORT/skaha/v1` and `CANFAR_TOKEN=…`.
Importing this package is cheap: the HTTP stack (starlette, uvicorn) is imported only by
`app.py` and `server.py`, so `canfar-desktop ps` never pays for it.
"""

API_PATH = "/skaha/v1"
