"""GET /v1/orders narrowed by priority, category and site, as staff narrow their list: each
filter repeatable, combined with the others and with paging, and a bad value a 400 that names
the parameter and says what is wrong."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from tests.integration.factories import EXAMPLE

DOCK = "Warehouse 7, 12 Dock Road, Springfield"  # a site with commas in it


def create(api, reference: str, **fields) -> str:
    body = {**EXAMPLE, "external_reference": reference, **fields}
    response = api.post("/v1/orders", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def listed(api, query: list[tuple[str, str]] | str) -> list[str]:
    """The ids a listing gives, every page followed (newest first)."""
    url = "/v1/orders?" + (query if isinstance(query, str) else urlencode(query))
    ids: list[str] = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        page = response.json()
        ids.extend(order["id"] for order in page["results"])
        url = page["next"]
    return ids


@pytest.fixture
def orders(api) -> dict[str, str]:
    """Four orders of the caller's, oldest first, differing in priority, category and site."""
    return {
        "boiler": create(api, "F-1", priority="urgent", category="plumbing", site=DOCK),
        "lights": create(api, "F-2", priority="low", category="electrical", site="Store 12"),
        "aircon": create(api, "F-3", priority="urgent", category="hvac", site="Store 12"),
        "door": create(api, "F-4", priority="normal", category="general", site=DOCK),
    }


def test_the_list_is_narrowed_by_priority_category_and_site(api, orders):
    o = orders
    assert listed(api, [("priority", "urgent")]) == [o["aircon"], o["boiler"]]
    assert listed(api, [("category", "hvac")]) == [o["aircon"]]
    assert listed(api, [("site", DOCK)]) == [o["door"], o["boiler"]]
    # Filters combine: urgent orders at the dock.
    assert listed(api, [("priority", "urgent"), ("site", DOCK)]) == [o["boiler"]]
    assert listed(api, [("category", "hvac"), ("site", DOCK)]) == []
    # With the status and creation-time filters too.
    assert listed(api, [("status", "received"), ("category", "electrical")]) == [o["lights"]]


def test_each_filter_takes_several_values(api, orders):
    o = orders
    newest_first = [o["door"], o["aircon"], o["lights"], o["boiler"]]
    # Repeated, or comma-separated for the ones whose values cannot hold a comma.
    assert listed(api, "priority=urgent&priority=low") == [o["aircon"], o["lights"], o["boiler"]]
    assert listed(api, "priority=urgent,normal") == [o["door"], o["aircon"], o["boiler"]]
    assert listed(api, "category=hvac,plumbing&category=general") == [
        o["door"],
        o["aircon"],
        o["boiler"],
    ]
    # A site is free text: only repeated, its commas are its own.
    assert listed(api, [("site", DOCK), ("site", "Store 12")]) == newest_first


def test_a_filtered_listing_pages_with_its_own_cursor(api, orders):
    o = orders
    assert listed(api, [("site", DOCK), ("limit", "1")]) == [o["door"], o["boiler"]]
    first = api.get("/v1/orders?" + urlencode([("site", DOCK), ("limit", "1")])).json()
    assert first["next_cursor"] is not None
    # The cursor continues only the listing it came from.
    other = api.get(
        "/v1/orders?"
        + urlencode([("site", "Store 12"), ("limit", "1"), ("cursor", first["next_cursor"])])
    )
    assert other.status_code == 400
    assert "cursor" in other.json()["errors"]


def test_a_site_matches_exactly_as_given(api, orders):
    # Spaces around it are not part of a site (they are trimmed when an order is created).
    assert listed(api, [("site", "  Store 12 ")]) == [orders["aircon"], orders["lights"]]
    assert listed(api, [("site", "   ")]) == []
    assert listed(api, [("site", "store 12")]) == []  # case counts
    assert listed(api, [("site", "Store")]) == []  # no partial matches


def test_an_external_reference_lookup_honours_the_filters(api, orders):
    assert listed(api, "external_reference=F-3&category=hvac") == [orders["aircon"]]
    assert listed(api, "external_reference=F-3&priority=low") == []


@pytest.mark.parametrize(
    ("query", "parameter", "problem"),
    [
        ("priority=asap", "priority", '"asap" is not one of: low, normal, high, urgent.'),
        ("priority=urgent,someday", "priority", '"someday" is not one of'),
        ("category=roofing", "category", '"roofing" is not one of: hvac, electrical'),
        ("site=", "site", "may not be blank"),
        (urlencode({"site": "x" * 301}), "site", "no more than 300 characters"),
        (urlencode([("site", f"Store {i}") for i in range(21)]), "site", "no more than 20"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_parameter_and_the_problem(
    api, query, parameter, problem
):
    response = api.get(f"/v1/orders?{query}")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith(":invalid-input")
    [(name, messages)] = body["errors"].items()
    assert name.split("[")[0] == parameter, body
    assert any(problem in message for message in messages), body
    assert problem in body["detail"]
