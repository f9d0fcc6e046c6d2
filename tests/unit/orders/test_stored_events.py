"""An order item keeps its change's event id and subject, not the event's body: the relay
builds the body again from the stream's image. It must be the writer's message byte for byte,
for every kind of change, or integrators would receive something other than what was made."""

from __future__ import annotations

from datetime import timedelta

from orders.domain.model import Attachment, Note, TimeWindow
from orders.events.contract import EventMessage
from orders.repository.items import (
    child_to_item,
    event_entry,
    history_of,
    order_to_item,
    packed_history,
)
from orders.repository.stream_images import event_from_image
from tests.integration.factories import attachment_for
from tests.unit.orders.services_world import STAFF, FakeTeamDirectory, World


class Recorder:
    """Wraps the in-memory repository: each write's order, message and added child."""

    def __init__(self, world: World) -> None:
        self.writes: list[tuple] = []
        repo = world.repo
        add, save_move = repo.add, repo.save_move

        def recording_add(order, message):
            add(order, message)
            self.writes.append((order, message, None))

        def recording_save_move(order, message, *, adds=(), **kwargs):
            save_move(order, message, adds=adds, **kwargs)
            self.writes.append((order, message, adds[0] if adds else None))

        repo.add, repo.save_move = recording_add, recording_save_move


def stored_image(order, message: EventMessage, child, region: str = "") -> dict:
    item = order_to_item(order)
    item["last_event"] = event_entry(message, region, child)
    return item


def test_every_kind_of_change_is_published_as_the_writer_made_it():
    world = World()
    world.teams = FakeTeamDirectory(
        {"north": (2, {"hvac"})}, members={"north": {"t-ana": "Ana Silva"}}
    )
    world.service.changes.teams = world.teams
    recorder = Recorder(world)
    order = world.scheduled(external_reference="WO-7", description="Roof unit, gate code 44")
    service, clock = world.service, world.clock
    service.timeline.add_note(
        order_id=order.id, text="Call first", actor=STAFF, author_name="Alice"
    )
    service.timeline.add_note(
        order_id=order.id,
        text="Staff only: the client owes us",
        actor=STAFF,
        author_name="Alice",
        visibility="internal",
    )
    service.timeline.record_attachment(attachment_for(service.changes.store.get(order.id), "att-1"))
    service.intake.update_order(
        order_id=order.id,
        changes={"title": "Fix the roof unit"},
        actor=STAFF,
        expected_version=service.changes.store.get(order.id).public_version,
    )
    service.field_work.assign_technician(order_id=order.id, technician_id="t-ana", actor=STAFF)
    start = clock() + timedelta(days=1)
    service.field_work.schedule_visit(
        order_id=order.id, window=TimeWindow(start, start + timedelta(hours=2)), actor=STAFF
    )
    service.field_work.reschedule_visit(
        order_id=order.id,
        window=TimeWindow(start + timedelta(days=1), start + timedelta(days=1, hours=2)),
        actor=STAFF,
        reason="Client away",
    )
    clock.advance(timedelta(days=2))
    service.field_work.check_in(order_id=order.id, actor=STAFF)
    service.field_work.check_out(order_id=order.id, actor=STAFF)

    kinds = {m.attributes["event_type"] for _, m, _ in recorder.writes}
    assert len(recorder.writes) >= 12 and len(kinds) >= 8, kinds
    for order, message, child in recorder.writes:
        children = {}
        if child is not None:
            item = child_to_item(child, event_id=message.event_id)
            children[(order.id, item["sk"]["S"])] = item
        image = stored_image(order, message, child)
        rebuilt = event_from_image(image, read_child=lambda *key, found=children: found[key])
        assert rebuilt == message, message.attributes
        assert "body" not in image["last_event"]["M"]
        assert isinstance(child, (Note, Attachment, type(None)))


def test_the_region_of_the_write_is_kept_and_a_history_reads_back_the_same():
    world = World()
    order = world.scheduled()
    message = world.published[-1]
    rebuilt = event_from_image(stored_image(order, message, None, region="eu-west-1"))
    assert rebuilt.region == "eu-west-1" and rebuilt.body == message.body
    assert history_of({"history": packed_history(order.history)}) == list(order.history)


def test_an_item_written_with_its_body_is_still_published_as_stored():
    """Items written before bodies were rebuilt (a table upgraded in place)."""
    world = World()
    order = world.create()
    message = world.published[-1]
    image = order_to_item(order)
    image["id"] = {"S": order.id}
    image["last_event"] = {
        "M": {
            "id": {"S": message.event_id},
            "body": {"S": message.body},
            "attributes": {"M": {k: {"S": v} for k, v in message.attributes.items()}},
            "created_at": {"S": message.created_at},
        }
    }
    assert event_from_image(image) == message


def test_an_order_item_of_a_usual_life_stays_under_a_kilobyte():
    """Every change rewrites the item; past 1,024 bytes each write costs two units."""
    from bench.cost import item_size

    world = World()
    order = world.scheduled(external_reference="WO-1001")
    for _ in range(3):
        order = world.service.intake.transition_order(
            order_id=order.id, to="on_hold", actor=STAFF, reason="Waiting for parts"
        )
        order = world.service.intake.resume_order(order_id=order.id, actor=STAFF)
    message = world.published[-1]
    assert len(order.history) == 9
    assert item_size(stored_image(order, message, None)) < 1024
