"""The webhook deliveries' admin in staff's words: event kinds and statuses by their labels (in
the list and its filters), the order linked to its page with its long id shortened, times in
the staff member's zone on one line, and a delivery's page that edits nothing."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from tests.integration.conftest import make_integrator
from webhooks.endpoints import create_endpoint
from webhooks.models import WebhookDelivery

DELIVERIES = reverse("admin:webhooks_webhookdelivery_changelist")


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def delivery(db) -> WebhookDelivery:
    endpoint = create_endpoint(make_integrator().slug, url="http://127.0.0.1:9/hooks")
    made = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=uuid.uuid4().hex,
        event_type="order.visit_checked_in",
        order_id=str(uuid.uuid4()),
        status="in_progress",
        payload="{}",
        next_attempt_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
    )
    return made


@pytest.fixture
def staff(db) -> Client:
    user = User.objects.create_user("hooks-viewer", password="pw-not-used", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="webhooks",
            codename__in=["view_webhookdelivery", "view_webhookendpoint"],
        )
    )
    client = Client()
    client.force_login(user)
    client.cookies["staff_tz"] = "Europe/Madrid"
    return client


def test_the_list_reads_in_words_and_links_each_order(staff, delivery):
    page = staff.get(DELIVERIES).content.decode()

    order_page = reverse("admin:orders_workorder_change", args=[delivery.order_id])
    link = re.search(rf'<a class="wh-order" href="{order_page}" title="([^"]+)">([^<]+)</a>', page)
    assert link, "the order id links to the order's page"
    assert link.group(1) == delivery.order_id
    assert link.group(2) == delivery.order_id[:12] + "…"  # short, the full id on hover
    assert ">Checked in</span>" in page and ">In progress<" in page and ">Pending<" in page
    assert '<span class="wh-time">2026-07-01 14:00:00 CEST</span>' in page  # Madrid, summer
    assert "order.visit_checked_in" not in re.sub(r'href="[^"]*"', "", page)


def test_the_filters_name_events_and_statuses_by_their_labels(staff, delivery):
    page = staff.get(DELIVERIES).content.decode()

    assert "?event_type=order.status_changed" in page and ">Status changed</a>" in page
    assert "?status=on_hold" in page and ">On hold</a>" in page
    filtered = staff.get(DELIVERIES, {"event_type": "order.visit_checked_in"})
    assert list(filtered.context["cl"].result_list) == [delivery]
    assert list(staff.get(DELIVERIES, {"status": "completed"}).context["cl"].result_list) == []


def test_a_deliverys_page_shows_the_same_words_and_edits_nothing(staff, delivery):
    page = staff.get(
        reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])
    ).content.decode()

    assert "Checked in" in page and "In progress" in page
    assert reverse("admin:orders_workorder_change", args=[delivery.order_id]) in page
    assert 'name="event_type"' not in page and 'name="order_id"' not in page


def test_an_order_id_no_page_can_have_is_shown_without_a_link(staff, delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(order_id="../odd/id")

    page = staff.get(DELIVERIES).content.decode()

    assert '<span class="wh-order" title="../odd/id">../odd/id</span>' in page
