"""The table definition stays within DynamoDB's limits (moto does not enforce them all)."""

from __future__ import annotations

import dataclasses

import pytest

from orders.repository import items, table_design
from orders.repository.table_design import MAX_PROJECTED_ATTRIBUTES, table_definition


def test_each_index_projects_at_most_what_dynamodb_allows():
    indexes = table_definition("orders")["GlobalSecondaryIndexes"]
    for index in indexes:
        projected = index["Projection"].get("NonKeyAttributes", [])
        assert len(projected) <= MAX_PROJECTED_ATTRIBUTES == 20, index["IndexName"]
        assert len(set(projected)) == len(projected)
    assert sum(len(i["Projection"].get("NonKeyAttributes", [])) for i in indexes) <= 100
    assert len(indexes) <= 20


def test_the_technician_and_visit_indexes_hold_keys_only():
    """They grow with every order given to a technician or visited: the listing pages read
    the orders themselves (one batch read), so the indexes cost only their keys."""
    by_name = {i["IndexName"]: i for i in table_definition("orders")["GlobalSecondaryIndexes"]}
    for name in (table_design.BY_TECHNICIAN, table_design.BY_VISIT_DAY):
        assert by_name[name]["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_a_list_entry_holds_everything_but_the_history():
    """id and created_at come from the sort key, so a list row is a whole order."""
    from tests.integration.factories import new_order

    order, _, _ = new_order(external_reference="WO-77")
    item = items.order_to_item(order)
    index = table_definition("orders")["GlobalSecondaryIndexes"][0]
    keys = {k["AttributeName"] for k in index["KeySchema"]} | {"pk", "sk"}
    entry = {
        name: value
        for name, value in item.items()
        if name in keys or name in index["Projection"]["NonKeyAttributes"]
    }
    listed = items.item_to_order(entry)
    assert listed == dataclasses.replace(order, history=())


def test_an_index_over_the_limit_is_refused_before_it_reaches_aws(monkeypatch):
    monkeypatch.setattr(
        table_design, "LISTED_ATTRIBUTES", (*table_design.LISTED_ATTRIBUTES, "a", "b", "c", "d")
    )
    with pytest.raises(ValueError, match="DynamoDB allows 20"):
        table_definition("orders")
