"""The deployment's view of the workflow table: one entry per status, each with its queues.

Everything status-shaped in ``deploy/`` (the Helm chart's worker Deployments and KEDA scalers,
the CloudFormation queues, subscriptions, alarms and ECS worker services) is generated from
this list, which is generated from ``orders.domain.workflow.WORKFLOW``. Renderers take the list
as an argument, so a test can add a status and watch every artifact follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aws import resources
from orders.domain.workflow import WORKFLOW, StatusSpec


@dataclass(frozen=True)
class StatusQueue:
    status: str  # as in events' ``status`` attribute and the filter policy: "in_progress"
    description: str
    terminal: bool

    @property
    def slug(self) -> str:
        """The status in resource names (queues, Kubernetes objects, CloudFormation ids)."""
        return resources.status_slug(self.status)

    @property
    def logical_id(self) -> str:
        """CloudFormation logical-id fragment: "in_progress" -> "InProgress"."""
        return "".join(part.capitalize() for part in self.status.split("_"))

    def queue_name(self, prefix: str, fifo: bool = False) -> str:
        """Formatted by ``aws.resources``, as the running system names it."""
        return resources.queue_name(prefix, self.status, fifo)

    def dead_letter_queue_name(self, prefix: str, fifo: bool = False) -> str:
        return resources.dead_letter_queue_name(prefix, self.status, fifo)


def status_queues(workflow: Mapping[object, StatusSpec] | None = None) -> list[StatusQueue]:
    specs: Iterable[StatusSpec] = (workflow if workflow is not None else WORKFLOW).values()
    return [
        StatusQueue(status=str(spec.status), description=spec.description, terminal=spec.terminal)
        for spec in specs
    ]
