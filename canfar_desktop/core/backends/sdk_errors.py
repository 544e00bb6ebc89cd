"""The Docker SDK's failures as the app's errors, for the SDK-based hosts (docker_engine, archive,
docker_remote), and its streams, whose read failures become them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import docker.errors
import requests.exceptions

from ..errors import CanfarError, EngineUnavailable


def engine_error(exc: Exception, where: str) -> CanfarError:
    """A Docker or connection failure as something a person can act on."""
    text = str(exc)
    if isinstance(exc, CanfarError):
        return exc
    if "Permission denied" in text or "PermissionError" in text:
        return EngineUnavailable(
            f"Not allowed to use the Docker engine at {where}",
            "add yourself to the docker group (sudo usermod -aG docker $USER) and log in again",
        )
    if any(s in text for s in ("No such file", "Connection refused", "ConnectionRefused", "FileNotFoundError")):
        return EngineUnavailable(
            f"Docker is not running at {where}",
            "start Docker Desktop or the engine (sudo systemctl start docker), then retry",
        )
    if isinstance(exc, (requests.exceptions.Timeout, TimeoutError)) or "timed out" in text.lower():
        return EngineUnavailable(
            f"The Docker engine at {where} did not answer in time",
            "check the host is up and not overloaded, then retry",
        )
    if "certificate" in text.lower() or "SSL" in text:
        return EngineUnavailable(
            f"TLS verification with {where} failed ({first_line(text)})",
            "check the CA, client certificate and key configured for this host",
        )
    if "Authentication failed" in text or ("auth" in text.lower() and "ssh" in where):
        return EngineUnavailable(
            f"SSH authentication to {where} failed", "check your SSH key and ~/.ssh/config for this host"
        )
    return EngineUnavailable(f"The Docker engine at {where} failed: {first_line(text)}", "run canfar-desktop doctor")


def first_line(text: str) -> str:
    """An engine's message cut to its first line, for one-line errors."""
    return (text.strip().splitlines() or ["unknown error"])[0][:300]


class EngineStream:
    """An SDK stream (events, logs, stats) whose failures while reading become EngineUnavailable
    and which another thread can close to end a blocked read."""

    def __init__(self, where: str, raw: Any) -> None:
        self._where = where
        self._raw = raw

    def __iter__(self) -> Iterator[Any]:
        # not `yield from`: closing this generator must not close the SDK's stream (over SSH that raises)
        records = iter(self._raw)
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except (docker.errors.DockerException, requests.exceptions.RequestException, OSError, ValueError) as exc:
                raise engine_error(exc, self._where) from None
            yield record

    def close(self) -> None:
        close = getattr(self._raw, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - a dead stream may fail to close in many ways
                pass
