"""The order repository over DynamoDB (boto3's low-level client), put together from its parts.

Two tables, written down in ``docs/dynamodb.md``: the orders, and beside them (the side
table) everything else. Every change of an order is one conditional write of its item, which
carries its history and the id of its event (``last_event``); a note or an attachment is put
in the side table first. The orders table's stream is the outbox: every committed write of an
order reaches the event relay (``orders.events.relay``), which rebuilds the event from the
stream's image (``stream_images``) and publishes it, and nothing else is on it. No ``Scan``
anywhere: each listing is a ``Query`` on a global secondary index, its keys write-sharded
(``orders.repository.sharding``).

The parts, one job each: ``table_design`` (keys, indexes, projections), ``items`` (orders,
notes, attachments and events to items and back), ``order_store`` (one order's writes and
reads), ``order_queries`` (listings and counts), ``search_index``, ``stream_images`` (stream
decoding); beside them ``team_loads``, ``checkpoints``, ``feed``, ``stats``, ``figures`` and
``idempotency``.
"""

from __future__ import annotations

from .order_queries import DynamoOrderQueries
from .order_store import DynamoOrderStore
from .search_index import DynamoSearchIndex


class DynamoOrderRepository(DynamoOrderStore, DynamoOrderQueries, DynamoSearchIndex):
    """The ``OrderRepository`` of ``orders.repository.base`` over DynamoDB: its
    ``OrderStore``, ``OrderQueries`` and ``OrderSearch`` parts, one module each."""
