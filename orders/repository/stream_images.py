"""Stream decoding: the event a record of the orders table's stream carries, rebuilt from its
new image byte for byte as the writer made it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from orders.events.contract import (
    EventMessage,
    message_of,
)

from .items import item_to_order, subject_of_child
from .packing import unpacked


def event_from_image(
    image: dict[str, Any] | None,
    read_child: Callable[[str, str], dict[str, Any]] | None = None,
) -> EventMessage | None:
    """The event a stream record's image carries, if it is an order's (the one mapping back):
    rebuilt from the order and the history entry of its change, byte for byte the message
    the writer made (``contract.message_of``). ``read_child(order id, sort key)`` reads the
    note or attachment an event is about (``DynamoOrderRepository.event_from_image``)."""
    if not image or "last_event" not in image:
        return None
    m = image["last_event"]["M"]
    region = m["region"]["S"] if "region" in m else ""
    if "body" in m:
        # Written before bodies were rebuilt (a table upgraded in place): the body is stored.
        return EventMessage(
            event_id=m["id"]["S"],
            order_id=image["id"]["S"],
            body=unpacked(m["body"]),
            attributes={k: v["S"] for k, v in m["attributes"]["M"].items()},
            created_at=m["created_at"]["S"],
            integrator=image["integrator"]["S"],
            region=region,
        )
    order = item_to_order(image)
    event_id = m["id"]["S"]
    entry = next(e for e in reversed(order.history) if e.event_id == event_id)
    if "child" in m:
        if read_child is None:
            raise ValueError("this event is about a note or an attachment: pass read_child")
        subject = subject_of_child(read_child(order.id, m["child"]["S"]))
    else:
        subject = json.loads(unpacked(m["subject"])) if "subject" in m else {}
    return replace(message_of(order, entry, subject), region=region)
