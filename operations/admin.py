"""The pipeline page and the dead letters in the admin.

Operations registers them with the staff site itself (``PortalAdminSite.register_pages``);
the orders' permissions govern them: viewing orders shows the pipeline, moving orders allows
a redrive or a discard. Both pages speak as staff do: status labels, times in the staff
member's zone (``portal.staff_timezone``), a failure's reason and an audit entry in words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from aws.queues import SQS_MOVED_IT, DeadLetter
from aws.resources import Resources
from operations.models import AuditEntry, plural
from operations.selectors import StatusHealth
from operations.services import discard, recent_actions, redrive
from orders.domain.labels import event_label, status_label
from orders.domain.workflow import STATUSES
from portal.container import pipeline_health, status_queues, throughput

#: Orders counted per status before the page says "1000+".
COUNT_CAP = 1000
#: How many dead letters the page may list (looked at in place, ten per receive).
DEAD_LETTERS_SHOWN = (50, 200, 500)
#: What the dead-letter page's buttons may ask for (a form without ``action`` redrives).
DEAD_LETTER_ACTIONS = {AuditEntry.REDRIVE: redrive, AuditEntry.DISCARD: discard}


#: Staff who may see orders see the pipeline; staff who may move orders act on dead letters.
VIEW_PERMISSION = "orders.view_workorder"
ACT_PERMISSION = "orders.move_workorder"


class PipelinePages:
    """The pipeline page and each status's dead letters, as pages of the staff site."""

    def __init__(self, site: AdminSite):
        self.admin_site = site

    def urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("operations/pipeline/", wrap(self.health_view), name="operations_pipeline"),
            path(
                "operations/pipeline/<str:status>/dead-letters/",
                wrap(self.dead_letters_view),
                name="operations_dead_letters",
            ),
        ]

    def has_view_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(VIEW_PERMISSION)

    def can_move(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ACT_PERMISSION)

    def context(self, request: HttpRequest, **extra: object) -> dict:
        return {
            **self.admin_site.each_context(request),
            "has_view_permission": self.has_view_permission(request),
            "can_move": self.can_move(request),
            **extra,
        }

    def health_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        stuck_after = timedelta(minutes=settings.PIPELINE_STUCK_MINUTES)
        health = pipeline_health()
        rows = health.health(stuck_after=stuck_after, cap=COUNT_CAP)
        return TemplateResponse(
            request,
            "admin/operations/pipeline.html",
            self.context(
                request,
                title="Pipeline",
                rows=rows,
                stuck_minutes=settings.PIPELINE_STUCK_MINUTES,
                chart=status_chart(rows),
                recent=staff_actions(recent_actions(), health.resources),
                throughput=throughput_chart(throughput().last_hour()),
            ),
        )

    def dead_letters_view(self, request: HttpRequest, status: str) -> HttpResponse:
        if status not in {str(s) for s in STATUSES}:
            raise Http404("No such status.")
        queues = status_queues()
        if request.method == "POST":
            if not self.can_move(request):
                raise PermissionDenied
            return self._act_on_dead_letters(request, queues, status)
        if not self.has_view_permission(request):
            raise PermissionDenied
        queue = queues.resources.dead_letter_queue_name(status)
        shown = DEAD_LETTERS_SHOWN[0]
        if request.GET.get("show", "").isdigit() and int(request.GET["show"]) in DEAD_LETTERS_SHOWN:
            shown = int(request.GET["show"])
        letters = queues.dead_letters(status, limit=shown)
        total, _ = queues.depth(queue)
        return TemplateResponse(
            request,
            "admin/operations/dead_letters.html",
            self.context(
                request,
                title=f"Dead letters: {status_label(status)}",
                status=status,
                letters=letters,
                rows=[letter_row(letter) for letter in letters],
                total=max(total, len(letters)),
                more=[n for n in DEAD_LETTERS_SHOWN if n > shown and total > shown],
                queue=queue,
                audit=staff_actions(recent_actions(target=queue), queues.resources),
            ),
        )

    def _act_on_dead_letters(self, request: HttpRequest, queues, status: str) -> HttpResponse:
        """Redrive or discard (one, or all) as the signed-in staff member, then back to the
        page with what happened in words."""
        action = request.POST.get("action") or AuditEntry.REDRIVE
        if action not in DEAD_LETTER_ACTIONS:
            return HttpResponseBadRequest("Unknown action.")
        message_id = request.POST.get("message_id") or None
        done = DEAD_LETTER_ACTIONS[action](
            queues, status, by=request.user.get_username(), message_id=message_id
        )
        # Mid-sentence the label reads in lower case, as in "the in progress queue".
        queue = f"the {status_label(status).lower()} queue"
        if not done:
            gone = "That dead letter was" if message_id else "The dead letters were"
            messages.warning(
                request, f"{gone} no longer there: sent back or discarded in the meantime."
            )
        elif action == AuditEntry.REDRIVE:
            messages.success(request, f"Sent {plural(done, 'dead letter')} back to {queue}.")
        else:
            messages.success(
                request, f"Discarded {plural(done, 'dead letter')} from {queue}, for good."
            )
        return HttpResponseRedirect(reverse("admin:operations_dead_letters", args=[status]))


# -- what the pages show ------------------------------------------------------------------


@dataclass(frozen=True)
class StaffAction:
    """An audit entry as the pages show it: when (an aware time, shown in the staff member's
    zone), who, what in words, and which status's dead letters, if it was about them."""

    at: datetime
    user: str
    what: str
    status: str | None
    message_id: str
    #: How the queue follows ``what``: "sent 2 dead letters back *to* the received queue".
    preposition: str = "on"


def staff_actions(entries: Iterable[AuditEntry], resources: Resources) -> list[StaffAction]:
    """The entries in words; a dead-letter queue's name becomes its status (for its label)."""
    by_queue = {resources.dead_letter_queue_name(s): str(s) for s in STATUSES}
    return [
        StaffAction(
            at=entry.at,
            user=entry.user,
            what=entry.summary,
            status=by_queue.get(entry.target),
            message_id=entry.message_id,
            preposition=(
                {AuditEntry.REDRIVE: "to", AuditEntry.DISCARD: "from"}.get(entry.action, "on")
                if entry.count
                else "on"
            ),
        )
        for entry in entries
    ]


@dataclass(frozen=True)
class Reason:
    """Why a message failed: a short summary in words, and the worker's detail, if any."""

    summary: str
    detail: str = ""


_STATUS_SLUGS = "|".join(sorted((re.escape(str(s)) for s in STATUSES), key=len, reverse=True))
_QUOTED_STATUS = re.compile(rf"'({_STATUS_SLUGS})'")
_WRONG_QUEUE = re.compile(r"^event for status '(\w+)' on the '(\w+)' queue$")
_NO_ORDER = re.compile(r"^order '([^']*)' does not exist$")
_FAILED_TIMES = re.compile(r"^failed (\d+) times, last: (.*)$", re.S)
#: The worker's permanent failures (``workers.tasks``): their start, and what it means.
_KNOWN = {
    "not a valid order event: ": "Not a valid order event",
    "event does not match the stored order: ": "Does not match the stored order",
}


def readable_reason(reason: str) -> Reason:
    """The worker's reason (``workers.tasks``) as staff read it: what went wrong first, the
    technical detail after it, statuses by their labels."""
    reason = reason.strip()
    if found := _WRONG_QUEUE.match(reason):
        belongs, came = (status_label(s) for s in found.groups())
        return Reason(
            "Event on the wrong queue",
            f"It belongs on the {belongs} queue, not the {came} queue.",
        )
    if found := _NO_ORDER.match(reason):
        return Reason("The order does not exist", f"Order {found[1]}")
    if found := _FAILED_TIMES.match(reason):
        return Reason(f"Failed {found[1]} times", f"Last error: {_labelled(found[2])}")
    if reason == SQS_MOVED_IT:
        return Reason(
            "Moved here by SQS after too many deliveries",
            "The worker never finished with it: it may have stopped in the middle of it.",
        )
    for start, summary in _KNOWN.items():
        if reason.startswith(start):
            return Reason(summary, _upper_first(_labelled(reason.removeprefix(start))))
    head, _, tail = reason.partition(": ")
    return Reason(_upper_first(_labelled(head)) or "No reason given", _upper_first(_labelled(tail)))


def _labelled(text: str) -> str:
    """'in_progress' (quoted, as the worker writes statuses) becomes “In progress”."""
    return _QUOTED_STATUS.sub(lambda m: f"“{status_label(m[1])}”", text)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class LetterRow:
    """A dead letter as the page lists it: when it failed, why in words, and what it is about
    (an event's kind and order, when the body is one of ours; the raw body stays below)."""

    letter: DeadLetter
    failed_at: datetime | None
    reason: Reason
    event: str
    order_id: str

    @property
    def age(self) -> timedelta | None:
        """How long ago it failed ("12 min"), never negative whatever the clocks say."""
        if self.failed_at is None:
            return None
        return max(timedelta(0), datetime.now(UTC) - self.failed_at)


def letter_row(letter: DeadLetter) -> LetterRow:
    try:
        failed_at: datetime | None = datetime.fromisoformat(letter.failed_at.replace("Z", "+00:00"))
    except ValueError:
        failed_at = letter.sent_at  # moved by SQS: no failure stamp of ours
    if failed_at is not None and failed_at.tzinfo is None:
        failed_at = failed_at.replace(tzinfo=UTC)  # the worker stamps UTC
    event, order_id = "", ""
    try:
        doc = json.loads(letter.body)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        if isinstance(doc.get("type"), str):
            event = event_label(doc["type"])
        if isinstance(doc.get("subject"), str) and _ORDER_ID.fullmatch(doc["subject"]):
            order_id = doc["subject"]  # linked to its page: only what can be one of our ids
    return LetterRow(letter, failed_at, readable_reason(letter.reason), event, order_id)


def status_chart(rows: list[StatusHealth]) -> dict:
    """A bar per status (orders, and dead letters in red), drawn by the template as SVG."""
    top = max([r.orders for r in rows] + [r.dead_letters for r in rows] + [1])
    bars = []
    for i, row in enumerate(rows):
        height = round(120 * row.orders / top)
        dead = round(120 * row.dead_letters / top)
        bars.append(
            {
                "x": 40 + i * 80,
                "height": height,
                "y": 140 - height,
                "dead_height": dead,
                "dead_y": 140 - dead,
                "status": row.status,
                "label": status_label(row.status),
                "orders": row.orders,
                "dead": row.dead_letters,
            }
        )
    return {"bars": bars, "width": 50 + len(rows) * 80, "top": top, "axis_end": 40 + len(rows) * 80}


#: The throughput chart's geometry: where the first bar starts and how far apart bars are.
THROUGHPUT_X, THROUGHPUT_STEP = 30, 9
#: Minutes between the time axis' marks, and how close (in bars) a mark may come to an end.
TICK_MINUTES, TICK_CLEARANCE = 15, 6


def throughput_chart(series: list[tuple[str, dict[str, int]]]) -> dict:
    """Moves per minute over the last hour: a bar per minute, completions darker. The minutes
    come as UTC strings (``2026-11-26T23:59``); the axis shows them in the staff member's zone
    (the active one), with its abbreviation, like every other time in the admin."""
    top = max([sum(counts.values()) for _, counts in series] + [1])
    order = {str(s): n for n, s in enumerate(STATUSES)}
    bars = []
    for i, (minute, counts) in enumerate(series):
        at = timezone.localtime(datetime.strptime(minute, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC))
        total = sum(counts.values())
        height = round(100 * total / top)
        done = round(100 * counts.get("completed", 0) / top)
        moves = sorted(counts.items(), key=lambda item: order.get(item[0], len(order)))
        bars.append(
            {
                "x": THROUGHPUT_X + i * THROUGHPUT_STEP,
                "y": 110 - height,
                "height": height,
                "done_y": 110 - done,
                "done_height": done,
                "minute": f"{at:%H:%M} {at.tzname()}",
                "at": at,
                "total": total,
                "detail": ", ".join(f"{status_label(k)} {v}" for k, v in moves) or "none",
            }
        )
    ticks = [
        {"x": bar["x"], "text": f"{bar['at']:%H:%M}"}
        for i, bar in enumerate(bars)
        if bar["at"].minute % TICK_MINUTES == 0 and TICK_CLEARANCE <= i < len(bars) - TICK_CLEARANCE
    ]
    return {
        "bars": bars,
        "top": top,
        "total": sum(b["total"] for b in bars),
        "first": bars[0]["minute"] if bars else "",
        "last": bars[-1]["minute"] if bars else "",
        "ticks": ticks,
        "zone": bars[-1]["at"].tzname() if bars else "",
    }


admin.site.register_pages(lambda site: PipelinePages(site).urls())
