"""The plans' refusals, each one of the kernel's kinds so every adapter answers it the way it
answers its kind; ``maintenance.api.problems`` gives those that say more their own code."""

from __future__ import annotations

from kernel.errors import Conflict, DomainError, NotFound


class PlanNotFound(NotFound):
    def __init__(self, plan_id: str):
        self.plan_id = plan_id
        super().__init__(f"No maintenance plan of yours has the id {plan_id!r}.")


class StalePlan(DomainError):
    """The plan is no longer at the version the caller saw (``If-Match``, a form's version)."""

    def __init__(self, *, plan_id: str, expected_version: int, current_version: int):
        self.plan_id = plan_id
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"The plan changed: it is at version {current_version}, not {expected_version}. "
            "Read it again and repeat the change on what it says now."
        )


class PlanArchived(Conflict):
    def __init__(self, plan_id: str):
        self.plan_id = plan_id
        super().__init__("The plan is archived; restore it before changing it.")


class OccurrenceTaken(Conflict):
    """The occurrence already has its order (or was already skipped or passed)."""

    def __init__(self, message: str):
        super().__init__(message)
