"""The order lifecycle as data: one table of statuses and the moves each actor may make.

Everything status-shaped is derived from this table — the SQS queues and their dead-letter
queues, the SNS subscriptions and filter policies, the worker per status and (later) the
deployment files. Adding a status is one entry here plus its step in ``orders.services.pipeline``.
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
    ON_HOLD = "on_hold"


class StatusCategory(StrEnum):
    """What a status means for the SLA clock: it runs in ``open`` statuses, stops in
    ``paused`` ones (waiting for parts, access, the customer) and is over in ``done`` ones."""

    OPEN = "open"
    PAUSED = "paused"
    DONE = "done"


SYSTEM = frozenset({ActorKind.SYSTEM})
PEOPLE = frozenset({ActorKind.INTEGRATOR, ActorKind.STAFF})
STAFF = frozenset({ActorKind.STAFF})


@dataclass(frozen=True)
class StatusSpec:
    status: Status
    description: str
    #: target status -> who may make that move
    moves: Mapping[Status, frozenset[ActorKind]] = field(default_factory=dict)
    category: StatusCategory = StatusCategory.OPEN

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
            {Status.IN_PROGRESS: PEOPLE, Status.ON_HOLD: STAFF, Status.CANCELLED: PEOPLE},
        ),
        StatusSpec(
            Status.IN_PROGRESS,
            "Work has started on site.",
            {Status.COMPLETED: PEOPLE, Status.ON_HOLD: STAFF, Status.CANCELLED: PEOPLE},
        ),
        StatusSpec(
            Status.ON_HOLD,
            "Waiting for parts, access or the customer, with a reason; the SLA clock is stopped "
            "until staff resume it, back to the status it was held from.",
            {Status.SCHEDULED: STAFF, Status.IN_PROGRESS: STAFF, Status.CANCELLED: PEOPLE},
            category=StatusCategory.PAUSED,
        ),
        StatusSpec(
            Status.COMPLETED,
            "Work is finished; resolution time and SLA are recorded.",
            category=StatusCategory.DONE,
        ),
        StatusSpec(
            Status.CANCELLED,
            "Withdrawn before completion; the team's capacity is freed.",
            category=StatusCategory.DONE,
        ),
        StatusSpec(
            Status.REJECTED,
            "Failed the business rules, with a reason.",
            category=StatusCategory.DONE,
        ),
    )
}

INITIAL_STATUS = Status.RECEIVED
STATUSES: tuple[Status, ...] = tuple(WORKFLOW)
TERMINAL_STATUSES = frozenset(s for s, spec in WORKFLOW.items() if spec.terminal)
OPEN_STATUSES = frozenset(STATUSES) - TERMINAL_STATUSES
PAUSED_STATUSES = frozenset(
    s for s, spec in WORKFLOW.items() if spec.category is StatusCategory.PAUSED
)
#: Moves that must say why.
REASON_REQUIRED = frozenset({Status.REJECTED, *PAUSED_STATUSES})


def category_of(status: str) -> StatusCategory:
    return WORKFLOW[Status(status)].category


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
