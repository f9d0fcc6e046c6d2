"""The order repository's contract: the same tests for the DynamoDB repository (moto server
over HTTP) and the in-memory one the unit tests use. A few DynamoDB-only tests close the file."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from orders.domain import rules, search
from orders.domain.errors import (
    ConcurrencyConflict,
    InvalidCursor,
    OrderAlreadyExists,
    OrderNotFound,
)
from orders.domain.model import Actor
from orders.domain.workflow import Status
from orders.events.contract import to_message
from orders.repository.base import OrderFilter
from orders.repository.dynamodb import DynamoOrderRepository
from orders.repository.memory import InMemoryOrderRepository
from orders.repository.team_loads import DynamoTeamLoads
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
    _, _, another_create = new_order()
    with pytest.raises(OrderAlreadyExists):
        repo.add(order.replace(title="Other"), another_create)
    assert repo.get(order.id).title == order.title


def test_a_write_repeated_with_its_own_event_is_taken_as_done(repo):
    """A retried request (the SDK's, after a lost answer) carries the same event: it finds its
    own first try stored and succeeds, once, instead of meeting a conflict with itself."""
    order, _, message = new_order()
    repo.add(order, message)
    repo.add(order, message)
    accepted, _, m1 = moved(order, Status.ACCEPTED)
    repo.save_move(accepted, m1, expected_status="received", expected_version=1)
    repo.save_move(accepted, m1, expected_status="received", expected_version=1)
    stored = repo.get(order.id)
    assert (stored.status, stored.version, len(stored.history)) == (Status.ACCEPTED, 2, 2)


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
    loads = DynamoTeamLoads(aws.dynamodb, aws.resources.side_table)
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
    from orders.repository.items import order_key
    from orders.repository.stream_images import event_from_image

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


def test_search_finds_orders_every_term_starts_a_word_of_newest_first(own_repo):
    start = datetime(2026, 5, 1, tzinfo=UTC)
    stored = {}
    for minutes, (name, title, site, reference) in enumerate(
        (
            ("filter", "Replace HVAC filter", "Depot 3", "WO-1001"),
            ("site", "Fix the lights", "Harbour Street Store", None),
            ("other", "Paint the fence", "Depot 30", "wo-2002"),
            ("cafe", "Clean the café's hvac vents", "Café Müller", None),
        )
    ):
        order, _, message = new_order(
            title=title,
            site=site,
            external_reference=reference,
            created_at=start + timedelta(minutes=minutes),
        )
        own_repo.add(order, message)
        stored[order.id] = name

    def found(text: str, limit: int = 50) -> list[str]:
        return [stored[o.id] for o in own_repo.search(search.query_terms(text), limit=limit).items]

    assert found("hVaC") == ["cafe", "filter"]  # any case mix, newest first
    assert found("HVAC filter") == ["filter"]  # every term
    assert found("filter hvac") == ["filter"]  # in any order
    assert found("harb str") == ["site"]  # first letters of words
    assert found("depot 3") == ["filter"]  # a short term is a whole word: not "30"
    assert found("depot") == ["other", "filter"]
    assert found("cafe muller") == ["cafe"]  # accents ignored
    assert found("WO-100") == ["filter"]  # the reference's beginning, as typed
    assert found("2002") == ["other"]  # a word of the reference
    some_id = next(i for i, name in stored.items() if name == "site")
    assert found(some_id[:8]) == ["site"]  # an id's first characters
    assert found("plumbing") == [] and found("") == []
    page = own_repo.search(["depot"], limit=1)
    assert [stored[o.id] for o in page.items] == ["other"] and page.more


def test_search_follows_an_edit_of_the_title(own_repo):
    order, _, message = new_order(title="Service the boiler", site="Depot 3")
    own_repo.add(order, message)
    edited, event = rules.edit(
        order, {"title": "Service the chiller"}, actor=Actor.staff("t"), now=datetime.now(UTC)
    )
    own_repo.save_move(
        edited, to_message(event), expected_status=order.status, expected_version=order.version
    )
    assert [o.id for o in own_repo.search(["chiller"]).items] == [order.id]
    assert own_repo.search(["boiler", "depot"]).items == []


# DynamoDB only: the merged list's per-shard queries are issued at once.
def test_the_merged_list_reads_its_shards_at_once(aws):
    from kernel.fan_out import FanOut
    from tests.support import CallsInFlight

    client = boto3.session.Session().client(
        "dynamodb", endpoint_url=aws.dynamodb_endpoint, region_name="us-east-1"
    )
    table = aws.fresh_table("fanout")
    repo = DynamoOrderRepository(client, table, cursor_secret=b"s", fan_out=FanOut(10))
    order, _, message = new_order()
    repo.add(order, message)

    with CallsInFlight(10).watching(client) as calls:
        page = repo.list_recent(limit=10)

    assert [o.id for o in page.items] == [order.id]
    assert calls.peak == 10  # one query per shard, as many in flight as the fan-out allows


# DynamoDB only: the search index's items.
def search_entries(aws, table: str, order) -> list[dict]:
    """The index items stored for ``order`` (read from every bucket its tokens go to)."""
    from orders.repository.search_index import search_items
    from orders.repository.table_design import SEARCH_PREFIX

    buckets = {item["pk"]["S"] for item in search_items(order, written_at=datetime.now(UTC))}
    found = []
    for pk in buckets:
        items = aws.dynamodb.query(
            TableName=f"{table}-side",  # search entries live beside the orders
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
        )["Items"]
        found += [i for i in items if i["order_id"]["S"] == order.id]
    assert all(i["pk"]["S"].startswith(SEARCH_PREFIX) for i in found)
    return found


def test_search_removes_entries_that_lead_nowhere_once_they_are_old(aws):
    from orders.repository.search_index import search_items

    table = aws.fresh_table("stale")
    repo = DynamoOrderRepository(aws.dynamodb, table, cursor_secret=b"s")
    old = datetime.now(UTC) - timedelta(hours=1)
    gone, _, _ = new_order(title="Service the boiler")  # its write failed after its entries
    young, _, _ = new_order(title="Service the boiler")  # its write may still be on its way
    requests = [
        {"PutRequest": {"Item": item}}
        for item in [
            *search_items(gone, written_at=old),
            *search_items(young, written_at=datetime.now(UTC)),
        ]
    ]
    for start in range(0, len(requests), 25):
        aws.dynamodb.batch_write_item(RequestItems={f"{table}-side": requests[start : start + 25]})

    assert repo.search(["boiler"]).items == []

    remaining = {i["sk"]["S"].split("#")[0] for i in search_entries(aws, table, gone)}
    assert "boiler" not in remaining  # met by the search, old, leading nowhere: removed
    assert "service" in remaining  # not met by this search: left for one that meets it
    young_tokens = {i["sk"]["S"].split("#")[0] for i in search_entries(aws, table, young)}
    assert "boiler" in young_tokens  # too young to judge: kept


def test_search_reads_only_the_index_and_the_orders_it_found(aws):
    table = aws.fresh_table("noscan")
    repo = DynamoOrderRepository(aws.dynamodb, table, cursor_secret=b"s")
    for n in range(30):
        order, _, message = new_order(title=f"Boiler {n}", site="Depot")
        repo.add(order, message)
    operations = []
    hook = lambda event_name, **_: operations.append(event_name.split(".")[-1])  # noqa: E731
    aws.dynamodb.meta.events.register("before-call.dynamodb", hook)
    try:
        result = repo.search(["boiler", "depot"], limit=10)
    finally:
        aws.dynamodb.meta.events.unregister("before-call.dynamodb", hook)
    from orders.repository.sharding import SEARCH_SHARDS

    assert len(result.items) == 10 and result.more
    # One query per shard of each term's bucket, one read of the orders found; no scan.
    assert sorted(operations) == ["BatchGetItem"] + ["Query"] * (2 * SEARCH_SHARDS)


def test_the_backfill_command_makes_orders_stored_before_search_findable(emulator, db):
    from django.core.management import call_command

    from orders.repository.items import order_to_item
    from tests.conftest import unique_prefix
    from tests.support import AwsStack, services_on

    with services_on(AwsStack.provision(emulator, unique_prefix("backfill"))) as stack:
        repo = DynamoOrderRepository(stack.dynamodb, stack.resources.table, cursor_secret=b"s")
        before, _, _ = new_order(title="Replace the chiller")
        moved_before, _, _ = moved(before, "accepted")
        for order in (before, moved_before.replace(id=str(uuid.uuid4()))):
            stack.dynamodb.put_item(TableName=stack.resources.table, Item=order_to_item(order))
        assert repo.search(["chiller"]).items == []

        out = io.StringIO()
        call_command("index_search", stdout=out)
        call_command("index_search", stdout=io.StringIO())  # again: nothing changes

        assert len(repo.search(["chiller"]).items) == 2
        assert "2 orders indexed" in out.getvalue() and "accepted: 1 orders" in out.getvalue()
