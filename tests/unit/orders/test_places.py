"""Orders at the integrators' sites and assets: the rules (the free-text site becomes the
site's name), intake through a place directory (every refusal named by its field, nothing
stored), the plan that created an order, the in-memory lists by site and asset, and the item
that keeps it all (both ways, and rebuilt into the very event the writer made)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from kernel.errors import ValidationError
from orders.domain import rules
from orders.domain.model import Actor, MaintenanceRef, PlaceRef
from orders.domain.rules import OrderInput
from orders.events.contract import order_to_json, parse_event
from orders.repository import table_design
from orders.repository.base import OrderFilter
from orders.repository.items import event_entry, item_to_order, order_to_item
from orders.repository.stream_images import event_from_image
from orders.services import NoPlaces
from tests.unit.orders.services_world import INTEGRATOR, STAFF, T0, World

STORE = PlaceRef("5d0c6f4e-0000-4000-8000-000000000012", "STORE-0012", "Store 12, 5th Ave")
ROOF = PlaceRef("5d0c6f4e-0000-4000-8000-0000000000f1", "STORE-0012-ROOF", "Store 12 roof")
OTHER = PlaceRef("5d0c6f4e-0000-4000-8000-000000000013", "STORE-0013", "Store 13")
RTU = PlaceRef("a55e7000-0000-4000-8000-000000000001", "RTU-2", "Rooftop unit 2")
CHILLER = PlaceRef("a55e7000-0000-4000-8000-000000000002", "CH-1", "Chiller")
UNKNOWN = "5d0c6f4e-0000-4000-8000-00000000dead"
PLAN = MaintenanceRef("plan-7", "Quarterly filter change", T0 + timedelta(days=3))


class FakePlaces:
    """The integrators' places as facilities would answer: acme's store (with its roof under
    it) and another store; a rooftop unit on the roof, a retired chiller; others' are unknown."""

    #: place id -> (its site's id, or None for a site; the site it hangs under)
    SITES = {STORE.id: (STORE, None), ROOF.id: (ROOF, STORE.id), OTHER.id: (OTHER, None)}
    ASSETS = {RTU.id: (RTU, ROOF), CHILLER.id: (CHILLER, STORE)}
    RETIRED = {CHILLER.id}

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None, str | None]] = []

    def resolve(self, integrator, *, site_id, asset_id):
        self.asked.append((integrator, site_id, asset_id))
        errors = {}
        site = self.SITES.get(site_id, (None,))[0] if integrator == "acme" else None
        if site_id is not None and site is None:
            errors["site_id"] = ["No site of yours has this id."]
        asset, at = self.ASSETS.get(asset_id, (None, None)) if integrator == "acme" else (None,) * 2
        if asset_id is not None:
            if asset is None:
                errors["asset_id"] = ["No asset of yours has this id."]
            elif asset.id in self.RETIRED:
                errors["asset_id"] = [f"The asset {asset.code} is retired."]
            elif site is not None and site.id not in (at.id, self.SITES[at.id][1]):
                errors["asset_id"] = [f"The asset {asset.code} is at the site {at.code}."]
        if errors:
            raise ValidationError(errors)
        return site or at, asset


@pytest.fixture
def places() -> FakePlaces:
    return FakePlaces()


@pytest.fixture
def world(places) -> World:
    return World(places=places)


def order_input(**fields) -> OrderInput:
    return OrderInput(**{"title": "Fix the boiler", "category": "hvac", **fields})


# -- the rules ---------------------------------------------------------------------------------


def test_an_order_at_a_site_needs_no_site_text_and_shows_the_site_s_name():
    order, event = rules.create_order(
        order_input(),
        order_id="o-1",
        integrator="acme",
        actor=INTEGRATOR,
        now=T0,
        site_ref=STORE,
        asset_ref=RTU,
        maintenance=PLAN,
    )
    assert order.site == "Store 12, 5th Ave"
    assert (order.site_ref, order.asset_ref, order.maintenance) == (STORE, RTU, PLAN)
    assert event.order == order


def test_the_integrator_s_own_words_for_the_site_are_kept_beside_it():
    order, _ = rules.create_order(
        order_input(site="  Back door, loading dock  "),
        order_id="o-1",
        integrator="acme",
        actor=INTEGRATOR,
        now=T0,
        site_ref=STORE,
    )
    assert order.site == "Back door, loading dock" and order.site_ref == STORE


def test_without_a_site_of_any_kind_the_text_is_required_and_says_what_else_would_do():
    with pytest.raises(ValidationError) as refused:
        rules.create_order(
            order_input(), order_id="o-1", integrator="acme", actor=INTEGRATOR, now=T0
        )
    assert refused.value.errors == {
        "site": ["This field is required unless site_id or asset_id is given."]
    }


def test_an_order_on_an_asset_is_at_a_site_too():
    with pytest.raises(ValueError, match="site_ref"):
        rules.create_order(
            order_input(site="x"),
            order_id="o-1",
            integrator="acme",
            actor=INTEGRATOR,
            now=T0,
            asset_ref=RTU,
        )


def test_correcting_an_order_keeps_its_place_and_an_emptied_site_is_the_site_s_name_again():
    order, _ = rules.create_order(
        order_input(site="Back door"),
        order_id="o-1",
        integrator="acme",
        actor=INTEGRATOR,
        now=T0,
        site_ref=STORE,
        asset_ref=RTU,
    )
    edited, _ = rules.edit(order, {"site": ""}, actor=STAFF, now=T0 + timedelta(minutes=1))
    assert edited.site == STORE.name
    assert (edited.site_ref, edited.asset_ref) == (STORE, RTU)
    with pytest.raises(ValidationError, match="cannot be changed"):
        rules.edit(order, {"site_ref": OTHER}, actor=STAFF, now=T0)


# -- intake through the place directory --------------------------------------------------------


def test_create_order_points_at_the_site_and_asset_the_directory_resolves(world, places):
    order = world.service.intake.create_order(
        data=order_input(), integrator="acme", actor=INTEGRATOR, site_id=STORE.id, asset_id=RTU.id
    )
    assert places.asked == [("acme", STORE.id, RTU.id)]
    assert (order.site_ref, order.asset_ref, order.site) == (STORE, RTU, STORE.name)
    assert world.repo.get(order.id) == order
    published = parse_event(world.published[-1].body).data["order"]
    assert published["site_ref"] == {"id": STORE.id, "code": "STORE-0012", "name": STORE.name}
    assert published["asset_ref"]["code"] == "RTU-2" and published["maintenance"] is None


def test_an_asset_alone_puts_the_order_at_the_asset_s_site(world):
    order = world.service.intake.create_order(
        data=order_input(), integrator="acme", actor=INTEGRATOR, asset_id=RTU.id
    )
    assert order.site_ref == ROOF and order.asset_ref == RTU and order.site == ROOF.name


def test_an_order_without_places_asks_nobody(world, places):
    order = world.create()
    assert places.asked == [] and order.site_ref is None and order.asset_ref is None


@pytest.mark.parametrize(
    ("integrator", "ids", "field", "problem"),
    [
        ("acme", {"site_id": UNKNOWN}, "site_id", "No site of yours has this id."),
        ("globex", {"site_id": STORE.id}, "site_id", "No site of yours has this id."),
        ("acme", {"asset_id": CHILLER.id}, "asset_id", "CH-1 is retired"),
        ("acme", {"site_id": OTHER.id, "asset_id": RTU.id}, "asset_id", "at the site STORE-0012-"),
    ],
    ids=["unknown-site", "another-integrator-s-site", "retired-asset", "asset-elsewhere"],
)
def test_a_refused_place_is_named_by_its_field_and_nothing_is_stored(
    world, integrator, ids, field, problem
):
    with pytest.raises(ValidationError) as refused:
        world.service.intake.create_order(
            data=order_input(), integrator=integrator, actor=Actor.integrator(integrator), **ids
        )
    assert list(refused.value.errors) == [field]
    assert problem in refused.value.errors[field][0]
    assert world.published == [] and world.repo.list_recent().items == []


def test_every_problem_of_the_request_comes_at_once(world):
    with pytest.raises(ValidationError) as refused:
        world.service.intake.create_order(
            data=order_input(title="", category="plumbingg"),
            integrator="acme",
            actor=INTEGRATOR,
            site_id=OTHER.id,
            asset_id=UNKNOWN,
        )
    assert set(refused.value.errors) == {"title", "category", "asset_id"}
    assert "site" not in refused.value.errors  # a named place stands in for the text
    assert world.published == []


def test_use_cases_built_without_places_refuse_every_place():
    bare = World()
    with pytest.raises(ValidationError) as refused:
        bare.service.intake.create_order(
            data=order_input(), integrator="acme", actor=INTEGRATOR, site_id=STORE.id
        )
    assert refused.value.errors == {"site_id": ["No site of yours has this id."]}
    assert NoPlaces().resolve("acme", site_id=None, asset_id=None) == (None, None)


def test_the_scheduler_s_order_carries_its_plan_and_is_made_once_per_occurrence(world):
    """The call the maintenance scheduler makes: a deterministic id, the system as actor."""
    call = dict(
        data=order_input(priority="low"),
        integrator="acme",
        actor=Actor.system("scheduler"),
        order_id="plan-7-occurrence-2025-03-06",
        site_id=STORE.id,
        asset_id=RTU.id,
        maintenance=PLAN,
    )
    order = world.service.intake.create_order(**call)
    assert order.maintenance == PLAN and order.history[0].actor == Actor.system("scheduler")
    assert json.loads(world.published[-1].body)["data"]["order"]["maintenance"] == {
        "plan_id": "plan-7",
        "plan_name": "Quarterly filter change",
        "due_at": "2025-03-06T09:00:00.000000Z",
    }
    from orders.domain.errors import OrderAlreadyExists

    with pytest.raises(OrderAlreadyExists):
        world.service.intake.create_order(**call)
    assert len(world.published) == 1


# -- the in-memory lists -----------------------------------------------------------------------


def test_lists_narrow_to_one_site_or_one_asset_and_only_the_caller_s(world):
    service = world.service.intake
    at_store = service.create_order(
        data=order_input(), integrator="acme", actor=INTEGRATOR, site_id=STORE.id
    )
    world.clock.advance(timedelta(minutes=1))
    on_rtu = service.create_order(
        data=order_input(), integrator="acme", actor=INTEGRATOR, site_id=STORE.id, asset_id=RTU.id
    )
    elsewhere = world.create()
    read = world.service.read

    def listed(integrator="acme", **filters):
        return [
            o.id for o in read.list_by_integrator(integrator, filters=OrderFilter(**filters)).items
        ]

    assert set(listed(site_id=STORE.id)) == {at_store.id, on_rtu.id}
    assert listed(asset_id=RTU.id) == [on_rtu.id]
    assert listed(site_id=ROOF.id) == []  # the order's site, not the asset's
    assert listed("globex", site_id=STORE.id) == []
    assert elsewhere.id in listed()
    assert [o.id for o in read.orders_at(site_id=STORE.id).items] == [on_rtu.id, at_store.id]
    assert read.orders_at(site_id=STORE.id, finished=True).items == []
    assert read.open_at(asset_id=RTU.id) == ([on_rtu], False)


def test_the_filters_join_the_cursor_s_fingerprint_only_when_set():
    plain = OrderFilter(statuses=frozenset({"received"}))
    assert plain.fingerprint == "received|None|None|||None"  # cursors issued before still fit
    assert OrderFilter(site_id=STORE.id).fingerprint.endswith(f"|site_id:{STORE.id}")
    both = OrderFilter(site_id=STORE.id, asset_id=RTU.id).fingerprint
    assert both.endswith(f"|site_id:{STORE.id}|asset_id:{RTU.id}")


# -- the item ------------------------------------------------------------------------------------


def placed_order(world: World):
    return world.service.intake.create_order(
        data=order_input(external_reference="WO-1001"),
        integrator="acme",
        actor=INTEGRATOR,
        site_id=STORE.id,
        asset_id=RTU.id,
        maintenance=PLAN,
    )


def test_the_item_keeps_the_place_ids_as_index_keys_and_the_snapshots_without_them(world):
    order = placed_order(world)
    item = order_to_item(order)
    assert item["site_id"] == {"S": STORE.id} and item["asset_id"] == {"S": RTU.id}
    assert item["site_ref"] == {"M": {"code": {"S": STORE.code}, "name": {"S": STORE.name}}}
    assert item["maintenance"]["M"]["due_at"] == {"S": "2025-03-06T09:00:00.000000Z"}
    assert item_to_order(item) == order
    bare = order_to_item(world.create())
    assert not set(table_design.FIXED_AT_CREATION) & set(bare)
    assert item_to_order(bare).site_ref is None


def test_a_list_read_of_the_table_holds_the_place_and_the_plan(world):
    """Keys-only lists read LISTED_READ of each order (no history), the places included."""
    order = placed_order(world)
    item = order_to_item(order)
    read = {*table_design.LISTED_READ, "pk", "sk"}
    listed = item_to_order({name: value for name, value in item.items() if name in read})
    assert (listed.site_ref, listed.asset_ref, listed.maintenance) == (STORE, RTU, PLAN)


def test_moves_never_rewrite_where_the_order_is():
    assert set(table_design.FIXED_AT_CREATION) <= table_design.IMMUTABLE


def test_the_relay_rebuilds_the_writer_s_event_of_an_order_at_a_place(world):
    order = placed_order(world)
    message = world.published[-1]
    image = order_to_item(order)
    image["last_event"] = event_entry(message)
    assert event_from_image(image) == message
    assert order_to_json(order)["site_ref"]["id"] == STORE.id


def test_the_place_indexes_hold_keys_only():
    indexes = {
        i["IndexName"]: i for i in table_design.table_definition("orders")["GlobalSecondaryIndexes"]
    }
    for name, key in ((table_design.BY_SITE, "site_id"), (table_design.BY_ASSET, "asset_id")):
        assert indexes[name]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
        assert [k["AttributeName"] for k in indexes[name]["KeySchema"]] == [key, "created_key"]


# -- what facilities are told (portal.places) ---------------------------------------------------


class StoreSite:
    """As much of a facilities Site as the usage asks for."""

    pk = STORE.id


def test_facilities_see_the_open_and_the_past_orders_at_a_place_in_people_s_words(world):
    from portal.places import OrdersAtPlaces

    intake = world.service.intake
    done = intake.create_order(
        data=order_input(), integrator="acme", actor=INTEGRATOR, site_id=STORE.id
    )
    intake.transition_order(order_id=done.id, to="cancelled", actor=INTEGRATOR)
    world.clock.advance(timedelta(minutes=1))
    held = world.scheduled()  # at no site
    open_one = intake.create_order(
        data=order_input(priority="urgent"),
        integrator="acme",
        actor=INTEGRATOR,
        site_id=STORE.id,
        asset_id=RTU.id,
    )

    at = OrdersAtPlaces(world.service.read, url=lambda order_id: f"/staff/{order_id}").at_site(
        STORE.id
    )

    assert [line.id for line in at.open] == [open_one.id] and not at.more_open
    line = at.open[0]
    assert (line.status, line.priority, line.open, line.url) == (
        "Received",
        "Urgent",
        True,
        f"/staff/{open_one.id}",
    )
    assert [(p.id, p.status, p.open) for p in at.past] == [(done.id, "Cancelled", False)]
    assert held.id not in {line.id for line in at.open + at.past}
    on_rtu = OrdersAtPlaces(world.service.read, url=str).at_asset(RTU.id, limit=1)
    assert [line.id for line in on_rtu.open] == [open_one.id] and on_rtu.past == []


def test_a_site_is_not_archived_while_open_orders_are_at_it(world):
    from portal.places import OpenOrdersUseSites

    usage = OpenOrdersUseSites(world.service.read)
    assert usage.archive_blockers(StoreSite()) == []
    intake = world.service.intake
    first = intake.create_order(
        data=order_input(external_reference="WO-1"),
        integrator="acme",
        actor=INTEGRATOR,
        site_id=STORE.id,
    )
    assert usage.archive_blockers(StoreSite()) == [
        "1 open order is at it (WO-1): complete or cancel it first."
    ]
    for _ in range(6):
        world.clock.advance(timedelta(seconds=1))
        latest = intake.create_order(
            data=order_input(), integrator="acme", actor=INTEGRATOR, site_id=STORE.id
        )
    [reason] = usage.archive_blockers(StoreSite())
    assert reason.startswith(f"7 open orders are at it ({latest.id[:8]}, ")
    assert reason.endswith(", …): complete or cancel them first.") and "WO-1" not in reason
    intake.transition_order(order_id=first.id, to="cancelled", actor=INTEGRATOR)
    assert usage.archive_blockers(StoreSite())[0].startswith("6 open orders")
