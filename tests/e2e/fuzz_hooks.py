"""schemathesis hooks for test_fuzz_http.py, loaded by the ``schemathesis run`` it starts
(``SCHEMATHESIS_HOOKS``).

They steer generated values only where the schema cannot say what the server knows, so that
valid requests (``positive_data_acceptance``) reach the code behind them instead of a
refusal that no schema could predict. Each steer depends on nothing but the generated case
and what the server answered before, so a deterministic run stays repeatable. Every other
generated value is sent as it is.

- Order ids: about half of the requests naming an order get one of the orders the test
  seeded in several statuses (``FUZZ_ORDER_IDS``), the others what was generated (a 404).
- Cursors (``cursor``, ``after``) are opaque and signed: a valid one is one the server issued
  for the same listing. A valid (positive) request keeps its cursor only if the server issued
  it for that listing; otherwise it asks for the first page.
- Time ranges: a valid request's ``created_after`` / ``created_before`` and
  ``requested_window`` are not empty (the API refuses an empty one with a 400, a rule across
  two values that JSON Schema cannot state): ``created_before`` is left out, the window null.
- ``metadata`` is free-form JSON within limits OpenAPI 3.0 cannot state (4096 bytes as JSON,
  50 keys, 10 levels, no NUL in keys): a valid request's metadata that breaks one is left
  empty.
- Sites: about half of the requests naming a site get one the test seeded
  (``FUZZ_SITE_IDS``). A valid site's time zone must be one the server knows (a rule no
  pattern states): another becomes ``UTC``. Where a site hangs depends on the stored sites:
  a valid new site keeps its parent only if it is a ``site`` under the seeded region
  (``REGION-NE``, by code or id), and a valid change leaves ``kind`` and the parent alone.
  A valid CSV import is a CSV file (the schema can only say "a file"): one seeded region.
- ``Idempotency-Key``: the fuzzer repeats short keys ("0", "00") with other bodies, which is a
  422 by design, before anything else is checked. A request whose key was used with another
  body gets a key of its own (unless the key is what a negative case makes invalid);
  the same key with the same body is still sent, and replayed by the server. In the stateful
  phase every request gets a key of its own: a replay answers with a resource made (and maybe
  deleted) in another scenario, which is right, but not the resource the scenario follows.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
import zoneinfo
from datetime import datetime
from typing import Any

import schemathesis
from schemathesis.core.parameters import ParameterLocation

HEADERS = ParameterLocation.HEADER
ORDER_IDS = [i for i in os.environ.get("FUZZ_ORDER_IDS", "").split(",") if i]
SITE_IDS = [i for i in os.environ.get("FUZZ_SITE_IDS", "").split(",") if i]
#: The seeded region a valid new site may hang under, by code and by id.
REGION_CODE = "REGION-NE"
REGION_ID = os.environ.get("FUZZ_REGION_ID", "")
CURSOR_PARAMETERS = {
    "/v1/orders": "cursor",
    "/v1/order": "cursor",
    "/v1/events": "after",
    "/v1/sites": "cursor",
}
CURSOR_RESPONSE_FIELD = "next_cursor"
#: Query parameters that do not change which listing a cursor continues.
NOT_SCOPE = {"cursor", "after", "limit"}

#: (path, listing scope) -> cursors the server issued for that listing
issued_cursors: dict[tuple[str, str], set[str]] = {}
#: Idempotency-Key -> fingerprint of the first request sent with it
key_requests: dict[str, str] = {}


def pick(value: Any, choices: int) -> int:
    """A choice that is a function of the generated value (repr of NotSet holds an address)."""
    text = repr(value) if type(value).__name__ != "NotSet" else "NotSet"
    return zlib.crc32(text.encode()) % choices


def is_positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


def listing_scope(query: dict[str, Any] | None) -> str:
    filters = {k: v for k, v in (query or {}).items() if k not in NOT_SCOPE}
    return json.dumps(filters, sort_keys=True, default=str)


def steer_order_id(case: Any) -> None:
    params = case.path_parameters or {}
    if ORDER_IDS and "order_id" in params:
        index = pick(params["order_id"], 2 * len(ORDER_IDS))
        if index < len(ORDER_IDS):
            params["order_id"] = ORDER_IDS[index]


def steer_site_id(case: Any) -> None:
    params = case.path_parameters or {}
    if SITE_IDS and "site_id" in params:
        index = pick(params["site_id"], 2 * len(SITE_IDS))
        if index < len(SITE_IDS):
            params["site_id"] = SITE_IDS[index]


ZONES = frozenset(zoneinfo.available_timezones())


def known_time_zone(site: Any) -> None:
    zone = site.get("time_zone") if isinstance(site, dict) else None
    if isinstance(zone, str) and zone not in ZONES:
        site["time_zone"] = "UTC"


def placeable_site(case: Any) -> None:
    """A valid site body the stored sites can take (see the module's docstring)."""
    if not is_positive(case) or not case.path.startswith("/v1/sites"):
        return
    if case.path == "/v1/sites/import" and case.media_type == "text/csv":
        case.body = f"code,name,kind,time_zone\n{REGION_CODE},Northeast,region,UTC\n"
        return
    body = case.body if isinstance(case.body, dict) else None
    if body is None or case.path == "/v1/sites/import":
        return
    known_time_zone(body)
    if case.method == "PATCH":
        for name in ("kind", "parent", "parent_code"):
            body.pop(name, None)
        return
    under_region = body.get("kind") == "site" and (
        body.get("parent_code") == REGION_CODE or body.get("parent") == REGION_ID
    )
    body.pop("parent", None)
    body.pop("parent_code", None)
    if under_region:
        body["parent_code"] = REGION_CODE


def keep_only_issued_cursors(case: Any) -> None:
    name = CURSOR_PARAMETERS.get(case.path)
    if not name or not case.query or name not in case.query or not is_positive(case):
        return
    issued = issued_cursors.get((case.path, listing_scope(case.query)), set())
    if case.query[name] not in issued:
        del case.query[name]


def is_empty_range(start: Any, end: Any) -> bool:
    try:
        return datetime.fromisoformat(str(end)) <= datetime.fromisoformat(str(start))
    except (TypeError, ValueError):
        return False


def non_empty_ranges(case: Any) -> None:
    if not is_positive(case):
        return
    query = case.query or {}
    if is_empty_range(query.get("created_after"), query.get("created_before")):
        del query["created_before"]
    body = case.body if isinstance(case.body, dict) else {}
    window = body.get("requested_window")
    if isinstance(window, dict) and is_empty_range(window.get("start"), window.get("end")):
        body["requested_window"] = None


METADATA_MAX_BYTES = 4096
METADATA_MAX_KEYS = 50
METADATA_MAX_DEPTH = 10


def breaks_metadata_limits(value: Any, depth: int = 1) -> bool:
    if depth == 1:
        size = len(json.dumps(value, default=str).encode())  # the roomiest encoding
        if size > METADATA_MAX_BYTES or len(value or ()) > METADATA_MAX_KEYS:
            return True
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict | list):
        if depth > METADATA_MAX_DEPTH:
            return True
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return any(
            (isinstance(k, str) and "\x00" in k) or breaks_metadata_limits(v, depth + 1)
            for k, v in items
        )
    return False


def storable_metadata(case: Any) -> None:
    body = case.body if isinstance(case.body, dict) else {}
    if is_positive(case) and breaks_metadata_limits(body.get("metadata")):
        body["metadata"] = {}


def own_idempotency_key(case: Any) -> None:
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if not isinstance(key, str):
        return
    request = json.dumps([case.method, case.formatted_path, repr(case.body)], default=str)
    fingerprint = hashlib.sha256(request.encode()).hexdigest()
    stateful = case.meta is not None and case.meta.phase.name == "stateful"
    if stateful:
        fingerprint = f"{fingerprint}.{len(key_requests)}"  # never the same request twice
    first = key_requests.setdefault(key, fingerprint)  # what the server remembers
    key_is_the_invalid_part = case.meta is not None and case.meta.is_negative_at(HEADERS)
    if first != fingerprint and not key_is_the_invalid_part:
        own = f"{key[:200]}.{hashlib.sha256(fingerprint.encode()).hexdigest()[:16]}"
        key_requests.setdefault(own, fingerprint)
        headers["Idempotency-Key"] = own


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    steer_order_id(case)
    steer_site_id(case)
    placeable_site(case)
    keep_only_issued_cursors(case)
    non_empty_ranges(case)
    storable_metadata(case)
    own_idempotency_key(case)


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    if case.path not in CURSOR_PARAMETERS or response.status_code != 200:
        return
    try:
        cursor = response.json().get(CURSOR_RESPONSE_FIELD)
    except (ValueError, AttributeError):
        return
    if cursor:
        issued_cursors.setdefault((case.path, listing_scope(case.query)), set()).add(cursor)
