"""The refusals every context shares: each context's own errors subclass these, and the API
kit (``apikit.problems``) and the admin map them to a response by kind, not by name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class DomainError(Exception):
    """Base of every error a caller can act on (adapters turn them into 4xx responses)."""


class ValidationError(DomainError):
    """Input breaks a rule; ``errors`` maps each field to its problems."""

    def __init__(self, errors: Mapping[str, Iterable[str]]):
        self.errors = {field: list(problems) for field, problems in errors.items()}
        super().__init__("; ".join(f"{f}: {', '.join(p)}" for f, p in self.errors.items()))


class NotFound(DomainError):
    """The thing asked for does not exist (or is not the caller's to see)."""


class Conflict(DomainError):
    """The request cannot be applied to the thing as it stands now."""


class InvalidCursor(DomainError):
    """A pagination cursor that this deployment did not issue, or for another listing."""


class PermissionDenied(DomainError):
    """This kind of actor may not make this change (integrators cannot add internal notes,
    only staff book visits...)."""
