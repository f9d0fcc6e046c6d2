"""The order lifecycle as data: one table of statuses and the moves each actor may make.

Everything status-shaped is derived from this table — the SQS queues and their dead-letter
queues, the SNS subscriptions and filter policies, the worker per status and (later) the
deployment files. Adding a status is one entry here plus its handler in ``workers.handlers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import IllegalTransition


class ActorKind(StrEnum):
    SYSTEM = "system"  # a status worker
    INTEGRATOR = "integrator"  # another company's system, through the API
    STAFF = "staff"  # a person in the admin


class Status(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


SYSTEM = frozenset({ActorKind.SYSTEM})
PEOPLE = frozenset({ActorKind.INTEGRATOR, ActorKind.STAFF})


@dataclass(frozen=True)
class StatusSpec:
    status: Status
    description: str
    #: target status -> who may make that move
    moves: Mapping[Status, frozenset[ActorKind]] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return not self.moves


WORKFLOW: Mapping[Status, StatusSpec] = {
    spec.status: spec
    for spec in (
        StatusSpec(
            Status.RECEIVED,
            "Created by an integrator or staff; the received worker checks the business rules.",
            {
                Status.ACCEPTED: SYSTEM,
                Status.REJECTED: SYSTEM | {ActorKind.STAFF},
                Status.CANCELLED: PEOPLE,
            },
        ),
        StatusSpec(
            Status.ACCEPTED,
            "Passed the rules and has an SLA; the accepted worker assigns a team.",
            {Status.SCHEDULED: SYSTEM, Status.CANCELLED: PEOPLE},
        ),
        StatusSpec(
            Status.SCHEDULED,
            "A team is assigned; the integrator and the team are notified.",
            {Status.IN_PROGRESS: PEOPLE, Status.CANCELLED: PEOPLE},
        ),
        StatusSpec(
            Status.IN_PROGRESS,
            "Work has started on site.",
            {Status.COMPLETED: PEOPLE, Status.CANCELLED: PEOPLE},
        ),
        StatusSpec(Status.COMPLETED, "Work is finished; resolution time and SLA are recorded."),
        StatusSpec(Status.CANCELLED, "Withdrawn before completion; the team's capacity is freed."),
        StatusSpec(Status.REJECTED, "Failed the business rules, with a reason."),
    )
}

INITIAL_STATUS = Status.RECEIVED
STATUSES: tuple[Status, ...] = tuple(WORKFLOW)
TERMINAL_STATUSES = frozenset(s for s, spec in WORKFLOW.items() if spec.terminal)
OPEN_STATUSES = frozenset(STATUSES) - TERMINAL_STATUSES
#: Moves that must say why.
REASON_REQUIRED = frozenset({Status.REJECTED})


def allowed_moves(from_status: str, actor_kind: str) -> list[Status]:
    """Statuses this actor may move an order to from ``from_status``, in table order."""
    spec = WORKFLOW[Status(from_status)]
    return [to for to, actors in spec.moves.items() if ActorKind(actor_kind) in actors]


def check_move(from_status: str, to_status: str, actor_kind: str) -> None:
    """Raise :class:`IllegalTransition` unless the table allows the move for this actor."""
    allowed = allowed_moves(from_status, actor_kind)
    if to_status not in allowed:
        raise IllegalTransition(
            from_status=str(from_status),
            to_status=str(to_status),
            actor_kind=str(actor_kind),
            allowed=[str(s) for s in allowed],
        )
