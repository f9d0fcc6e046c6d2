"""The pipeline page and the dead-letter browser: depths, dead letters, audited redrive."""

from __future__ import annotations

import pytest
from django.urls import reverse

from operations.models import AuditEntry
from tests.integration.orders.test_admin_orders import staff_client

PIPELINE = reverse("admin:orders_workorder_pipeline")


def dead_letters(status: str) -> str:
    return reverse("admin:orders_workorder_dead_letters", args=[status])


@pytest.fixture
def dispatcher(aws, db):
    return staff_client("view_workorder", "move_workorder", username="dispatcher")


@pytest.fixture
def viewer(aws, db):
    return staff_client("view_workorder", username="viewer")


@pytest.fixture
def poisoned(aws):
    """Two dead letters on the accepted queue's DLQ, as a worker leaves them."""
    dlq = aws.dead_letter_queue("accepted")
    aws.drain(dlq)
    aws.drain(aws.status_queue("accepted"))
    for n in (1, 2):
        aws.sqs.send_message(
            QueueUrl=dlq,
            MessageBody=f'{{"broken": {n}}}',
            MessageAttributes={
                "failure_reason": {
                    "DataType": "String",
                    "StringValue": f"not a valid order event {n}",
                },
                "status": {"DataType": "String", "StringValue": "accepted"},
            },
        )
    yield dlq
    aws.drain(dlq)
    aws.drain(aws.status_queue("accepted"))


def test_the_pipeline_page_shows_each_status_with_its_queues(viewer, poisoned):
    response = viewer.get(PIPELINE)
    assert response.status_code == 200
    rows = {row.status: row for row in response.context["rows"]}
    assert set(rows) == {
        "received",
        "accepted",
        "scheduled",
        "in_progress",
        "completed",
        "cancelled",
        "rejected",
        "on_hold",
    }
    assert rows["accepted"].dead_letters == 2
    page = response.content.decode()
    assert 'id="status-chart"' in page
    assert 'id="status-legend"' in page and 'id="throughput-legend"' in page
    # Only orders a worker moves on can be stuck: scheduled and started orders wait for their
    # visit and the work (days, often), on hold for staff, finished ones for nothing.
    assert {s for s, row in rows.items() if row.stuck is not None} == {"received", "accepted"}
    assert "wait for their visit and the work" in page


def test_dead_letters_can_be_read_without_moving_them(viewer, poisoned, aws):
    page = viewer.get(dead_letters("accepted"))
    assert page.status_code == 200
    reasons = sorted(letter.reason for letter in page.context["letters"])
    assert reasons == ["not a valid order event 1", "not a valid order event 2"]
    assert "Redrive" not in page.content.decode()  # view-only
    assert aws.depth(poisoned)[0] == 2  # still there
    assert viewer.post(dead_letters("accepted")).status_code == 403


def test_redrive_one_then_all_is_audited(dispatcher, poisoned, aws):
    letters = dispatcher.get(dead_letters("accepted")).context["letters"]
    one = letters[0]
    dispatcher.post(dead_letters("accepted"), {"message_id": one.message_id})
    back = aws.drain(aws.status_queue("accepted"))
    assert [m["Body"] for m in back] == [one.body]
    assert back[0]["MessageAttributes"]["status"]["StringValue"] == "accepted"
    assert aws.depth(poisoned)[0] == 1

    dispatcher.post(dead_letters("accepted"))
    assert aws.depth(poisoned)[0] == 0
    assert len(aws.drain(aws.status_queue("accepted"))) == 1
    entries = list(AuditEntry.objects.filter(action="redrive", user="dispatcher").order_by("at"))
    assert len(entries) == 2
    assert entries[0].detail.startswith("1 message(s), message ")
    assert entries[1].detail == "1 message(s)"


def test_an_unknown_status_is_404(viewer):
    assert viewer.get(dead_letters("lost")).status_code == 404


def test_the_pipeline_page_charts_the_last_hours_moves(aws, relay, viewer, db):
    from orders.domain.model import Actor
    from orders.domain.rules import OrderInput
    from portal.container import order_service

    for _ in range(3):
        order = order_service().create_order(
            data=OrderInput(title="Chart", category="hvac", site="Depot"),
            integrator="chart",
            actor=Actor.integrator("chart"),
        )
    order_service().transition_order(order_id=order.id, to="cancelled", actor=Actor.staff("s"))
    relay.poll()

    chart = viewer.get(PIPELINE).context["throughput"]
    assert len(chart["bars"]) == 60
    latest = chart["bars"][-1]["total"] + chart["bars"][-2]["total"]
    assert latest >= 4  # three creations and a cancellation (a minute may have just turned)
    assert 'id="throughput-chart"' in viewer.get(PIPELINE).content.decode()


def test_the_pipeline_page_shows_how_long_things_have_waited(viewer, poisoned):
    rows = {row.status: row for row in viewer.get(PIPELINE).context["rows"]}
    assert rows["accepted"].oldest_dead_letter is not None
    assert rows["accepted"].oldest_dead_letter.total_seconds() >= 0


def test_durations_read_shortly():
    from datetime import timedelta

    from orders.templatetags.orders_admin import duration

    assert [duration(timedelta(seconds=s)) for s in (45, 720, 11_100, 187_200)] == [
        "45 s",
        "12 min",
        "3 h 5 min",
        "2 d 4 h",
    ]


def test_the_dead_letter_page_counts_them_all_and_pages_past_the_first_fifty(viewer, aws):
    dlq = aws.dead_letter_queue("completed")
    aws.drain(dlq)
    for start in range(0, 60, 10):
        aws.sqs.send_message_batch(
            QueueUrl=dlq,
            Entries=[{"Id": str(n), "MessageBody": f'{{"n": {start + n}}}'} for n in range(10)],
        )
    try:
        first = viewer.get(dead_letters("completed"))
        assert len(first.context["letters"]) == 50
        page = first.content.decode()
        assert "<strong>60</strong> dead letters in the queue; 50 shown" in page
        assert "?show=200" in page

        everything = viewer.get(dead_letters("completed") + "?show=200").context["letters"]
        assert sorted(int(letter.body[6:-1]) for letter in everything) == list(range(60))
        assert aws.depth(dlq) == (60, 0)  # looked at in place: all visible again
    finally:
        aws.drain(dlq)


def test_the_dead_letter_page_shows_who_sent_letters_back(dispatcher, poisoned):
    dispatcher.post(dead_letters("accepted"))

    page = dispatcher.get(dead_letters("accepted")).content.decode()

    audit = page[page.index('id="redrive-audit"') :]
    assert "dispatcher" in audit and "2 message(s)" in audit
