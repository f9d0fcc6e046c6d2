"""What the relay spends per event to turn a stream record into the message it publishes:
the event body rebuilt from the order item (now), against the stored body unpacked (before
2026-12-07's third session), side by side in one process.

    .venv/bin/python bench/event_decode.py [--events 5000]

The order item no longer stores its event's body (docs/capacity.md: a smaller item, one write
unit per change); the relay rebuilds it from the stream's new image (``event_from_image``:
``item_to_order``, the history entry, ``contract.message_of``). This times both decodings of
the same change, an order started by staff after being scheduled, best of five runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from orders.repository.items import event_entry, order_to_item
from orders.repository.packing import packed  # noqa: E402
from orders.repository.stream_images import event_from_image
from tests.unit.orders.services_world import STAFF, World  # noqa: E402


def images() -> tuple[dict, dict, object]:
    """The same change as stored now and as stored before (with its body)."""
    world = World()
    order = world.scheduled(external_reference="WO-1001", description="Roof unit, gate code 44")
    order = world.service.intake.transition_order(order_id=order.id, to="in_progress", actor=STAFF)
    message = world.published[-1]
    now = order_to_item(order)
    now["last_event"] = event_entry(message)
    before = {**order_to_item(order), "id": {"S": order.id}}
    before["last_event"] = {
        "M": {
            "id": {"S": message.event_id},
            "body": packed(message.body),
            "attributes": {"M": {k: {"S": v} for k, v in message.attributes.items()}},
            "created_at": {"S": message.created_at},
        }
    }
    return before, now, message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000, help="decodings per run")
    args = parser.parse_args()
    before, now, message = images()
    assert event_from_image(now) == message and event_from_image(before).body == message.body
    for name, image in (("stored body (before)", before), ("rebuilt (now)", now)):
        best = min(timeit.repeat(lambda i=image: event_from_image(i), number=args.events, repeat=5))
        print(f"{name:22} {best / args.events * 1e6:6.1f} µs per event")


if __name__ == "__main__":
    main()
