"""The pipeline page and the dead letters in the admin.

They hang under the orders' section (``WorkOrderAdmin`` mixes this in), so the orders'
permissions govern them: viewing orders shows the pipeline, moving orders allows a redrive.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from operations.selectors import StatusHealth
from operations.services import recent_actions, redrive
from orders.domain.workflow import STATUSES
from portal.container import pipeline_health, status_queues, throughput

#: Orders counted per status before the page says "1000+".
COUNT_CAP = 1000
#: How many dead letters the page may list (looked at in place, ten per receive).
DEAD_LETTERS_SHOWN = (50, 200, 500)


class PipelinePagesMixin:
    """For a ModelAdmin with ``context()``, ``can_move()`` and the view permission."""

    def pipeline_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("pipeline/", wrap(self.health_view), name="orders_workorder_pipeline"),
            path(
                "pipeline/<str:status>/dead-letters/",
                wrap(self.dead_letters_view),
                name="orders_workorder_dead_letters",
            ),
        ]

    def health_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        stuck_after = timedelta(minutes=settings.PIPELINE_STUCK_MINUTES)
        rows = pipeline_health().health(stuck_after=stuck_after, cap=COUNT_CAP)
        return TemplateResponse(
            request,
            "admin/operations/pipeline.html",
            self.context(
                request,
                title="Pipeline",
                rows=rows,
                stuck_minutes=settings.PIPELINE_STUCK_MINUTES,
                chart=status_chart(rows),
                recent=recent_actions(),
                throughput=throughput_chart(throughput().last_hour()),
            ),
        )

    def dead_letters_view(self, request: HttpRequest, status: str) -> HttpResponse:
        if status not in {str(s) for s in STATUSES}:
            raise Http404("No such status.")
        queues = status_queues()
        here = reverse("admin:orders_workorder_dead_letters", args=[status])
        if request.method == "POST":
            if not self.can_move(request):
                raise PermissionDenied
            message_id = request.POST.get("message_id") or None
            moved = redrive(queues, status, by=request.user.get_username(), message_id=message_id)
            messages.success(request, f"Sent {moved} dead letter(s) back to the {status} queue.")
            return HttpResponseRedirect(here)
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
                title=f"Dead letters: {status}",
                status=status,
                letters=letters,
                total=max(total, len(letters)),
                more=[n for n in DEAD_LETTERS_SHOWN if n > shown and total > shown],
                queue=queue,
                audit=recent_actions(target=queue),
            ),
        )


def status_chart(rows: list[StatusHealth]) -> dict:
    """A bar per status (orders, and dead letters in red), drawn by the template as SVG."""
    top = max([r.orders for r in rows] + [r.dead_letters for r in rows] + [1])
    bars = []
    for i, row in enumerate(rows):
        height = round(120 * row.orders / top)
        dead = round(120 * row.dead_letters / top)
        bars.append(
            {
                "x": 40 + i * 70,
                "height": height,
                "y": 140 - height,
                "dead_height": dead,
                "dead_y": 140 - dead,
                "label": row.status,
                "orders": row.orders,
                "dead": row.dead_letters,
            }
        )
    return {"bars": bars, "width": 50 + len(rows) * 70, "top": top, "axis_end": 40 + len(rows) * 70}


def throughput_chart(series: list[tuple[str, dict[str, int]]]) -> dict:
    """Moves per minute over the last hour: a bar per minute, completions darker."""
    top = max([sum(counts.values()) for _, counts in series] + [1])
    bars = []
    for i, (minute, counts) in enumerate(series):
        total = sum(counts.values())
        height = round(100 * total / top)
        done = round(100 * counts.get("completed", 0) / top)
        bars.append(
            {
                "x": 30 + i * 9,
                "y": 110 - height,
                "height": height,
                "done_y": 110 - done,
                "done_height": done,
                "minute": minute[11:],
                "total": total,
                "detail": ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none",
            }
        )
    return {
        "bars": bars,
        "top": top,
        "total": sum(b["total"] for b in bars),
        "first": series[0][0][11:],
        "last": series[-1][0][11:],
    }
