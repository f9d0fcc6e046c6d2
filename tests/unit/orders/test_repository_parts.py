"""The repository is three protocols (``orders.repository.base``), and the DynamoDB and the
in-memory ones are put together from a part per protocol: each part holds exactly its
protocol's methods, so a method cannot drift into the wrong room, and both repositories hold
the whole."""

from __future__ import annotations

import inspect

from orders.repository.base import OrderQueries, OrderRepository, OrderSearch, OrderStore
from orders.repository.dynamodb import DynamoOrderRepository
from orders.repository.memory import (
    InMemoryOrderQueries,
    InMemoryOrderRepository,
    InMemoryOrderStore,
    InMemorySearch,
)
from orders.repository.order_queries import DynamoOrderQueries
from orders.repository.order_store import DynamoOrderStore
from orders.repository.search_index import DynamoSearchIndex

MAX_PUBLIC_METHODS = 15


def public_methods(cls: type, *, own: bool = False) -> set[str]:
    names = vars(cls) if own else dir(cls)
    return {
        name
        for name in names
        if not name.startswith("_") and inspect.isfunction(getattr(cls, name, None))
    }


def test_each_dynamodb_part_holds_its_protocol_and_nothing_public_besides():
    assert public_methods(DynamoOrderStore) == public_methods(OrderStore) | {"event_from_image"}
    assert public_methods(DynamoOrderQueries) == public_methods(OrderQueries)
    assert public_methods(DynamoSearchIndex) == public_methods(OrderSearch)


def test_each_in_memory_part_holds_its_protocol_and_nothing_public_besides():
    assert public_methods(InMemoryOrderStore) == public_methods(OrderStore)
    assert public_methods(InMemoryOrderQueries) == public_methods(OrderQueries)
    assert public_methods(InMemorySearch) == public_methods(OrderSearch)


def test_both_repositories_hold_the_whole_protocol():
    whole = public_methods(OrderRepository)
    parts = public_methods(OrderStore) | public_methods(OrderQueries) | public_methods(OrderSearch)
    assert whole == parts
    assert whole <= public_methods(DynamoOrderRepository)
    assert whole <= public_methods(InMemoryOrderRepository)


def test_no_part_has_more_than_fifteen_public_methods():
    for part in (
        OrderStore,
        OrderQueries,
        DynamoOrderStore,
        DynamoOrderQueries,
        DynamoSearchIndex,
        InMemoryOrderStore,
        InMemoryOrderQueries,
        InMemorySearch,
    ):
        assert len(public_methods(part, own=True)) <= MAX_PUBLIC_METHODS, part.__name__
