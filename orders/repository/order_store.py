"""The order store: an order's writes (each change one conditional write of its item, the
note or attachment it adds put first) and the reads of one order.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from aws.resources import side_table_name
from kernel.clock import isoformat
from kernel.fan_out import SEQUENTIAL, FanOut
from orders.domain.errors import (
    ConcurrencyConflict,
    OrderAlreadyExists,
    OrderNotFound,
)
from orders.domain.model import (
    Attachment,
    EventType,
    HistoryEntry,
    Note,
    Order,
    entry_event_type,
)
from orders.events.contract import EventMessage

from .items import (
    attachment_key,
    child_key,
    child_to_item,
    committed,
    event_entry,
    history_of,
    history_values,
    is_condition_failure,
    item_to_attachment,
    item_to_note,
    item_to_order,
    order_key,
    order_to_item,
    revision_of,
    string_value,
)
from .search_index import search_items
from .stream_images import event_from_image
from .table_design import (
    ATTACHMENT_PREFIX,
    IMMUTABLE,
    NOTE_PREFIX,
    OPTIONAL,
    ORDER_PREFIX,
    UNLISTED_OPTIONAL,
)

log = logging.getLogger(__name__)

#: A note or an attachment whose change never reached the order (``recorded``) gives its
#: id up to a new one after this long: younger, its change may still be in progress.
CHILD_STALE_AFTER = timedelta(minutes=5)


class DynamoOrderStore:
    """One order at a time (a part of ``DynamoOrderRepository``)."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        cursor_secret: bytes,
        side_table: str = "",
        region: str = "",
        fan_out: FanOut = SEQUENTIAL,
    ):
        self._client = client
        self._table = table_name
        #: Notes, attachments and search entries: beside the orders, off their stream.
        self._side = side_table or side_table_name(table_name)
        self._secret = cursor_secret
        #: Runs the per-status queries of a merged list at once.
        self._fan_out = fan_out
        #: Stamped on each change's event, so that with a global table only this region's
        #: relay publishes it.
        self._region = region

    # -- writes ---------------------------------------------------------------------------

    def add(self, order: Order, message: EventMessage) -> None:
        # The index entries first: a committed order is always findable. Should the order's
        # write fail, its entries lead nowhere and a later search removes them.
        self._write_items(search_items(order, written_at=datetime.now(UTC)))
        item = order_to_item(order)
        item["last_event"] = event_entry(message, self._region)
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            if committed(self._current(exc, order.id), message.event_id):
                # The SDK retried a write whose first try was stored but whose answer was
                # lost (a read timeout): the order is ours, created once.
                log.info("order %s: a retried create found its own first try", order.id)
                return
            raise OrderAlreadyExists(order.id) from None

    def save_move(
        self,
        order: Order,
        message: EventMessage,
        *,
        expected_status: str,
        expected_version: int,
        adds: Sequence[Note | Attachment] = (),
    ) -> None:
        # A change adds one note or attachment at most: the event is about it.
        subject = adds[0] if len(adds) == 1 else None
        update = self._move_update(order, message, expected_status, expected_version, subject)
        if entry_event_type(order.history[-1]) == EventType.UPDATED:
            # Details may have changed: the new words are findable before they are stored
            # (entries of words gone are removed when a search meets them).
            self._write_items(search_items(order, written_at=datetime.now(UTC)))
        # The notes and attachments first, then the order: two single writes rather than a
        # transaction (which costs twice the write units of each). Should the order's write
        # be refused, they are deleted again; should the process die in between, readers
        # leave them out, as their event is not in the order's history (``recorded``).
        for child in adds:
            self._put_child(child, message.event_id, order, expected_status, expected_version)
        try:
            self._client.update_item(**update, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            current = self._current(exc, order.id)
            if current and committed(current, message.event_id):
                # Our own first try, stored, whose answer the SDK lost and retried.
                log.info("order %s: a retried change found its own first try", order.id)
                return
            self._remove_children(adds, message.event_id)
            if not current:
                raise OrderNotFound(order.id) from None
            raise self._conflict(order.id, expected_status, expected_version, current) from None

    @staticmethod
    def _conflict(
        order_id: str, expected_status: str, expected_version: int, current: dict[str, Any]
    ) -> ConcurrencyConflict:
        return ConcurrencyConflict(
            order_id=order_id,
            expected_status=expected_status,
            expected_version=expected_version,
            actual_status=current["status"]["S"],
            actual_version=revision_of(current),
        )

    def _put_child(
        self,
        child: Note | Attachment,
        event_id: str,
        order: Order,
        expected_status: str,
        expected_version: int,
    ) -> None:
        """Store a note or an attachment for the change ``event_id``: refused (a conflict)
        if its id is taken, unless by this very change (a retry) or by one that never
        made it into the order, long enough ago that it is not still being made."""
        stale = isoformat(datetime.now(UTC) - CHILD_STALE_AFTER)
        changes = history_values(order)
        try:
            self._client.put_item(
                TableName=self._side,
                Item=child_to_item(child, event_id=event_id),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR event_id = :event OR "
                    f"(written_at < :stale AND NOT event_id IN ({', '.join(changes)}))"
                ),
                ExpressionAttributeValues={
                    ":event": string_value(event_id),
                    ":stale": string_value(stale),
                    **changes,
                },
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            current = self._current(exc, order.id)  # the order, read again
            if not current:
                raise OrderNotFound(order.id) from None
            raise self._conflict(order.id, expected_status, expected_version, current) from None

    def _remove_children(self, children: Sequence[Note | Attachment], event_id: str) -> None:
        """Delete what :meth:`_put_child` stored for a change that was refused."""
        for child in children:
            key = child_key(child)
            with contextlib.suppress(ClientError):  # not ours (any more): left alone
                self._client.delete_item(
                    TableName=self._side,
                    Key=key,
                    ConditionExpression="event_id = :event",
                    ExpressionAttributeValues={":event": string_value(event_id)},
                )

    def _current(self, exc: ClientError, order_id: str) -> dict[str, Any] | None:
        """The order a refused write met: returned with the refusal when the write was the
        order's own, else read again (a note's or an attachment's put was refused)."""
        if "Item" in exc.response:
            return exc.response["Item"]
        return self._client.get_item(
            TableName=self._table, Key=order_key(order_id), ConsistentRead=True
        ).get("Item")

    def _move_update(
        self,
        order: Order,
        message: EventMessage,
        expected_status: str,
        expected_version: int,
        child: Note | Attachment | None = None,
    ) -> dict[str, Any]:
        """The conditional ``UpdateItem`` of a change: every attribute set, the new history
        entry appended, the event stored, the absent optional attributes removed."""
        item = order_to_item(order)
        names = {
            "#status": "status",
            "#version": "version",
            "#revision": "revision",
            "#last_event": "last_event",
        }
        values: dict[str, Any] = {
            ":expected_status": string_value(expected_status),
            ":expected_version": {"N": str(expected_version)},
            ":message": event_entry(message, self._region, child),
        }
        sets = ["#last_event = :message"]
        for index, (name, value) in enumerate(sorted(item.items())):
            if name in IMMUTABLE:
                continue
            names.setdefault(f"#{name}", name)
            values[f":v{index}"] = value
            sets.append(f"#{name} = :v{index}")
        removes = [name for name in (*OPTIONAL, *UNLISTED_OPTIONAL) if name not in item]
        for name in removes:
            names[f"#{name}"] = name
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(f"#{n}" for n in removes)
        return {
            "TableName": self._table,
            "Key": order_key(order.id),
            "UpdateExpression": expression,
            "ConditionExpression": (
                "#status = :expected_status AND (#revision = :expected_version OR "
                "(attribute_not_exists(#revision) AND #version = :expected_version))"
            ),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    # -- notes and attachments --------------------------------------------------------------

    def _children(self, order_id: str, prefix: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._side,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": string_value(ORDER_PREFIX + order_id),
                ":prefix": string_value(prefix),
            },
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            response = self._client.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def notes(self, order_id: str) -> list[Note]:
        """The order's notes, oldest first."""
        return [item_to_note(i) for i in self._children(order_id, NOTE_PREFIX)]

    def attachments(self, order_id: str) -> list[Attachment]:
        """The order's attachments, oldest first."""
        found = [item_to_attachment(i) for i in self._children(order_id, ATTACHMENT_PREFIX)]
        return sorted(found, key=lambda a: (a.at, a.id))

    def attachment(self, order_id: str, attachment_id: str) -> Attachment | None:
        item = self._client.get_item(
            TableName=self._side, Key=attachment_key(order_id, attachment_id), ConsistentRead=True
        ).get("Item")
        return item_to_attachment(item) if item else None

    # -- reads ----------------------------------------------------------------------------

    def event_from_image(self, image: dict[str, Any] | None) -> EventMessage | None:
        """The event a stream record carries (:func:`event_from_image`), the note or
        attachment it is about read from the side table: what the relay publishes."""
        return event_from_image(image, read_child=self._child_item)

    def _child_item(self, order_id: str, sort_key: str) -> dict[str, Any]:
        item = self._client.get_item(
            TableName=self._side,
            Key={"pk": string_value(ORDER_PREFIX + order_id), "sk": string_value(sort_key)},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            # Written before the order's change, never deleted: the table was tampered with.
            raise LookupError(f"order {order_id}: its event's {sort_key} is not stored")
        return item

    def get(self, order_id: str) -> Order:
        response = self._client.get_item(
            TableName=self._table, Key=order_key(order_id), ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            raise OrderNotFound(order_id)
        return item_to_order(item)

    def history(self, order_id: str) -> list[HistoryEntry]:
        response = self._client.get_item(
            TableName=self._table,
            Key=order_key(order_id),
            ProjectionExpression="#history",
            ExpressionAttributeNames={"#history": "history"},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            raise OrderNotFound(order_id)
        return history_of(item)
