"""Staff work an order from its admin page: hold and resume, notes, a technician and a visit,
files straight to S3 (moto) and back, the list's work filters; view-only staff cannot."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.domain.model import Actor, TimeWindow
from orders.domain.rules import OrderInput
from portal.container import order_selector, order_services
from tests.integration.conftest import client_for

from .test_admin_orders import staff_client

LIST = reverse("admin:orders_workorder_changelist")
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def url(name: str, order_id: str) -> str:
    return reverse(f"admin:orders_workorder_{name}", args=[order_id])


@pytest.fixture
def dispatcher(aws, db) -> Client:
    client = staff_client(
        "view_workorder", "add_workorder", "change_workorder", "move_workorder", username="disp"
    )
    User.objects.filter(username="disp").update(first_name="Dana", last_name="Ortiz")
    return client


@pytest.fixture
def viewer(aws, db) -> Client:
    return staff_client("view_workorder", username="viewer")


def new_order(acme, *, schedule: bool = True):
    service = order_services()
    order = service.intake.create_order(
        data=OrderInput(title="Fix the boiler", category="hvac", site="12 High St"),
        integrator=acme.slug,
        actor=Actor.integrator(acme.slug),
    )
    service.pipeline.review(order_id=order.id, version=1, actor=Actor.system("worker:received"))
    if schedule:
        service.assignment.schedule(
            order_id=order.id, version=2, actor=Actor.system("worker:accepted")
        )
    return service.read.get_order(order.id)


def act(client: Client, name: str, order, **fields):
    """Post one of the page's forms as the page showed it (the order's version) and follow
    the redirect back to the page."""
    return client.post(
        url(name, order.id), {"version": order.public_version, **fields}, follow=True
    )


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_dispatcher_holds_an_order_with_a_preset_reason_and_resumes_it(dispatcher, acme, crew):
    order = new_order(acme)

    page = act(dispatcher, "hold", order, preset="Waiting for parts", detail="compressor")

    held = order_selector().get_order(order.id)
    assert held.status == "on_hold"
    assert held.hold.reason == "Waiting for parts: compressor"
    body = page.content.decode()
    assert 'id="hold-info"' in body and "Waiting for parts: compressor" in body
    assert re.search(r'id="sla-clock">Paused<', body)
    assert re.search(r'id="resume-target">Scheduled<', body)  # where Resume takes it, in words
    assert 'id="resume-form"' in body and 'id="hold-form"' not in body
    # No plain "scheduled" button beside Resume: resuming goes back to where it was.
    assert 'data-move="scheduled"' not in body and 'data-move="cancelled"' in body

    resumed = act(dispatcher, "resume", held)

    assert order_selector().get_order(order.id).status == "scheduled"
    assert any("Resumed: back to scheduled" in m for m in said(resumed))  # "scheduled", a word


def test_a_hold_needs_a_reason_when_none_of_the_usual_ones_fits(dispatcher, acme, crew):
    order = new_order(acme)

    page = act(dispatcher, "hold", order, preset="other", detail="  ")

    assert order_selector().get_order(order.id).status == "scheduled"
    assert any("Not put on hold" in m and "Say why" in m for m in said(page))


def test_a_form_from_a_stale_page_changes_nothing(dispatcher, acme, crew):
    order = new_order(acme)
    order_services().timeline.add_note(
        order_id=order.id, text="meanwhile", actor=Actor.staff("bob"), author_name="Bob"
    )

    page = act(dispatcher, "hold", order, preset="Waiting for access")

    assert order_selector().get_order(order.id).status == "scheduled"
    assert any("someone changed this order" in m for m in said(page))


def test_internal_notes_stay_in_the_admin_and_public_ones_reach_the_integrator(
    dispatcher, acme, crew
):
    order = new_order(acme)
    page = act(dispatcher, "note", order, text="Gate code 4411", visibility="internal")
    assert any("Note added (staff only)" in m for m in said(page))
    order = order_selector().get_order(order.id)
    act(dispatcher, "note", order, text="We come Tuesday morning", visibility="public")

    body = dispatcher.get(url("change", order.id)).content.decode()
    assert "Gate code 4411" in body and "We come Tuesday morning" in body
    assert "Dana Ortiz" in body  # shown by name, not login
    api = client_for(acme)
    notes = api.get(f"/v1/orders/{order.id}/notes").json()["results"]
    assert [n["text"] for n in notes] == ["We come Tuesday morning"]
    assert "Gate code" not in api.get(f"/v1/orders/{order.id}").content.decode()


def test_a_dispatcher_sends_a_technician_books_and_moves_the_visit_and_checks_in_and_out(
    dispatcher, acme, crew
):
    order = new_order(acme)
    service = order_services()
    page = dispatcher.get(url("change", order.id)).content.decode()
    assert 'id="technician-form"' in page and "Ana García" in page
    assert 'id="visit-form"' not in page  # a visit needs a technician first

    act(dispatcher, "technician", order, technician="ana")
    order = service.read.get_order(order.id)
    assert order.technician.name == "Ana García"

    start = (timezone.localtime() + timedelta(days=1)).replace(second=0, microsecond=0)
    form_time = "%Y-%m-%dT%H:%M"
    window = {
        "start": start.strftime(form_time),
        "end": (start + timedelta(hours=2)).strftime(form_time),
    }
    act(dispatcher, "visit", order, **window)
    order = service.read.get_order(order.id)
    assert order.visit.start == start and order.visit.end == start + timedelta(hours=2)

    later = start + timedelta(hours=3)
    page = act(
        dispatcher,
        "visit",
        order,
        start=later.strftime(form_time),
        end=(later + timedelta(hours=1)).strftime(form_time),
        reason="customer asked",
    )
    assert any("Visit moved" in m for m in said(page))
    order = service.read.get_order(order.id)
    assert order.visit.start == later and order.visit.reschedules == 1

    act(dispatcher, "check_in", order)
    order = service.read.get_order(order.id)
    assert order.status == "in_progress" and order.visit.checked_in_at is not None
    act(dispatcher, "check_out", order)
    order = service.read.get_order(order.id)
    assert order.visit.checked_out_at is not None

    seen = client_for(acme).get(f"/v1/orders/{order.id}").json()
    assert seen["technician"]["name"] == "Ana García"
    types = [h["type"] for h in seen["history"]]
    for expected in (
        "order.visit_scheduled",
        "order.visit_rescheduled",
        "order.visit_checked_in",
        "order.visit_checked_out",
    ):
        assert expected in types


def uploaded_to_s3(client: Client, order, *, visibility: str = "internal") -> str:
    """Ask the admin for a form, send the file to S3; the path and query S3 sends back to."""
    signed = client.post(
        url("upload", order.id),
        {
            "filename": "meter.png",
            "content_type": "image/png",
            "size": len(PNG),
            "visibility": visibility,
        },
    )
    assert signed.status_code == 200, signed.content
    ticket = signed.json()
    sent = requests.post(
        ticket["url"],
        data=ticket["fields"],
        files={"file": ("meter.png", PNG, "image/png")},
        allow_redirects=False,
        timeout=10,
    )
    assert sent.status_code == 303, sent.text
    back = urlsplit(sent.headers["Location"])
    assert back.path == url("uploaded", order.id)  # S3 sends the browser back to the admin
    return f"{back.path}?{back.query}"


def test_a_file_goes_to_s3_and_back_and_shows_as_a_preview(dispatcher, acme, crew, aws):
    order = new_order(acme)
    back = urlsplit(uploaded_to_s3(dispatcher, order, visibility="public"))

    # Its page records nothing by itself (a GET); the page's form POSTs the key back.
    page = dispatcher.post(back.path, {"key": parse_qs(back.query)["key"][0]}, follow=True)

    assert any("Attached meter.png" in m for m in said(page))
    body = page.content.decode()
    preview = re.search(r'<img class="wo-preview" src="([^"]+)"', body)
    assert preview is not None
    image = requests.get(preview.group(1).replace("&amp;", "&"), timeout=10)
    assert image.status_code == 200 and image.content == PNG
    policy = page.headers["Content-Security-Policy"]
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(aws.endpoint))
    assert re.search(rf"form-action [^;]*{re.escape(origin)}", policy)
    assert re.search(rf"img-src [^;]*{re.escape(origin)}", policy)
    listed = client_for(acme).get(f"/v1/orders/{order.id}/attachments").json()["results"]
    assert [a["filename"] for a in listed] == ["meter.png"]


def test_a_file_of_a_type_not_allowed_gets_no_form(dispatcher, acme, crew):
    order = new_order(acme)

    signed = dispatcher.post(
        url("upload", order.id),
        {
            "filename": "run.exe",
            "content_type": "application/x-msdownload",
            "size": 10,
            "visibility": "internal",
        },
    )

    assert signed.status_code == 400
    assert "Use one of" in signed.json()["error"]


def test_view_only_staff_see_the_work_but_cannot_do_it(viewer, acme, crew):
    order = new_order(acme)
    body = viewer.get(url("change", order.id)).content.decode()
    assert 'id="sla"' in body and 'id="history"' in body
    for form in ("hold-form", "note-form", "attach-form", "technician-form"):
        assert f'id="{form}"' not in body
    for name, fields in (
        ("hold", {"preset": "Waiting for parts"}),
        ("note", {"text": "hi", "visibility": "public"}),
        ("technician", {"technician": "ana"}),
        ("check_in", {}),
    ):
        response = viewer.post(url(name, order.id), {"version": order.public_version, **fields})
        assert response.status_code == 403, name
    upload = {"filename": "a.png", "content_type": "image/png", "size": 3, "visibility": "public"}
    assert viewer.post(url("upload", order.id), upload).status_code == 403
    assert order_selector().get_order(order.id).version == order.version


def test_the_list_filters_unassigned_orders_a_technicians_and_todays_visits(dispatcher, acme, crew):
    visited = new_order(acme)
    waiting = new_order(acme, schedule=False)  # reviewed; not yet placed with a team
    assert waiting.status == "accepted"
    service = order_services()
    staff = Actor.staff("disp")
    visited = service.field_work.assign_technician(
        order_id=visited.id, technician_id="ana", actor=staff
    )
    now = timezone.localtime()
    start = max(now - timedelta(minutes=5), now.replace(hour=0, minute=0, second=0))
    service.field_work.schedule_visit(
        order_id=visited.id, window=TimeWindow(start, now + timedelta(hours=1)), actor=staff
    )

    def listed(**query) -> str:
        response = dispatcher.get(LIST, query)
        assert response.status_code == 200
        return response.content.decode()

    unassigned = listed(waiting="unassigned", integrator=acme.slug)
    assert f'data-order="{waiting.id}"' in unassigned
    assert f'data-order="{visited.id}"' not in unassigned
    anas = listed(technician="ana")
    assert f'data-order="{visited.id}"' in anas and f'data-order="{waiting.id}"' not in anas
    today = listed(visit_today="on")
    assert f'data-order="{visited.id}"' in today and f'data-order="{waiting.id}"' not in today
    on_hold = listed(status="on_hold")
    assert f'data-order="{visited.id}"' not in on_hold
