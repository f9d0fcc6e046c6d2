"""The order repository's contract: the same tests for the DynamoDB repository (moto server
over HTTP) and the in-memory one the unit tests use. A few DynamoDB-only tests close the file."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from orders.domain.errors import (
    ConcurrencyConflict,
    InvalidCursor,
    OrderAlreadyExists,
    OrderNotFound,
)
from orders.domain.model import Actor
from orders.domain.workflow import Status
from orders.repository.base import OrderFilter
from orders.repository.dynamodb import DynamoOrderRepository, DynamoTeamLoads
from orders.repository.memory import InMemoryOrderRepository
from tests.integration.factories import moved, new_order


@pytest.fixture(params=["dynamodb", "memory"])
def repo(request):
    if request.param == "memory":
        return InMemoryOrderRepository(cursor_secret=b"test-secret")
    aws = request.getfixturevalue("aws")
    return DynamoOrderRepository(aws.dynamodb, aws.resources.table, cursor_secret=b"test-secret")


@pytest.fixture(params=["dynamodb", "memory"])
def own_repo(request):
    """A repository that holds only what the test stores: its own table, or a new memory one."""
    if request.param == "memory":
        return InMemoryOrderRepository(cursor_secret=b"s")
    aws = request.getfixturevalue("aws")
    return DynamoOrderRepository(aws.dynamodb, aws.fresh_table("recent"), cursor_secret=b"s")


def test_add_then_get_returns_the_same_order(repo):
    order, _, message = new_order(
        external_reference="WO-1",
        description="Lights flicker",
        metadata={"floor": 2, "tags": ["a"]},
        requested_window=None,
    )
    repo.add(order, message)
    assert repo.get(order.id) == order


def test_add_refuses_an_existing_id(repo):
    order, _, message = new_order()
    repo.add(order, message)
    with pytest.raises(OrderAlreadyExists):
        repo.add(order.replace(title="Other"), message)
    assert repo.get(order.id).title == order.title


def test_get_unknown_order_is_not_found(repo):
    with pytest.raises(OrderNotFound):
        repo.get(str(uuid.uuid4()))


def test_save_move_appends_history_and_bumps_version(repo):
    order, _, message = new_order()
    repo.add(order, message)
    accepted, _, accepted_message = moved(order, Status.ACCEPTED)
    repo.save_move(accepted, accepted_message, expected_status="received", expected_version=1)

    stored = repo.get(order.id)
    assert stored.status == Status.ACCEPTED and stored.version == 2
    assert stored.sla_due_at == accepted.sla_due_at
    assert [(h.from_status, h.to_status) for h in repo.history(order.id)] == [
        (None, Status.RECEIVED),
        (Status.RECEIVED, Status.ACCEPTED),
    ]


def test_save_move_with_stale_version_says_the_version_changed(repo):
    order, _, message = new_order()
    repo.add(order, message)
    accepted, _, m1 = moved(order, Status.ACCEPTED)
    repo.save_move(accepted, m1, expected_status="received", expected_version=1)
    again, _, m2 = moved(order, Status.REJECTED, reason="late")
    with pytest.raises(ConcurrencyConflict) as caught:
        repo.save_move(again, m2, expected_status="accepted", expected_version=1)
    assert caught.value.version_changed and not caught.value.status_changed
    assert (caught.value.actual_status, caught.value.actual_version) == ("accepted", 2)
    assert repo.get(order.id).status == Status.ACCEPTED


def test_save_move_with_wrong_status_says_the_status_changed(repo):
    order, _, message = new_order()
    repo.add(order, message)
    accepted, _, m1 = moved(order, Status.ACCEPTED)
    with pytest.raises(ConcurrencyConflict) as caught:
        repo.save_move(accepted, m1, expected_status="accepted", expected_version=1)
    assert caught.value.status_changed and not caught.value.version_changed
    assert repo.get(order.id).version == 1


def test_save_move_of_a_missing_order_is_not_found(repo):
    order, _, _ = new_order()
    accepted, _, m1 = moved(order, Status.ACCEPTED)
    with pytest.raises(OrderNotFound):
        repo.save_move(accepted, m1, expected_status="received", expected_version=1)


def test_optional_fields_are_removed_when_cleared(repo):
    order, _, message = new_order(category="hvac")
    repo.add(order, message)
    accepted, _, m1 = moved(order, Status.ACCEPTED)
    repo.save_move(accepted, m1, expected_status="received", expected_version=1)
    scheduled, _, m2 = moved(accepted, Status.SCHEDULED, team="hvac-crew")
    repo.save_move(scheduled, m2, expected_status="accepted", expected_version=2)
    assert repo.get(order.id).assigned_team == "hvac-crew"


def test_list_by_integrator_pages_newest_first_with_cursors(repo):
    integrator = f"int-{uuid.uuid4().hex[:6]}"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    created = []
    for i in range(7):
        order, _, message = new_order(
            integrator=integrator, created_at=start + timedelta(minutes=i)
        )
        repo.add(order, message)
        created.append(order.id)

    seen, cursor, pages = [], None, 0
    while True:
        page = repo.list_by_integrator(integrator, limit=3, cursor=cursor)
        seen.extend(o.id for o in page.items)
        pages += 1
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == list(reversed(created))
    assert pages >= 3


def test_list_by_status_only_lists_that_status(repo):
    integrator = f"int-{uuid.uuid4().hex[:6]}"
    order, _, message = new_order(integrator=integrator)
    repo.add(order, message)
    other, _, other_message = new_order(integrator=integrator)
    repo.add(other, other_message)
    accepted, _, m1 = moved(other, Status.ACCEPTED)
    repo.save_move(accepted, m1, expected_status="received", expected_version=1)

    received_ids = _all_ids(lambda c: repo.list_by_status("received", limit=200, cursor=c))
    accepted_ids = _all_ids(lambda c: repo.list_by_status("accepted", limit=200, cursor=c))
    assert order.id in received_ids and order.id not in accepted_ids
    assert other.id in accepted_ids and other.id not in received_ids


def _all_ids(fetch) -> set[str]:
    ids, cursor = set(), None
    while True:
        page = fetch(cursor)
        ids.update(o.id for o in page.items)
        if not page.next_cursor:
            return ids
        cursor = page.next_cursor


def test_a_cursor_from_one_listing_is_refused_by_another(repo):
    integrator = f"int-{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        order, _, message = new_order(integrator=integrator)
        repo.add(order, message)
    cursor = repo.list_by_integrator(integrator, limit=1).next_cursor
    assert cursor
    with pytest.raises(InvalidCursor):
        repo.list_by_integrator("someone-else", limit=1, cursor=cursor)
    with pytest.raises(InvalidCursor):
        repo.list_by_integrator(integrator, limit=1, cursor=cursor[:-3] + "abc")


# DynamoDB only: team loads are their own items in the table, not the order repository.
def test_team_loads_reserve_up_to_capacity_idempotently(aws):
    loads = DynamoTeamLoads(aws.dynamodb, aws.resources.table)
    team = f"team-{uuid.uuid4().hex[:6]}"
    assert loads.reserve(team, "o1", capacity=2)
    assert loads.reserve(team, "o1", capacity=2)  # same order again: still one slot
    assert loads.reserve(team, "o2", capacity=2)
    assert not loads.reserve(team, "o3", capacity=2)
    assert loads.reserve(team, "o2", capacity=2)  # already holds it, even when full
    assert loads.holdings([team, "nobody"]) == {
        team: frozenset({"o1", "o2"}),
        "nobody": frozenset(),
    }
    loads.release(team, "o1")
    loads.release(team, "o1")
    assert loads.holdings([team])[team] == frozenset({"o2"})
    assert loads.reserve(team, "o3", capacity=2)


def test_list_recent_merges_every_status_newest_first_across_pages(own_repo):
    """Its own repository, so that the merge sees only these orders."""
    repo = own_repo
    start = datetime(2026, 3, 1, tzinfo=UTC)
    paths = [
        [],
        ["accepted"],
        ["rejected"],
        [],
        ["accepted", "scheduled"],
        ["cancelled"],
        [],
        ["accepted"],
        [],
    ]
    created = []
    for i, path in enumerate(paths):
        order, _, message = new_order(created_at=start + timedelta(minutes=i), category="hvac")
        repo.add(order, message)
        for to in path:
            kwargs = {"team": "hvac-crew"} if to == "scheduled" else {}
            if to in ("rejected", "cancelled"):
                kwargs["reason"] = "test"
            actor = Actor.staff("t") if to == "cancelled" else None
            moved_order, _, m = moved(order, to, actor=actor, **kwargs)
            repo.save_move(
                moved_order, m, expected_status=order.status, expected_version=order.version
            )
            order = moved_order
        created.append(order.id)

    for size in (1, 2, 4, 20):
        seen, cursor = [], None
        while True:
            page = repo.list_recent(limit=size, cursor=cursor)
            seen.extend(o.id for o in page.items)
            cursor = page.next_cursor
            if not cursor:
                break
        assert seen == created[::-1], size

    open_only = repo.list_recent(
        filters=OrderFilter(statuses=frozenset({"received", "accepted"})), limit=50
    )
    expected = [
        oid
        for oid, path in zip(created, paths, strict=True)
        if (path[-1] if path else "received") in ("received", "accepted")
    ]
    assert [o.id for o in open_only.items] == expected[::-1]


# DynamoDB only: it reads the raw item the stream carries, and only that repository has a region.
def test_each_change_records_the_region_that_wrote_it(aws):
    """A global table replicates writes to every region's stream; the region stamped on the
    change is what lets each region's relay publish only its own."""
    from orders.repository.dynamodb import event_from_image, order_key

    repo = DynamoOrderRepository(
        aws.dynamodb, aws.resources.table, cursor_secret=b"s", region="eu-west-1"
    )
    order, _, created = new_order()
    repo.add(order, created)
    accepted, _, message = moved(order, Status.ACCEPTED)
    repo.save_move(accepted, message, expected_status=order.status, expected_version=order.version)

    item = aws.dynamodb.get_item(
        TableName=aws.resources.table, Key=order_key(order.id), ConsistentRead=True
    )["Item"]
    assert event_from_image(item).region == "eu-west-1"
    assert event_from_image(item).event_id == message.event_id


def test_a_text_filter_finds_words_of_the_title_or_the_site_in_any_usual_case(own_repo):
    integrator = f"int-{uuid.uuid4().hex[:6]}"
    stored = {}
    for name, title, site in (
        ("filter", "Replace HVAC filter", "Depot 3"),
        ("site", "Fix the lights", "Harbour Street Store"),
        ("other", "Paint the fence", "Depot 9"),
    ):
        order, _, message = new_order(integrator=integrator, title=title, site=site)
        own_repo.add(order, message)
        stored[name] = order.id

    def found(text: str) -> set[str]:
        page = own_repo.list_by_integrator(integrator, filters=OrderFilter(text=text), limit=50)
        return {name for name, order_id in stored.items() if order_id in {o.id for o in page.items}}

    assert found("hvac filter") == {"filter"}  # lower case typed, UPPER and lower stored
    assert found("HVAC") == {"filter"}
    assert found("harbour street") == {"site"}  # Title Case in the site
    assert found("Depot") == {"filter", "other"}
    assert found("plumbing") == set()
