"""Text the domain refuses whoever sends it (API, admin): unencodable or NUL-bearing strings,
metadata nested too deep, values that are not strings."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from orders.domain import rules
from orders.domain.errors import ValidationError
from orders.domain.model import Actor, Contact
from orders.domain.rules import OrderInput

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def order_input(**changes) -> OrderInput:
    base = OrderInput(title="Fix the boiler", category="hvac", priority="normal", site="12 High St")
    return dataclasses.replace(base, **changes)


def errors_of(data: OrderInput) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        rules.validate_input(data)
    return caught.value.errors


def nested(depth: int) -> dict:
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"title": "Fix \ud800"}, "title", "surrogate"),
        ({"site": "a\x00b"}, "site", "NUL"),
        ({"description": "\udfff"}, "description", "surrogate"),
        ({"external_reference": "WO\x00"}, "external_reference", "NUL"),
        ({"contact": Contact(name="\ud83d")}, "contact.name", "surrogate"),
        ({"metadata": {"k": "\ud800"}}, "metadata", "metadata.k"),
        ({"metadata": {"\udc00": "v"}}, "metadata", "key"),
        ({"metadata": {"a": [{"b": "x\x00"}]}}, "metadata", "metadata.a[0].b"),
        ({"metadata": {"a\x00": 1}}, "metadata", "NUL"),
        ({"title": 123}, "title", "string"),
        ({"contact": Contact(phone=5551234)}, "contact.phone", "string"),
    ],
)
def test_text_that_cannot_be_kept_is_refused_naming_the_field(changes, field, words):
    errors = errors_of(order_input(**changes))
    assert field in errors, errors
    assert words.lower() in " ".join(errors[field]).lower()


def test_a_character_outside_the_bmp_is_ordinary_text():
    valid = rules.validate_input(order_input(title="Fix \U0001f527", metadata={"e": "\U0001f600"}))
    assert valid.title == "Fix \U0001f527"


def test_metadata_as_deep_as_allowed_is_kept():
    metadata = nested(rules.METADATA_MAX_DEPTH)
    assert rules.validate_input(order_input(metadata=metadata)).metadata == metadata


@pytest.mark.parametrize("depth", [rules.METADATA_MAX_DEPTH + 1, 5000])
def test_metadata_nested_deeper_is_refused_with_the_limit(depth):
    errors = errors_of(order_input(metadata=nested(depth)))
    assert list(errors) == ["metadata"]
    assert f"at most {rules.METADATA_MAX_DEPTH} levels" in errors["metadata"][0]


def test_a_move_reason_that_cannot_be_kept_is_refused():
    order, _ = rules.create_order(
        order_input(), order_id="o-1", integrator="acme", actor=Actor.integrator("acme"), now=T0
    )
    with pytest.raises(ValidationError) as caught:
        rules.move(order, "cancelled", actor=Actor.integrator("acme"), now=T0, reason="\ud800")
    assert list(caught.value.errors) == ["reason"]
