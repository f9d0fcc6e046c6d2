"""The orders section of the admin: permissions, list, search, detail, create, moves."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from orders.domain.model import Actor, Contact
from orders.domain.rules import OrderInput
from portal.container import order_selector, order_services
from tests.integration.conftest import make_integrator

LIST = reverse("admin:orders_workorder_changelist")
ADD = reverse("admin:orders_workorder_add")
BULK = reverse("admin:orders_workorder_bulk")


def detail(order_id: str) -> str:
    return reverse("admin:orders_workorder_change", args=[order_id])


def move(order_id: str) -> str:
    return reverse("admin:orders_workorder_move", args=[order_id])


def staff_client(*codenames: str, username: str) -> Client:
    user = User.objects.create_user(username, password="pw-not-used", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def dispatcher_client(aws, db) -> Client:
    return staff_client(
        "view_workorder",
        "add_workorder",
        "change_workorder",
        "move_workorder",
        username="dispatcher",
    )


@pytest.fixture
def viewer_client(aws, db) -> Client:
    return staff_client("view_workorder", username="viewer")


@pytest.fixture
def acme(db):
    return make_integrator("Acme")


@pytest.fixture
def globex(db):
    return make_integrator("Globex")


def new_order(integrator, **fields):
    data = {"title": "Fix the boiler", "category": "hvac", "site": "12 High St", **fields}
    return order_services().intake.create_order(
        data=OrderInput(**data),
        integrator=integrator.slug,
        actor=Actor.integrator(integrator.slug),
    )


# -- who may do what ---------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(aws, db, acme):
    order = new_order(acme)
    client = Client()
    for url in (LIST, ADD, detail(order.id)):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.post(move(order.id), {"to": "cancelled", "version": 1})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert order_selector().get_order(order.id).status == "received"


def test_view_only_staff_see_orders_but_cannot_act(viewer_client, acme):
    order = new_order(acme, external_reference="V-1")
    listing = viewer_client.get(LIST)
    assert listing.status_code == 200
    assert order.id in listing.content.decode()
    page = viewer_client.get(detail(order.id)).content.decode()
    assert "Fix the boiler" in page and 'id="history"' in page
    assert 'id="moves"' not in page and 'name="selected"' not in listing.content.decode()
    assert viewer_client.get(ADD).status_code == 403
    assert viewer_client.post(move(order.id), {"to": "cancelled", "version": 1}).status_code == 403
    assert (
        viewer_client.post(BULK, {"to": "cancelled", "selected": [f"{order.id}:1"]}).status_code
        == 403
    )
    assert order_selector().get_order(order.id).status == "received"


def test_orders_show_on_the_admin_index(dispatcher_client):
    index = dispatcher_client.get(reverse("admin:index")).content.decode()
    assert LIST in index and ADD in index


# -- list, filters, search --------------------------------------------------------------------


def test_the_list_filters_by_status_and_integrator_and_counts_each_status(dispatcher_client, acme):
    other = make_integrator("Other")
    first, second = new_order(acme), new_order(other)
    order_services().intake.transition_order(
        order_id=second.id, to="cancelled", actor=Actor.staff("x")
    )

    def ids(query: str) -> str:
        response = dispatcher_client.get(f"{LIST}?{query}")
        assert response.status_code == 200
        return response.content.decode()

    cancelled = ids("status=cancelled")
    assert second.id in cancelled and first.id not in cancelled
    by_integrator = ids(f"integrator={acme.slug}")
    assert first.id in by_integrator and second.id not in by_integrator
    assert 'data-status="cancelled"' in cancelled


def test_searching_an_id_or_a_reference_opens_that_order(dispatcher_client, acme):
    order = new_order(acme, external_reference="SEARCH-ME")
    new_order(acme, external_reference="OTHER")
    page = reverse("admin:orders_workorder_change", args=[order.id])
    for query in ("SEARCH-ME", order.id):
        found = dispatcher_client.get(f"{LIST}?q={query}")
        assert found.status_code == 302 and found["Location"] == page
    opened = dispatcher_client.get(f"{LIST}?q=SEARCH-ME", follow=True).content.decode()
    assert 'id="order-reference">SEARCH-ME<' in opened and "OTHER" not in opened


def test_a_reference_two_integrators_use_lists_both_orders(dispatcher_client, acme, globex):
    mine = new_order(acme, external_reference="SHARED-REF")
    theirs = new_order(globex, external_reference="SHARED-REF")
    listing = dispatcher_client.get(f"{LIST}?q=SHARED-REF")
    assert listing.status_code == 200
    assert sorted(listed(listing)) == sorted([mine.id, theirs.id])


def test_the_list_pages_with_a_cursor(dispatcher_client, acme):
    created = [new_order(acme).id for _ in range(11)]
    first = dispatcher_client.get(f"{LIST}?integrator={acme.slug}&per_page=10")
    assert listed(first) == created[::-1][:10]  # newest first
    next_query = first.context["next_query"]
    assert next_query and "per_page=10" in next_query
    assert listed(dispatcher_client.get(f"{LIST}?{next_query}")) == [created[0]]


def listed(response) -> list[str]:
    return [row["order"].id for row in response.context["rows"]]


# -- detail, moves, create ------------------------------------------------------------------------


def test_a_move_is_made_as_the_staff_user_and_recorded(dispatcher_client, acme):
    order = new_order(acme)
    page = dispatcher_client.get(detail(order.id)).content.decode()
    assert 'data-move="cancelled"' in page and 'data-move="rejected"' in page
    assert 'data-move="accepted"' not in page  # the workers' move, not staff's

    response = dispatcher_client.post(
        move(order.id), {"to": "rejected", "version": 1, "reason": "Duplicate of WO-9"}
    )
    assert response.status_code == 302
    moved = order_selector().get_order(order.id)
    assert moved.status == "rejected" and moved.rejection_reason == "Duplicate of WO-9"
    assert (moved.history[-1].actor.kind, moved.history[-1].actor.id) == ("staff", "dispatcher")


def test_a_stale_form_is_refused_and_says_so(dispatcher_client, acme):
    order = new_order(acme)
    order_services().intake.transition_order(
        order_id=order.id, to="cancelled", actor=Actor.staff("x")
    )
    response = dispatcher_client.post(
        move(order.id), {"to": "rejected", "version": 1, "reason": "late"}, follow=True
    )
    assert "someone changed this order" in response.content.decode()
    assert order_selector().get_order(order.id).status == "cancelled"


def test_staff_create_an_order_with_the_apis_validation(dispatcher_client, acme):
    form = {
        "integrator": acme.slug,
        "title": "Leak",
        "category": "plumbing",
        "priority": "high",
        "site": "Unit 4",
    }
    bad = dispatcher_client.post(ADD, {**form, "contact_email": "not-an-email"})
    assert bad.status_code == 200
    assert "Enter a valid email address." in bad.content.decode()

    good = dispatcher_client.post(ADD, {**form, "external_reference": "STAFF-1"})
    assert good.status_code == 302
    order = order_selector().find_by_reference(integrator=acme.slug, external_reference="STAFF-1")
    assert order.status == "received"
    assert (order.history[0].actor.kind, order.history[0].actor.id) == ("staff", "dispatcher")

    again = dispatcher_client.post(ADD, {**form, "external_reference": "STAFF-1"})
    assert "Already used by order" in again.content.decode()


def test_bulk_moves_apply_per_order_and_report_refusals(dispatcher_client, acme):
    first, second, stale = new_order(acme), new_order(acme), new_order(acme)
    order_services().intake.transition_order(
        order_id=stale.id, to="cancelled", actor=Actor.staff("x")
    )
    response = dispatcher_client.post(
        BULK,
        {
            "to": "cancelled",
            "reason": "Site closed",
            "selected": [f"{first.id}:1", f"{second.id}:1", f"{stale.id}:1"],
        },
        follow=True,
    )
    text = response.content.decode()
    assert "Moved 2 order(s) to cancelled." in text
    assert f"Not changed — {stale.id[:8]}: changed since the list was shown" in text
    for order in (first, second):
        moved = order_selector().get_order(order.id)
        assert moved.status == "cancelled" and moved.cancellation_reason == "Site closed"
        assert moved.history[-1].actor.id == "dispatcher"


def edit(order_id: str) -> str:
    return reverse("admin:orders_workorder_edit", args=[order_id])


def test_staff_correct_an_order_and_the_history_says_what_changed(dispatcher_client, acme):
    order = new_order(acme)
    form = dispatcher_client.get(edit(order.id)).context["form"]
    data = {**{k: v for k, v in form.initial.items() if v is not None}, "site": "14 High St"}
    data["window_start"] = data["window_end"] = ""
    response = dispatcher_client.post(edit(order.id), data)
    assert response.status_code == 302
    corrected = order_selector().get_order(order.id)
    assert (corrected.site, corrected.version) == ("14 High St", 2)
    assert corrected.history[-1].reason == "changed site"
    assert corrected.history[-1].actor.id == "dispatcher"


def test_a_stale_edit_form_says_so_and_keeps_what_was_typed(dispatcher_client, acme):
    order = new_order(acme)
    stale = dispatcher_client.get(edit(order.id)).context["form"].initial
    order_services().intake.transition_order(
        order_id=order.id, to="cancelled", actor=Actor.staff("x")
    )
    reopened = new_order(acme)  # an open one for the second half
    data = {**{k: v for k, v in stale.items() if v is not None}, "title": "Typed by me"}
    data["window_start"] = data["window_end"] = ""

    refused = dispatcher_client.post(edit(order.id), data)
    text = refused.content.decode()
    assert refused.status_code == 200
    assert "this order changed while you edited it" in text
    assert 'value="Typed by me"' in text  # nothing typed is lost
    assert order_selector().get_order(order.id).title == "Fix the boiler"
    # A finished order cannot be corrected at all; an open one still can.
    assert (
        "can no longer be changed"
        in dispatcher_client.post(edit(order.id), {**data, "version": "2"}).content.decode()
    )
    assert dispatcher_client.get(edit(reopened.id)).status_code == 200


def test_view_only_staff_cannot_correct(viewer_client, acme):
    order = new_order(acme)
    assert viewer_client.get(edit(order.id)).status_code == 403
    assert 'id="edit-link"' not in viewer_client.get(detail(order.id)).content.decode()


def test_bulk_assign_moves_scheduled_orders_to_another_team(dispatcher_client, acme, db):
    from orders.models import Team

    Team.objects.update_or_create(
        code="hvac-a", defaults={"name": "HVAC A", "categories": ["hvac"], "capacity": 10}
    )
    Team.objects.update_or_create(
        code="hvac-b", defaults={"name": "HVAC B", "categories": ["hvac"], "capacity": 10}
    )
    worker = Actor.system("worker:test")
    scheduled = []
    for _ in range(2):
        order = new_order(acme)
        order = order_services().intake.transition_order(
            order_id=order.id, to="accepted", actor=worker
        )
        order = order_services().intake.transition_order(
            order_id=order.id, to="scheduled", actor=worker, team="hvac-a"
        )
        scheduled.append(order)
    received = new_order(acme)
    response = dispatcher_client.post(
        BULK,
        {
            "assign": "1",
            "team": "hvac-b",
            "selected": [f"{o.id}:{o.public_version}" for o in scheduled] + [f"{received.id}:1"],
        },
        follow=True,
    )
    text = response.content.decode()
    assert "Assigned 2 order(s) to team HVAC B." in text  # the team's name, not its code
    assert f"Not changed — {received.id[:8]}" in text
    assert [order_selector().get_order(o.id).assigned_team for o in scheduled] == ["hvac-b"] * 2


# -- reading it: labels, time zones, the list's columns ------------------------------------------


def test_times_are_shown_in_the_staff_members_zone_to_the_second(aws, viewer_client, acme):
    order = new_order(acme, contact=Contact(name="Ana", phone="+34 600 000 000", email=""))
    madrid = order.created_at.astimezone(ZoneInfo("Europe/Madrid"))

    viewer_client.cookies["staff_tz"] = "Europe/Madrid"
    page = viewer_client.get(detail(order.id)).content.decode()

    assert madrid.strftime("%Y-%m-%d %H:%M:%S ") + madrid.tzname() in page
    assert "Ana · +34 600 000 000" in page and "{'name'" not in page  # a field, not a dict
    assert f'data-copy="{order.id}"' in page  # the full id, copyable

    viewer_client.cookies["staff_tz"] = "Not/AZone"
    page = viewer_client.get(detail(order.id)).content.decode()
    assert order.created_at.strftime("%Y-%m-%d %H:%M:%S UTC") in page


def test_the_list_shows_the_site_and_offers_no_bulk_move_by_default(aws, dispatcher_client, acme):
    new_order(acme, site="Depot 7, Dock Rd")

    page = dispatcher_client.get(LIST).content.decode()

    assert "<th>Site</th>" in page and "Depot 7, Dock Rd" in page
    assert 'id="select-all"' in page
    assert '<select name="to" required><option value="">— choose —</option>' in page
    assert 'data-confirm-statuses="' in page and "cancelled" in page


def test_the_search_box_finds_orders_by_words_of_title_site_reference_or_id(
    aws, viewer_client, acme
):
    word = f"Boiler{uuid.uuid4().hex[:6]}"  # this test's own, in the shared table
    boiler = new_order(
        acme,
        title=f"Service the gas {word.upper()}",
        site="Harbour Depot",
        external_reference=f"WO-{word}-7",
    )
    other = new_order(acme, title=f"Fix the lights near the {word}", site="Main Street")
    elsewhere = new_order(make_integrator("Globex"), title=f"Check the {word}", site="Harbour")

    def found(q: str, **params) -> set[str]:
        response = viewer_client.get(LIST, {"q": q, **params})
        return {o.id for o in (row["order"] for row in response.context["rows"])}

    everyone = {boiler.id, other.id, elsewhere.id}
    assert found(word.lower()) == everyone  # any case: typed lower, stored UPPER and Capital
    assert found(word[:5].swapcase() + word[5:]) == everyone  # any mix ("bOILER…")
    assert found(f"{word} harbour") == {boiler.id, elsewhere.id}  # every word, any order
    assert found(f"harb {word[:-1]}") == {boiler.id, elsewhere.id}  # first letters of words
    assert found(f"{word} harbour", integrator=acme.slug) == {boiler.id}
    assert found(f"wo-{word.lower()}") == {boiler.id}  # the reference's beginning
    assert found(f"{word} {other.id[:8]}") == {other.id}  # the id's first characters
    assert found(f"{word} plumbing") == set()
    whole_id = viewer_client.get(LIST, {"q": other.id})  # a whole id opens that order
    assert whole_id.status_code == 302 and other.id in whole_id["Location"]


def test_the_order_page_reads_the_order_once_and_its_notes_and_attachments_at_once(
    viewer_client, acme
):
    from portal import container

    order = new_order(acme)
    client = container.client("dynamodb")
    made: list[str] = []
    hook = lambda event_name, **_: made.append(event_name.split(".")[-1])  # noqa: E731
    client.meta.events.register("before-call.dynamodb", hook)
    try:
        assert viewer_client.get(detail(order.id)).status_code == 200
    finally:
        client.meta.events.unregister("before-call.dynamodb", hook)
    assert sorted(made) == ["GetItem", "Query", "Query"]  # the order; its notes; attachments


def test_the_requested_window_is_picked_in_the_staff_members_time_zone(dispatcher_client, acme):
    from datetime import UTC, datetime

    from orders.domain.model import TimeWindow

    start = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)  # 08:00 in Madrid (summer time)
    order = new_order(acme, requested_window=TimeWindow(start=start, end=start.replace(hour=8)))
    dispatcher_client.cookies["staff_tz"] = "Europe/Madrid"
    page = dispatcher_client.get(edit(order.id))
    html = page.content.decode()
    assert 'type="datetime-local" name="window_start" value="2026-07-01T08:00"' in html
    assert 'type="datetime-local" name="window_end" value="2026-07-01T10:00"' in html

    form = page.context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(window_start="2026-07-02T09:30", window_end="2026-07-02T11:00")
    assert dispatcher_client.post(edit(order.id), data).status_code == 302

    window = order_selector().get_order(order.id).requested_window
    assert (window.start, window.end) == (
        datetime(2026, 7, 2, 7, 30, tzinfo=UTC),
        datetime(2026, 7, 2, 9, 0, tzinfo=UTC),
    )


def test_a_sorted_list_keeps_its_sort_and_filters_on_every_page(dispatcher_client, acme):
    priorities = ["low", "urgent", "normal", "high"] * 3
    made = [new_order(acme, priority=p) for p in priorities]
    query = f"integrator={acme.slug}&sort=priority&per_page=10"

    first = dispatcher_client.get(f"{LIST}?{query}")
    rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    shown = [row["order"] for row in first.context["rows"]]
    assert len(shown) == 10 and [rank[o.priority] for o in shown] == sorted(
        rank[o.priority] for o in shown
    )
    next_query = first.context["next_query"]
    assert "sort=priority" in next_query and "page=2" in next_query
    assert f"integrator={acme.slug}" in next_query and "per_page=10" in next_query
    second = dispatcher_client.get(f"{LIST}?{next_query}")
    rest = [row["order"] for row in second.context["rows"]]
    assert {o.id for o in shown} | {o.id for o in rest} == {o.id for o in made}
    assert all(o.priority == "low" for o in rest)
    assert "sort=priority" in second.context["previous_query"]
    # The column headers' links keep the filters and say where a click sorts next.
    links = second.context["sort_links"]
    assert links["priority"]["arrow"] == "▼" and "sort=-priority" in links["priority"]["url"]
    assert f"integrator={acme.slug}" in links["sla"]["url"] and "&page=" not in links["sla"]["url"]


def test_the_filters_in_force_show_as_chips_that_remove_themselves(dispatcher_client, acme):
    new_order(acme)
    page = dispatcher_client.get(
        f"{LIST}?integrator={acme.slug}&status=scheduled&status=on_hold&priority=urgent&sort=sla"
    )
    chips = dict(page.context["chips"])
    assert set(chips) == {
        "Integrator: Acme",
        "Status: Scheduled",
        "Status: On hold",
        "Priority: Urgent",
    }
    without_hold = chips["Status: On hold"]
    assert "status=scheduled" in without_hold and "on_hold" not in without_hold
    assert "sort=sla" in without_hold and "priority=urgent" in without_hold
    assert 'aria-label="Remove the filter Status: On hold"' in page.content.decode()


def test_the_list_filters_by_category_and_site_like_the_api(dispatcher_client, acme):
    boiler = new_order(acme, category="hvac", site="Harbour Depot")
    lights = new_order(acme, category="electrical", site="Harbour Depot")
    elsewhere = new_order(acme, category="electrical", site="Main Street 4")

    def shown(query: str) -> set[str]:
        return set(listed(dispatcher_client.get(f"{LIST}?integrator={acme.slug}&{query}")))

    assert shown("category=electrical") == {lights.id, elsewhere.id}
    assert shown("category=electrical&category=hvac") == {boiler.id, lights.id, elsewhere.id}
    assert shown("site=Harbour+Depot") == {boiler.id, lights.id}
    assert shown("site=Harbour+Depot&category=electrical") == {lights.id}
    page = dispatcher_client.get(f"{LIST}?integrator={acme.slug}&site=Harbour+Depot&category=hvac")
    assert {"Site: Harbour Depot", "Category: HVAC"} <= set(dict(page.context["chips"]))
