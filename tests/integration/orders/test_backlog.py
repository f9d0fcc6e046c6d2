"""Orders waiting for a team, over DynamoDB: the admin pipeline page lists them oldest first,
and a team change in the admin (capacity raised, a team added) assigns them at once."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from orders.domain.model import Actor
from orders.domain.rules import OrderInput
from orders.domain.workflow import Status
from orders.models import Team
from portal.container import order_selector, order_services

WORKER = Actor.system("worker:test")
PIPELINE = reverse("admin:operations_pipeline")


@pytest.fixture
def own_table(aws, settings):
    """A table of its own, so that the backlog holds only this test's orders."""
    settings.ORDERS_TABLE_NAME = aws.fresh_table("backlog")


@pytest.fixture
def superuser(own_table, db) -> Client:
    user = User.objects.create_superuser(f"boss-{uuid.uuid4().hex[:6]}", password="pw-unused")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def full_team(own_table, db) -> Team:
    """The only plumbing team, its single slot taken by a scheduled order."""
    Team.objects.filter(categories__icontains="plumbing").update(active=False)
    team = Team.objects.create(
        code=f"pipes-{uuid.uuid4().hex[:6]}", name="Pipes", categories=["plumbing"], capacity=1
    )
    assert accept_and_schedule().status is Status.SCHEDULED
    return team


def accept_and_schedule(reference: str | None = None):
    service = order_services()
    order = service.intake.create_order(
        data=OrderInput(
            title="Leak", category="plumbing", site="Unit 4", external_reference=reference
        ),
        integrator="acme",
        actor=Actor.integrator("acme"),
    )
    accepted = service.pipeline.review(order_id=order.id, version=order.version, actor=WORKER)
    return service.assignment.schedule(order_id=order.id, version=accepted.version, actor=WORKER)


#: The team page's (empty) technicians inline, as a browser sends it with every save.
NO_TECHNICIANS = {
    "technicians-TOTAL_FORMS": "0",
    "technicians-INITIAL_FORMS": "0",
    "technicians-MIN_NUM_FORMS": "0",
    "technicians-MAX_NUM_FORMS": "1000",
}


def team_form(team: Team, **changes) -> dict:
    return {
        "code": team.code,
        "name": team.name,
        "categories": ["plumbing"],  # ticked boxes, as a browser posts them
        "capacity": team.capacity,
        "active": "on",
        **NO_TECHNICIANS,
        **changes,
    }


def test_waiting_orders_are_listed_oldest_first_on_the_pipeline_page(full_team, superuser):
    older = accept_and_schedule("WAIT-1")
    younger = accept_and_schedule("WAIT-2")
    assert older.status is younger.status is Status.ACCEPTED

    response = superuser.get(PIPELINE)

    rows = {row.status: row for row in response.context["rows"]}
    assert [o.id for o in rows["accepted"].backlog] == [older.id, younger.id]
    assert rows["accepted"].orders == 2
    page = response.content.decode()
    assert 'id="backlog"' in page
    assert page.index("WAIT-1") < page.index("WAIT-2")


def test_raising_a_teams_capacity_in_the_admin_assigns_the_oldest_waiting_order(
    full_team, superuser, django_capture_on_commit_callbacks
):
    older = accept_and_schedule()
    younger = accept_and_schedule()

    with django_capture_on_commit_callbacks(execute=True):  # the admin's save commits
        response = superuser.post(
            reverse("admin:orders_team_change", args=[full_team.pk]),
            team_form(full_team, capacity=2),
            follow=True,
        )

    assert response.status_code == 200
    service = order_services()
    assert service.read.get_order(older.id).status is Status.SCHEDULED
    assert service.read.get_order(older.id).assigned_team == full_team.code
    assert service.read.get_order(younger.id).status is Status.ACCEPTED


def test_a_team_added_in_the_admin_takes_waiting_orders(
    full_team, superuser, django_capture_on_commit_callbacks
):
    waiting = accept_and_schedule()
    code = f"more-pipes-{uuid.uuid4().hex[:6]}"

    with django_capture_on_commit_callbacks(execute=True):
        superuser.post(
            reverse("admin:orders_team_add"),
            {
                "code": code,
                "name": "More",
                "categories": ["plumbing"],  # ticked boxes, as a browser posts them
                "capacity": 3,
                "active": "on",
                **NO_TECHNICIANS,
            },
        )

    assert order_selector().get_order(waiting.id).assigned_team == code
