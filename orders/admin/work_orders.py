"""Orders in the Django admin: list, detail, create, move, bulk moves.

Orders live in DynamoDB, so this is not a ModelAdmin over a table: the ``WorkOrder``
placeholder model gives the section its place on the index and its permissions (view, add,
change, and ``move_workorder`` for lifecycle moves), and these views call the same services
as the API. Every move is made as ``staff:<username>`` and lands in the order's history.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from orders.admin.forms import (
    DEFAULT_PAGE_SIZE,
    SORT_CHOICES,
    BulkMoveForm,
    MoveForm,
    OrderCreateForm,
    OrderEditForm,
    OrderListForm,
)
from orders.admin.order_places import place_links, plan_note
from orders.admin.order_work import (
    CHANGED_SINCE_OPENED,
    WorkActionsMixin,
    staff_actor,
    storage_origins,
    work_context,
)
from orders.domain import labels, rules
from orders.domain.errors import (
    ConcurrencyConflict,
    DomainError,
    DuplicateReference,
    IllegalTransition,
    InvalidCursor,
    OrderNotFound,
    ValidationError,
)
from orders.domain.model import Order
from orders.domain.workflow import (
    PAUSED_STATUSES,
    REASON_REQUIRED,
    STATUSES,
    TERMINAL_STATUSES,
    ActorKind,
    Status,
    allowed_moves,
)
from orders.figures import CAP as FIGURES_CAP
from orders.models import Team, WorkOrder
from orders.selectors import SORT_CAP, SORTS
from portal.container import (
    integrator_names,
    order_deliveries,
    order_figures,
    order_selector,
    order_services,
)
from portal.security_middleware import HEADER as CSP_HEADER
from portal.security_middleware import policy_allowing

MOVE_PERMISSION = "orders.move_workorder"
PAGE_SIZE = DEFAULT_PAGE_SIZE
COUNT_CAP = FIGURES_CAP


def same_site_or(request: HttpRequest, url: str | None, fallback: str) -> str:
    """``url`` if it stays on this site (and on HTTPS when the request was), else ``fallback``:
    a crafted form must not turn the admin into an open redirect."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback


@admin.register(WorkOrder)
class WorkOrderAdmin(WorkActionsMixin, admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # orders are cancelled, never deleted

    def can_move(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MOVE_PERMISSION)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.list_view), name="orders_workorder_changelist"),
            path("add/", wrap(self.create_view), name="orders_workorder_add"),
            path("bulk/", wrap(self.bulk_view), name="orders_workorder_bulk"),
            path("<str:order_id>/", wrap(self.detail_view), name="orders_workorder_change"),
            path("<str:order_id>/move/", wrap(self.move_view), name="orders_workorder_move"),
            path("<str:order_id>/edit/", wrap(self.edit_view), name="orders_workorder_edit"),
            *self.work_urls(),
        ]

    def context(self, request: HttpRequest, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "app_label": self.model._meta.app_label,
            "has_view_permission": self.has_view_permission(request),
            "has_add_permission": self.has_add_permission(request),
            "can_move": self.can_move(request),
            **extra,
        }

    # -- list ------------------------------------------------------------------------------

    def list_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = OrderListForm(request.GET or None)
        read = order_selector()
        orders: list[Order] = []
        next_cursor = None
        search_more = sort_capped = False
        data = form.cleaned_data if request.GET and form.is_valid() else {}
        sort = data.get("sort") or ""
        page_number = data.get("page") or 1
        page_size = data.get("per_page") or PAGE_SIZE
        if form.is_valid() or not request.GET:
            special = form.special_listing() if request.GET else None
            found: list[Order] = []
            if data.get("q"):
                integrators = list(integrator_names())
                found = read.find_exact(data["q"], integrators=integrators)
            if len(found) == 1:  # an id or a reference: that order's page
                return HttpResponseRedirect(
                    reverse("admin:orders_workorder_change", args=[found[0].id])
                )
            if found:  # one reference used by several integrators: those orders
                orders = found
            elif data.get("q"):
                # Words: the search index, newest first, narrowed by the other filters.
                result = read.search(
                    data["q"],
                    limit=page_size,
                    filters=form.order_filter(),
                    integrator=data.get("integrator") or None,
                )
                orders = result.items
                if special:
                    listed = {o.id for o in special_listing(special, data)}
                    orders = [o for o in orders if o.id in listed]
                search_more = result.more
            elif special:
                # Its own index; the other filters narrow what it found.
                narrowing = form.order_filter()
                orders = [o for o in special_listing(special, data) if narrowing.matches(o)]
            elif sort:
                # Another order than the table's: the newest SORT_CAP matching ones, sorted,
                # a page at a time (the page number rides along with the sort in the links).
                result = read.sorted_orders(
                    sort=sort,
                    filters=form.order_filter() if request.GET else None,
                    integrator=data.get("integrator") or None,
                )
                start = (page_number - 1) * page_size
                orders = result.items[start : start + page_size]
                sort_capped = result.capped
                if start + page_size < len(result.items):
                    next_cursor = "page"
            else:
                filters = form.order_filter() if request.GET else None
                try:
                    page = read.list_orders(
                        filters=filters,
                        integrator=data.get("integrator") or None,
                        limit=page_size,
                        cursor=data.get("cursor") or None,
                    )
                except InvalidCursor:
                    messages.error(request, "That page link has expired; back to the first page.")
                    return HttpResponseRedirect(reverse("admin:orders_workorder_changelist"))
                orders, next_cursor = page.items, page.next_cursor
            if sort and (found or data.get("q") or special):
                key, descending = SORTS[sort]
                orders = sorted(orders, key=key, reverse=descending)
        counts = order_figures().by_status()
        moves = sorted(
            {str(to) for order in orders for to in allowed_moves(order.status, ActorKind.STAFF)},
            key=lambda to: list(STATUSES).index(Status(to)),
        )
        integrators = integrator_names()
        team_names = dict(Team.objects.values_list("code", "name"))
        return TemplateResponse(
            request,
            "admin/orders/workorder/list.html",
            self.context(
                request,
                title="Orders",
                form=form,
                ticked=[
                    (form[name], chosen_text(form.fields[name], request.GET.getlist(name)))
                    for name in form.TICKED
                ],
                plain=[
                    field
                    for field in form
                    if not field.is_hidden and field.name not in (*form.TICKED, "q")
                ],
                chips=[
                    (text, query_without(request, name, value))
                    for text, name, value in (form.chips() if data else [])
                ],
                rows=[
                    {
                        "order": o,
                        "integrator": integrators.get(o.integrator, o.integrator),
                        "team": team_names.get(o.assigned_team or "", o.assigned_team),
                    }
                    for o in orders
                ],
                counts=[(status, n, more) for status, (n, more) in counts.items()],
                count_cap=COUNT_CAP,
                next_query=next_page_query(request, next_cursor, page_number),
                previous_query=(
                    page_query(request, page_number - 1) if sort and page_number > 1 else None
                ),
                sort=sort,
                sort_links=sort_links(request, sort),
                sort_capped=sort_capped,
                sort_cap=SORT_CAP,
                search_more=search_more,
                bulk_moves=moves,
                final_moves=[str(s) for s in TERMINAL_STATUSES],
                teams=Team.objects.filter(active=True).values_list("code", "name"),
            ),
        )

    # -- detail and moves --------------------------------------------------------------------

    def detail_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            order = order_selector().get_order(order_id)
        except OrderNotFound:
            raise Http404("No such order.") from None
        moves = [str(to) for to in staff_moves(order)]
        integrator_name = integrator_names().get(order.integrator) or order.integrator
        team_name = (
            Team.objects.filter(code=order.assigned_team).values_list("name", flat=True).first()
            or order.assigned_team
        )
        deliveries = order_deliveries(order.id)
        response = TemplateResponse(
            request,
            "admin/orders/workorder/detail.html",
            self.context(
                request,
                title=f"Order {order.external_reference or order.id[:8]}",
                order=order,
                fields=detail_fields(order, integrator_name=integrator_name, team_name=team_name),
                integrator_name=integrator_name,
                team_name=team_name,
                check_in_far=rules.check_in_far_from_window(order, now=timezone.now()),
                history=list(reversed(order.history)),
                moves=moves if self.can_move(request) else [],
                final_moves=[str(s) for s in TERMINAL_STATUSES],
                can_edit=self.has_change_permission(request)
                and order.status not in TERMINAL_STATUSES,
                reason_required=[str(s) for s in REASON_REQUIRED],
                deliveries=deliveries,
                places=place_links(order),
                plan=plan_note(order),
                **work_context(
                    request,
                    order,
                    can_move=self.can_move(request),
                    can_change=self.has_change_permission(request),
                ),
            ),
        )
        # The page posts files to S3 and shows its images: the policy lets it, for this page.
        if settings.CONTENT_SECURITY_POLICY:
            origins = storage_origins()
            response[CSP_HEADER] = policy_allowing(
                settings.CONTENT_SECURITY_POLICY, {"form-action": origins, "img-src": origins}
            )
        return response

    def move_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:orders_workorder_change", args=[order_id]))
        if not self.can_move(request):
            raise PermissionDenied
        form = MoveForm(request.POST)
        detail = reverse("admin:orders_workorder_change", args=[order_id])
        if not form.is_valid():
            messages.error(request, f"Not moved: {form.errors.as_text()}")
            return HttpResponseRedirect(detail)
        try:
            order = order_services().intake.transition_order(
                order_id=order_id,
                to=form.cleaned_data["to"],
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
                actor=staff_actor(request),
            )
        except ConcurrencyConflict:
            messages.error(
                request,
                f"Not moved: {CHANGED_SINCE_OPENED}",
            )
        except OrderNotFound:
            raise Http404("No such order.") from None
        except (IllegalTransition, ValidationError) as exc:
            messages.error(request, f"Not moved: {exc}")
        else:
            messages.success(
                request,
                f"{labels.move_verb(order.status)}: done, the order is "
                f"{labels.status_label(order.status).lower()} (version {order.public_version}).",
            )
        return HttpResponseRedirect(detail)

    def bulk_view(self, request: HttpRequest) -> HttpResponse:
        back = same_site_or(
            request, request.POST.get("back"), reverse("admin:orders_workorder_changelist")
        )
        if request.method != "POST":
            return HttpResponseRedirect(back)
        if not self.can_move(request):
            raise PermissionDenied
        form = BulkMoveForm(request.POST)
        assigning = "assign" in request.POST
        if assigning:
            form.fields["to"].required = False
        if not form.is_valid():
            messages.error(request, f"Nothing changed: {form.errors.as_text()}")
            return HttpResponseRedirect(back)
        to, reason = form.cleaned_data["to"], form.cleaned_data["reason"]
        team = request.POST.get("team", "")
        team_names = dict(Team.objects.values_list("code", "name"))
        done, refused = 0, []
        for order_id, version in form.targets():
            try:
                if assigning:
                    order_services().assignment.assign_team(
                        order_id=order_id,
                        team=team,
                        expected_version=version,
                        actor=staff_actor(request),
                    )
                else:
                    order_services().intake.transition_order(
                        order_id=order_id,
                        to=to,
                        reason=reason,
                        expected_version=version,
                        actor=staff_actor(request),
                    )
                done += 1
            except ConcurrencyConflict:
                refused.append(f"{order_id[:8]}: changed since the list was shown")
            except DomainError as exc:
                refused.append(f"{order_id[:8]}: {exc}")
        if done:
            messages.success(
                request,
                f"Assigned {done} order(s) to team {team_names.get(team, team)}."
                if assigning
                else f"Moved {done} order(s) to {labels.status_label(to).lower()}.",
            )
        for reason_text in refused:
            messages.warning(request, f"Not changed — {reason_text}")
        return HttpResponseRedirect(back)

    # -- correct ------------------------------------------------------------------------------

    def edit_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            order = order_selector().get_order(order_id)
        except OrderNotFound:
            raise Http404("No such order.") from None
        form = OrderEditForm(request.POST or None, initial=OrderEditForm.initial_for(order))
        if request.method == "POST" and form.is_valid():
            try:
                edited = order_services().intake.update_order(
                    order_id=order.id,
                    changes=form.changes(),
                    expected_version=form.cleaned_data["version"],
                    actor=staff_actor(request),
                )
            except ConcurrencyConflict:
                # Keep what they typed; show the order as it is now; a second save applies it.
                data = request.POST.copy()
                data["version"] = str(order.public_version)
                form = OrderEditForm(data)
                form.is_valid()
                form.add_error(
                    None,
                    f"Not saved: this order changed while you edited it (it is now version "
                    f"{order.public_version}, {labels.status_label(order.status).lower()}). "
                    "Your changes are still in the form; check them against the current order and "
                    "save again.",
                )
            except ValidationError as exc:
                for field, problems in exc.errors.items():
                    name = OrderEditForm.FIELD_NAMES.get(field, field)
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
            else:
                messages.success(request, f"Saved (version {edited.public_version}).")
                return HttpResponseRedirect(
                    reverse("admin:orders_workorder_change", args=[order.id])
                )
        return TemplateResponse(
            request,
            "admin/orders/workorder/edit.html",
            self.context(request, title=f"Correct order {order.title}", form=form, order=order),
        )

    # -- create -------------------------------------------------------------------------------

    def create_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OrderCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                order = order_services().intake.create_order(
                    data=form.to_input(),
                    integrator=form.cleaned_data["integrator"],
                    actor=staff_actor(request),
                )
            except DuplicateReference as exc:
                form.add_error("external_reference", f"Already used by order {exc.order_id}.")
            except ValidationError as exc:
                for field, problems in exc.errors.items():
                    name = OrderCreateForm.FIELD_NAMES.get(field, field)
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
            else:
                messages.success(request, f"Created order {order.id}; the workers take it on.")
                return HttpResponseRedirect(
                    reverse("admin:orders_workorder_change", args=[order.id])
                )
        return TemplateResponse(
            request,
            "admin/orders/workorder/create.html",
            self.context(request, title="Add order", form=form),
        )


def query_without(request: HttpRequest, name: str, value: str) -> str:
    """The list's query with one filter value taken off (a chip's link), from the first page."""
    query = request.GET.copy()
    for paging in ("cursor", "page"):
        query.pop(paging, None)
    query.setlist(name, [v for v in query.getlist(name) if v != value])
    return f"?{query.urlencode()}"


def chosen_text(field, chosen: list[str]) -> str:
    """What a drop-down of ticks shows closed: the chosen labels, or "any"."""
    names = dict(field.choices)
    return ", ".join(str(names[value]) for value in chosen if value in names) or "any"


def page_query(request: HttpRequest, number: int) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    query["page"] = str(number)
    return query.urlencode()


def next_page_query(request: HttpRequest, next_cursor: str | None, page_number: int) -> str | None:
    """The next page's link: a sorted list counts pages; the newest-first list carries the
    table's cursor. Either way the filters and the sort come along."""
    if not next_cursor:
        return None
    if next_cursor == "page":
        return page_query(request, page_number + 1)
    query = request.GET.copy()
    query.pop("page", None)
    query["cursor"] = next_cursor
    return query.urlencode()


#: The columns a dispatcher sorts by: the first click sorts the way they mostly want it.
SORTABLE_COLUMNS = {"sla": "sla", "created": "", "priority": "priority"}
#: Each sort's opposite, for a second click on the same column.
REVERSED = {"": "-created", "-created": "", "sla": "-sla", "-sla": "sla"}
REVERSED.update({"priority": "-priority", "-priority": "priority"})
SORT_NAMES = dict(SORT_CHOICES)


def sort_links(request: HttpRequest, sort: str) -> dict[str, dict[str, str]]:
    """Per sortable column: its link (keeping the filters, back to the first page) and, for the
    column sorted now, the arrow that says which way."""
    links = {}
    for column, first in SORTABLE_COLUMNS.items():
        current = sort.lstrip("-") == column or (column == "created" and sort in ("", "-created"))
        target = REVERSED[sort] if current else first
        query = request.GET.copy()
        for paging in ("cursor", "page", "sort"):
            query.pop(paging, None)
        if target:
            query["sort"] = target
        arrow = ""
        if current:
            arrow = "▲" if sort in ("sla", "-created", "-priority") else "▼"
        links[column] = {
            "url": f"?{query.urlencode()}",
            "arrow": arrow,
            "title": f"Sort: {SORT_NAMES[target].lower()}",
        }
    return links


def special_listing(name: str, data: dict) -> list[Order]:
    """One page of the listings with indexes of their own: a technician's orders (newest
    first) and today's visits (in the staff member's time zone, by start)."""
    read = order_selector()
    if name == "technician":
        return read.orders_for_technician(data["technician"], limit=PAGE_SIZE)
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return read.visits_between(start, start + timedelta(days=1), limit=PAGE_SIZE)


def detail_fields(
    order: Order, *, integrator_name: str, team_name: str | None
) -> list[tuple[str, object]]:
    """The order's details as labelled values for the page: times stay datetimes (the template
    shows them in the staff member's zone, to the second), contact and window read as text.
    The SLA's due time is not here: the header and the SLA panel say it, the same way."""
    contact = order.contact
    window = order.requested_window
    return [
        ("Integrator", integrator_name),
        ("External reference", order.external_reference),
        ("Category", labels.category_label(order.category)),
        ("Priority", labels.priority_label(order.priority)),
        ("Site", order.site),
        ("Description", order.description or None),
        (
            "Contact",
            " · ".join(p for p in (contact.name, contact.phone, contact.email) if p) or None
            if contact
            else None,
        ),
        ("Requested window", window),
        ("Team", team_name),
        ("Created", order.created_at),
        ("Updated", order.updated_at),
        ("In this status since", order.status_changed_at),
        ("Started", order.started_at),
        ("Completed", order.completed_at),
        ("SLA met", None if order.sla_met is None else ("yes" if order.sla_met else "no")),
        ("Rejection reason", order.rejection_reason),
        ("Cancellation reason", order.cancellation_reason),
        (
            "Metadata",
            json.dumps(dict(order.metadata), indent=2, sort_keys=True) if order.metadata else None,
        ),
    ]


def staff_moves(order: Order) -> list[Status]:
    """The moves the page offers as plain buttons: holding and resuming have forms of
    their own (a reason to choose; back to where the order was)."""
    moves = allowed_moves(order.status, ActorKind.STAFF)
    if order.status in PAUSED_STATUSES:
        return [to for to in moves if to in TERMINAL_STATUSES]
    return [to for to in moves if to not in PAUSED_STATUSES]
