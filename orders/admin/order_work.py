"""The work on one order in the admin: its timeline, notes, files, holds, technician, visit.

A mixin of :class:`orders.admin.work_orders.WorkOrderAdmin`: these views only parse the forms of
``orders.admin.work_forms`` and call the same services as the API, as ``staff:<username>``.
Files go from the browser straight to S3 with a presigned POST (``orders/static/orders/
attach.js`` asks :meth:`upload_sign_view` for the form); S3 sends the browser back to
:meth:`upload_finish_view`, whose page POSTs (with its CSRF token) to record the attachment.
Nothing passes through this process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse

from orders.admin.work_forms import (
    HoldForm,
    NoteForm,
    TechnicianForm,
    UploadForm,
    VersionForm,
    VisitForm,
)
from orders.attachments import UploadMissing, UploadNotFound, upload_in_key
from orders.domain import errors, labels, rules
from orders.domain.model import (
    Actor,
    Attachment,
    EventType,
    HistoryEntry,
    Note,
    Order,
    entry_event_type,
)
from orders.domain.workflow import Status
from orders.models import Technician
from portal.container import attachment_service, order_selector, order_services

MOVE_PERMISSION = "orders.move_workorder"
#: History entries the timeline shows through the note or file itself.
SHOWN_AS_ITEMS = {EventType.NOTE_ADDED, EventType.ATTACHMENT_ADDED}
#: Why a form from a page older than the order did nothing.
CHANGED_SINCE_OPENED = (
    "someone changed this order since you opened it. Here it is as it is now; check it and "
    "try again."
)
#: The work on an order the page offers, as ``rules.open_work`` names it.
WORK_ACTIONS = ("hold", "resume", "technician", "visit", "check_in", "check_out")
#: The actions with nothing to fill in: the use case (its family in ``OrderServices`` and its
#: method), what a refusal starts with, and what success says.
SIMPLE_ACTIONS: dict[str, tuple[tuple[str, str], str, Callable[[Order], str]]] = {
    "resume": (
        ("intake", "resume_order"),
        "Not resumed",
        lambda order: (
            f"Resumed: back to {labels.status_label(order.status).lower()}; "
            "the SLA clock runs again."
        ),
    ),
    "check_in": (
        ("field_work", "check_in"),
        "Not checked in",
        lambda order: f"Checked in; the order is {labels.status_label(order.status).lower()}.",
    ),
    "check_out": (
        ("field_work", "check_out"),
        "Not checked out",
        lambda order: "Checked out: the visit is recorded.",
    ),
}


def staff_actor(request: HttpRequest) -> Actor:
    return Actor.staff(request.user.get_username())


def staff_name(request: HttpRequest) -> str:
    user = request.user
    return user.get_full_name() or user.get_username()


@dataclass(frozen=True)
class TimelineItem:
    """One line of an order's timeline: a move or change, a note, or a file."""

    at: datetime
    kind: str  # "entry", "note" or "attachment"
    entry: HistoryEntry | None = None
    #: The entry's version as everyone holds it (the order's public count, as the API's).
    version: int | None = None
    note: Note | None = None
    attachment: Attachment | None = None
    preview_url: str | None = None
    download_url: str | None = None

    @property
    def event_type(self) -> str:
        return entry_event_type(self.entry).removeprefix("order.") if self.entry else self.kind


def timeline(order: Order, notes: list[Note], attachments: list[Attachment]) -> list[TimelineItem]:
    """Moves, changes, visits, notes and files together, newest first."""
    files = attachment_service()
    numbers = order.public_numbers()
    items = [
        TimelineItem(at=h.at, kind="entry", entry=h, version=numbers[h.event_id])
        for h in order.history
        if entry_event_type(h) not in SHOWN_AS_ITEMS
    ]
    items += [TimelineItem(at=n.at, kind="note", note=n) for n in notes]
    for a in attachments:
        items.append(
            TimelineItem(
                at=a.at,
                kind="attachment",
                attachment=a,
                preview_url=files.download_url(a, inline=True) if a.is_image else None,
                download_url=files.download_url(a),
            )
        )
    return sorted(items, key=lambda item: item.at, reverse=True)


def storage_origins() -> list[str]:
    """Where this page's browser posts files and loads images from: the bucket's origins
    (they differ between path-style, virtual-hosted and regional endpoints)."""
    return attachment_service().browser_origins()


def technician_choices(order: Order) -> list[tuple[str, str]]:
    if not order.assigned_team:
        return []
    return list(
        Technician.objects.filter(team__code=order.assigned_team, active=True).values_list(
            "code", "name"
        )
    )


def work_context(request: HttpRequest, order: Order, *, can_move: bool, can_change: bool) -> dict:
    """What the detail page needs to show and offer the work on the order."""
    read = order_selector()
    visit = order.visit
    open_visit = visit is not None and visit.open
    version = {"version": order.public_version}
    work = rules.open_work(order) if can_move else frozenset()
    offer = {name: name in work for name in WORK_ACTIONS}
    offer.update(note=can_change, attach=can_change)
    not_begun = open_visit and visit.checked_in_at is None
    window = {"start": visit.start, "end": visit.end} if not_begun else None
    return {
        "sla": read.sla(order),
        "hold": order.hold,
        "visit": visit,
        "timeline": timeline(order, *read.notes_and_attachments(order)),
        "offer": offer,
        "rescheduling": open_visit,
        "note_form": NoteForm(initial=version),
        "hold_form": HoldForm(initial=version),
        "technician_form": TechnicianForm(
            initial={**version, "technician": order.technician.id if order.technician else None},
            technicians=technician_choices(order),
        ),
        "visit_form": VisitForm(initial={**version, **(window or {})}),
        "version_form": VersionForm(initial=version),
    }


class WorkActionsMixin:
    """URLs and views of the work on one order (mixed into the orders' ModelAdmin)."""

    admin_site: Any
    context: Callable[..., dict[str, Any]]  # the admin's page context (WorkOrderAdmin)

    def work_urls(self) -> list:
        wrap = self.admin_site.admin_view
        views = {
            "note": self.note_view,
            "hold": self.hold_view,
            "resume": self.resume_view,
            "technician": self.technician_view,
            "visit": self.visit_view,
            "check-in": self.check_in_view,
            "check-out": self.check_out_view,
            "upload": self.upload_sign_view,
            "uploaded": self.upload_finish_view,
        }
        return [
            path(
                f"<str:order_id>/{name}/",
                wrap(view),
                name=f"orders_workorder_{name.replace('-', '_')}",
            )
            for name, view in views.items()
        ]

    # -- the shape every action has ------------------------------------------------------------

    def _act(
        self,
        request: HttpRequest,
        order_id: str,
        *,
        permission: str,
        form_class: Callable[..., VersionForm],
        act: Callable[[VersionForm, Any], str],
        failed: str,
        **form_kwargs: Any,
    ) -> HttpResponse:
        """Check, parse, act, and go back to the order with what happened in a message."""
        detail = reverse("admin:orders_workorder_change", args=[order_id])
        if request.method != "POST":
            return HttpResponseRedirect(detail)
        if not request.user.has_perm(permission):
            raise PermissionDenied
        form = form_class(request.POST, **form_kwargs)
        if not form.is_valid():
            problems = "; ".join(
                f"{'' if name == '__all__' else name + ': '}{' '.join(errs)}"
                for name, errs in form.errors.items()
            )
            messages.error(request, f"{failed}: {problems}")
            return HttpResponseRedirect(detail)
        try:
            done = act(form, staff_actor(request))
        except errors.OrderNotFound:
            raise Http404("No such order.") from None
        except errors.ConcurrencyConflict:
            messages.error(
                request,
                f"{failed}: {CHANGED_SINCE_OPENED}",
            )
        except (errors.ValidationError, errors.IllegalTransition, errors.PermissionDenied) as exc:
            messages.error(request, f"{failed}: {problem_text(exc)}")
        else:
            messages.success(request, done)
        return HttpResponseRedirect(detail)

    # -- notes, holds, technicians, visits --------------------------------------------------------

    def note_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        def act(form, actor) -> str:
            note = order_services().timeline.add_note(
                order_id=order_id,
                text=form.cleaned_data["text"],
                visibility=form.cleaned_data["visibility"],
                actor=actor,
                author_name=staff_name(request),
                expected_version=form.cleaned_data["version"],
            )
            return f"Note added ({labels.visibility_label(note.visibility)})."

        return self._act(
            request,
            order_id,
            permission="orders.change_workorder",
            form_class=NoteForm,
            act=act,
            failed="Note not added",
        )

    def hold_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        def act(form, actor) -> str:
            order_services().intake.transition_order(
                order_id=order_id,
                to=Status.ON_HOLD,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
                actor=actor,
            )
            return "On hold: the SLA clock is paused until the order is resumed."

        return self._act(
            request,
            order_id,
            permission=MOVE_PERMISSION,
            form_class=HoldForm,
            act=act,
            failed="Not put on hold",
        )

    def resume_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        return self._simple(request, order_id, "resume")

    def technician_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        try:
            order = order_selector().get_order(order_id)
        except errors.OrderNotFound:
            raise Http404("No such order.") from None

        def act(form, actor) -> str:
            changed = order_services().field_work.assign_technician(
                order_id=order_id,
                technician_id=form.cleaned_data["technician"],
                actor=actor,
                expected_version=form.cleaned_data["version"],
            )
            return f"Assigned to {changed.technician.name}."

        return self._act(
            request,
            order_id,
            permission=MOVE_PERMISSION,
            form_class=TechnicianForm,
            act=act,
            failed="Not assigned",
            technicians=technician_choices(order),
        )

    def visit_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        def act(form, actor) -> str:
            _, moved = order_services().field_work.plan_visit(
                order_id=order_id,
                window=form.window(),
                actor=actor,
                reason=form.cleaned_data["reason"] or None,
                expected_version=form.cleaned_data["version"],
            )
            return "Visit moved." if moved else "Visit booked."

        return self._act(
            request,
            order_id,
            permission=MOVE_PERMISSION,
            form_class=VisitForm,
            act=act,
            failed="Visit not booked",
        )

    def check_in_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        return self._simple(request, order_id, "check_in")

    def check_out_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        return self._simple(request, order_id, "check_out")

    def _simple(self, request: HttpRequest, order_id: str, name: str) -> HttpResponse:
        """An action with nothing to fill in but the page's version."""
        (family, method), failed, done = SIMPLE_ACTIONS[name]

        def act(form, actor) -> str:
            order = getattr(getattr(order_services(), family), method)(
                order_id=order_id, actor=actor, expected_version=form.cleaned_data["version"]
            )
            return done(order)

        return self._act(
            request,
            order_id,
            permission=MOVE_PERMISSION,
            form_class=VersionForm,
            act=act,
            failed=failed,
        )

    # -- files: browser → S3 → back here ----------------------------------------------------------

    def upload_sign_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        """The presigned form for one file (JSON, for attach.js); S3 redirects to
        :meth:`upload_finish_view` once it has the file."""
        if request.method != "POST":
            return JsonResponse({"error": "POST the file's name, type and size."}, status=405)
        if not request.user.has_perm("orders.change_workorder"):
            raise PermissionDenied
        form = UploadForm(request.POST)
        if not form.is_valid():
            return JsonResponse({"error": form.errors.as_text()}, status=400)
        finish = request.build_absolute_uri(
            reverse("admin:orders_workorder_uploaded", args=[order_id])
        )
        try:
            ticket = attachment_service().start_upload(
                order_id=order_id,
                filename=form.cleaned_data["filename"],
                content_type=form.cleaned_data["content_type"],
                size=form.cleaned_data["size"],
                visibility=form.cleaned_data["visibility"],
                actor=staff_actor(request),
                author_name=staff_name(request),
                redirect_to=finish,
            )
        except errors.OrderNotFound:
            return JsonResponse({"error": "No such order."}, status=404)
        except errors.ValidationError as exc:
            return JsonResponse({"error": problem_text(exc)}, status=400)
        return JsonResponse({"url": ticket.url, "fields": ticket.fields})

    def upload_finish_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        """Where S3 sends the browser (a GET) after storing the file: a page that records
        nothing and POSTs, with its CSRF token, here to record the file on the order. A link
        or an image elsewhere must not attach files; attach.js submits the page on its own
        only for the upload it started in this tab."""
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        detail = reverse("admin:orders_workorder_change", args=[order_id])
        if not request.user.has_perm("orders.change_workorder"):
            raise PermissionDenied
        key = (request.POST if request.method == "POST" else request.GET).get("key", "")
        upload_id = upload_in_key(order_id, key)
        if upload_id is None:
            messages.error(request, "File not attached: S3 did not say which upload this was.")
            return HttpResponseRedirect(detail)
        if request.method != "POST":
            return TemplateResponse(
                request,
                "admin/orders/workorder/uploaded.html",
                self.context(
                    request,
                    title="Attach the uploaded file",
                    order_id=order_id,
                    key=key,
                    filename=key.rsplit("/", 1)[-1],
                ),
            )
        try:
            attachment = attachment_service().finish_upload(
                order_id=order_id, upload_id=upload_id, actor=staff_actor(request)
            )
        except errors.OrderNotFound:
            raise Http404("No such order.") from None
        except (UploadMissing, UploadNotFound, errors.ValidationError) as exc:
            messages.error(request, f"File not attached: {problem_text(exc)}")
        else:
            messages.success(request, f"Attached {attachment.filename}.")
        return HttpResponseRedirect(detail)


def problem_text(exc: Exception) -> str:
    if isinstance(exc, errors.ValidationError):
        return "; ".join(" ".join(problems) for problems in exc.errors.values())
    return str(exc)
