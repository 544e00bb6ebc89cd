"""The HTTP side: routes of the Skaha v1 API, the bearer-token check, errors as the platform answers them.

Starlette rather than a larger framework: the API is nine routes of plain text and JSON whose
shapes are fixed by the platform, so request parsing, routing and an ASGI app are all it needs
(no schema layer, no form-parsing extra; the form body is read with the standard library).
Handlers block (the Docker SDK does), so each request runs its work on a worker thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.errors import CanfarError, EngineUnavailable, LaunchError, NotFound
from . import API_PATH
from .handlers import Reply, SkahaApi, text_reply
from .params import ApiError, Params
from .token import TokenStore

log = logging.getLogger("canfar_desktop.api")
Work = Callable[[], Reply]


def error_reply(exc: Exception) -> Reply:
    """A failure as the platform answers it: a status and one line of text."""
    if isinstance(exc, ApiError):
        return text_reply(exc.text.rstrip("\n") + "\n", exc.status)
    if isinstance(exc, NotFound):
        return text_reply(f"{exc}\n", 404)
    if isinstance(exc, EngineUnavailable):
        return text_reply(f"{exc}\n", 503)
    if isinstance(exc, LaunchError):
        return text_reply(f"{exc}\n", 500)
    if isinstance(exc, CanfarError):
        return text_reply(f"{exc}\n", 400)
    log.exception("unexpected error")
    return text_reply(f"Unexpected {type(exc).__name__}; run the server with CANFAR_DESKTOP_DEBUG=1 and report it\n",
                      500)


def run_work(work: Work) -> Reply:
    try:
        return work()
    except Exception as exc:  # noqa: BLE001 - every failure becomes an answer, never a dropped connection
        return error_reply(exc)


async def read_params(request: Request) -> dict[str, list[str]]:
    """Query-string parameters and, for a form body, its fields: every value of each, in order."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    kind = request.headers.get("content-type", "")
    if request.method in ("POST", "PUT", "DELETE") and kind.startswith("application/x-www-form-urlencoded"):
        body = (await request.body()).decode("utf-8", errors="replace")
        for key, value in parse_qsl(body, keep_blank_values=True):
            params.setdefault(key, []).append(value)
    return params


def bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


UNAUTHENTICATED = ("Not authenticated: send the API token as 'Authorization: Bearer TOKEN' "
                   "(canfar-desktop api --show-token prints it)\n")


def build_app(api: SkahaApi, tokens: TokenStore) -> Starlette:
    def endpoint(make: Callable[[Request, Params], Work]) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            started = time.monotonic()
            reply: Reply
            try:
                allowed = await anyio.to_thread.run_sync(tokens.matches, bearer(request))
            except CanfarError as exc:
                allowed, reply = False, error_reply(exc)
            else:
                reply = text_reply(UNAUTHENTICATED, 401)
            if allowed:
                params = await read_params(request)
                reply = await anyio.to_thread.run_sync(run_work, make(request, params))
            # The path only: query strings can carry environment values a person passed to a session.
            log.info("%s %s %d %.0f ms", request.method, request.url.path, reply.status,
                     (time.monotonic() - started) * 1000)
            headers = {"WWW-Authenticate": "Bearer"} if reply.status == 401 else None
            return Response(reply.body, status_code=reply.status, media_type=reply.content_type, headers=headers)

        return handle

    def sid(request: Request) -> str:
        return str(request.path_params["session_id"])

    base = API_PATH
    routes = [
        Route(f"{base}/session", endpoint(lambda r, p: partial(api.list_sessions, p)), methods=["GET"]),
        Route(f"{base}/session", endpoint(lambda r, p: partial(api.create, p)), methods=["POST"]),
        Route(f"{base}/session/{{session_id}}", endpoint(lambda r, p: partial(api.session, sid(r), p)),
              methods=["GET"]),
        Route(f"{base}/session/{{session_id}}", endpoint(lambda r, p: partial(api.change, sid(r), p)),
              methods=["POST"]),
        Route(f"{base}/session/{{session_id}}", endpoint(lambda r, p: partial(api.delete, sid(r))),
              methods=["DELETE"]),
        Route(f"{base}/image", endpoint(lambda r, p: partial(api.images, p)), methods=["GET"]),
        Route(f"{base}/context", endpoint(lambda r, p: api.context), methods=["GET"]),
        Route(f"{base}/repository", endpoint(lambda r, p: api.repository), methods=["GET"]),
    ]
    return Starlette(routes=routes)
