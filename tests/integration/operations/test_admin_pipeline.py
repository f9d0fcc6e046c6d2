"""The pipeline page and the dead-letter browser: depths, dead letters, audited redrive and
discard, all in staff's words (status labels, times in their zone)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from operations.models import AuditEntry
from tests.integration.orders.test_admin_orders import staff_client

PIPELINE = reverse("admin:operations_pipeline")


def dead_letters(status: str) -> str:
    return reverse("admin:operations_dead_letters", args=[status])


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


def test_the_pipeline_names_statuses_by_their_labels(viewer, poisoned):
    page = viewer.get(PIPELINE).content.decode()

    start = page.index('id="status-chart"')
    chart = page[start : page.index("</svg>", start)]
    assert ">In progress</text>" in chart and ">On hold</text>" in chart
    table = page[page.index('id="pipeline"') :]
    assert '?status=in_progress">In progress</a>' in table
    # Slugs stay in URLs and data attributes only, never in what is read.
    assert not re.search(r">[^<]*\b(in_progress|on_hold)\b[^<]*<", page)


def test_the_throughput_axis_is_in_the_staff_members_zone(viewer, poisoned):
    viewer.cookies["staff_tz"] = "Asia/Kolkata"  # as staff.js sets it

    response = viewer.get(PIPELINE)

    chart = response.context["throughput"]
    assert chart["zone"] == "IST"
    # The last bar is this minute (or the one before, if it has just turned) in India, not UTC.
    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Kolkata"))
    hours, minutes = (int(part) for part in chart["last"].removesuffix(" IST").split(":"))
    assert (now.hour * 60 + now.minute - hours * 60 - minutes) % 1440 <= 2
    axis = response.content.decode()
    axis = axis[axis.index('id="throughput-axis"') :]
    assert "IST</text>" in axis and "UTC" not in axis[: axis.index("</g>")]


def test_dead_letters_can_be_read_without_moving_them(viewer, poisoned, aws):
    page = viewer.get(dead_letters("accepted"))
    assert page.status_code == 200
    reasons = sorted(letter.reason for letter in page.context["letters"])
    assert reasons == ["not a valid order event 1", "not a valid order event 2"]
    html = page.content.decode()
    assert "Redrive" not in html and "Discard" not in html  # view-only
    assert aws.depth(poisoned)[0] == 2  # still there
    assert viewer.post(dead_letters("accepted")).status_code == 403
    assert viewer.post(dead_letters("accepted"), {"action": "discard"}).status_code == 403
    assert aws.depth(poisoned)[0] == 2  # refused: nothing discarded


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
    from portal.container import order_services

    for _ in range(3):
        order = order_services().intake.create_order(
            data=OrderInput(title="Chart", category="hvac", site="Depot"),
            integrator="chart",
            actor=Actor.integrator("chart"),
        )
    order_services().intake.transition_order(
        order_id=order.id, to="cancelled", actor=Actor.staff("s")
    )
    relay.poll()
    relay.checkpoint()  # the relay writes its counts when it saves its place

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
    assert "dispatcher" in audit and "sent 2 dead letters back" in audit


def test_a_dispatcher_discards_one_then_all_and_the_page_says_so(dispatcher, poisoned, aws):
    letters = dispatcher.get(dead_letters("accepted")).context["letters"]

    one = dispatcher.post(
        dead_letters("accepted"),
        {"action": "discard", "message_id": letters[0].message_id},
        follow=True,
    )
    assert "Discarded 1 dead letter from the accepted queue" in one.content.decode()
    assert [letter.message_id for letter in one.context["letters"]] == [letters[1].message_id]

    rest = dispatcher.post(dead_letters("accepted"), {"action": "discard"}, follow=True)
    assert aws.depth(poisoned) == (0, 0)
    assert aws.depth(aws.status_queue("accepted")) == (0, 0)  # deleted, not sent back
    page = rest.content.decode()
    audit = page[page.index('id="redrive-audit"') :]
    assert "discarded 1 dead letter" in audit and "dispatcher" in audit
    assert [entry.what for entry in rest.context["audit"]] == [
        "discarded 1 dead letter",
        "discarded 1 dead letter",
    ]
    assert "No dead letters" in page


def test_discard_buttons_ask_first(dispatcher, poisoned):
    page = dispatcher.get(dead_letters("accepted")).content.decode()

    discard_all = re.search(r'<form[^>]*id="discard-all"[^>]*>', page).group(0)
    assert 'data-confirm="Discard all 2 dead letters of the accepted queue?' in discard_all
    assert page.count('value="discard" class="button ops-danger" data-confirm=') == 2


def test_an_unknown_action_changes_nothing(dispatcher, poisoned, aws):
    response = dispatcher.post(dead_letters("accepted"), {"action": "delete-everything"})

    assert response.status_code == 400
    assert aws.depth(poisoned)[0] == 2


def test_the_dead_letter_page_reads_in_words(viewer, aws):
    dlq = aws.dead_letter_queue("received")
    aws.drain(dlq)
    aws.sqs.send_message(
        QueueUrl=dlq,
        MessageBody="{}",
        MessageAttributes={
            "failure_reason": {
                "DataType": "String",
                "StringValue": "event for status 'in_progress' on the 'received' queue",
            },
            "failed_at": {"DataType": "String", "StringValue": "2026-01-15T09:30:00.000Z"},
        },
    )
    viewer.cookies["staff_tz"] = "Europe/Madrid"
    try:
        page = viewer.get(dead_letters("received")).content.decode()
    finally:
        aws.drain(dlq)

    assert "<title>Dead letters: Received |" in page
    assert "Event on the wrong queue" in page
    assert "It belongs on the In progress queue, not the Received queue." in page
    assert "2026-01-15 10:30:00 CET" in page  # 09:30 UTC, in the staff member's zone
    assert "in_progress" not in page


def test_the_pipeline_lists_recent_staff_actions_in_words(dispatcher, poisoned):
    dispatcher.post(dead_letters("accepted"))  # both sent back

    page = dispatcher.get(PIPELINE).content.decode()

    recent = page[page.index('id="recent-actions"') :]
    assert re.search(
        r"<td>dispatcher</td>\s*<td>sent 2 dead letters back to <a href=\"[^\"]+/accepted/"
        r"dead-letters/\">the accepted queue</a>",
        recent,
    )
    assert "redrive" not in recent and "dlq" not in recent.lower()


@pytest.mark.parametrize(
    ("reason", "summary", "detail"),
    [
        (
            "not a valid order event: body is not JSON: Expecting value",
            "Not a valid order event",
            "Body is not JSON: Expecting value",
        ),
        (
            "event for status 'on_hold' on the 'accepted' queue",
            "Event on the wrong queue",
            "It belongs on the On hold queue, not the Accepted queue.",
        ),
        ("order 'abc' does not exist", "The order does not exist", "Order abc"),
        (
            "failed 3 times, last: ClientError: throttled",
            "Failed 3 times",
            "Last error: ClientError: throttled",
        ),
        (
            "moved by SQS after too many receives",
            "Moved here by SQS after too many deliveries",
            "The worker never finished with it: it may have stopped in the middle of it.",
        ),
        (
            "cannot move from 'in_progress': locked",
            "Cannot move from “In progress”",
            "Locked",
        ),
    ],
)
def test_failure_reasons_read_in_words(reason, summary, detail):
    from operations.admin import Reason, readable_reason

    assert readable_reason(reason) == Reason(summary, detail)
