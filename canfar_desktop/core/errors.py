"""Errors a person can meet: each one says what happened and what to do about it."""

from __future__ import annotations


class CanfarError(Exception):
    """Base of every user-facing failure; `message` says what happened, `hint` what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}: {self.hint}" if self.hint else self.message


class ValidationError(CanfarError):
    """Input that cannot be used as given (a name, an image reference, resources, KEY=VALUE)."""

    exit_code = 2


class LimitError(CanfarError):
    """The active-session limit or the host's capacity would be exceeded."""


class EngineUnavailable(CanfarError):
    """The Docker engine cannot be reached, or refused us."""

    exit_code = 3


class ImageError(CanfarError):
    """The image is missing and could not be pulled, or is not usable for the kind."""


class NotFound(CanfarError):
    """No session matches the id or name given."""

    exit_code = 4


class StateError(CanfarError):
    """The session is not in a state that allows the action (open a session that is not Running)."""


class LaunchError(CanfarError):
    """The container could not be created or started, or died before it was ready."""


class PortTaken(LaunchError):
    """The engine could not publish the session's port: something else on the host holds it."""


class Busy(CanfarError):
    """Someone else holds what is needed (another app changing the project list); it frees itself."""


class SettingsError(CanfarError):
    """The settings file could not be read or written."""
