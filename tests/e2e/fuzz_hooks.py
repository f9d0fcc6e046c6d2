"""schemathesis hooks for test_fuzz_http.py, loaded by the ``schemathesis run`` it starts
(``SCHEMATHESIS_HOOKS``).

They steer generated values only where the schema cannot say what the server knows, so that
valid requests (``positive_data_acceptance``) reach the code behind them instead of a
refusal that no schema could predict. Each steer depends on nothing but the generated case,
what the server answered before and the clock (a plan's occurrences count from now, an asset
is not installed in the future), so a deterministic run stays repeatable. Every other
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
  (``REGION-NE``, by code or id), and a valid change leaves ``kind`` and the parent alone
  (and a seeded site's code and time zone: other valid requests name it by its code, and
  compute the occurrences of the plans at it on its clock).
  A valid CSV import is a CSV file (the schema can only say "a file"): one seeded region.
- Assets: about half of the requests naming an asset get one the test seeded
  (``FUZZ_ASSET_IDS``). A valid asset stands at the seeded active store (``FUZZ-STORE-1``, by
  code: the site it names is replaced, since a new asset must name one and no more), and was
  installed on a real day that is not in the future (a pattern says neither).
- Maintenance plans: about half of the requests naming a plan get one the test seeded
  (``FUZZ_PLAN_IDS``: on the active asset, at the active store, archived). A valid new plan
  is on the seeded active asset or at the seeded active store (whether a place is the
  caller's and in use is the server's to know; the asset only while the server has not said
  it retired it). Its rule must happen again from now (the server expands it: no pattern
  can say so), on a real ``starts_on`` within the rules' ten-year horizon: a rule that does
  not is replaced by one of a few that do, chosen by the generated one. A valid skip names one
  of the plan's coming occurrences, computed with the plans' own rules from its timing as the
  server last answered it (``FUZZ_PLANS`` for the seeded ones); a valid unskip names an
  occurrence the server said is skipped (seeded, skipped by an earlier request, or listed).
- Orders: a valid new order names no site or asset by id (the run archives sites and
  retires assets) and has the free-text ``site`` it then needs.
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
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import schemathesis
from schemathesis.core.parameters import ParameterLocation

from maintenance.domain.recurrence import Recurrence, RuleProblem, checked

HEADERS = ParameterLocation.HEADER
ORDER_IDS = [i for i in os.environ.get("FUZZ_ORDER_IDS", "").split(",") if i]
SITE_IDS = [i for i in os.environ.get("FUZZ_SITE_IDS", "").split(",") if i]
ASSET_IDS = [i for i in os.environ.get("FUZZ_ASSET_IDS", "").split(",") if i]
#: The seeded active store a valid asset stands at.
STORE_CODE = "FUZZ-STORE-1"
#: The seeded active store and asset (the first of ``FUZZ_ASSET_IDS``) a valid plan names.
STORE_ID = os.environ.get("FUZZ_STORE_ID", "")
ACTIVE_ASSET_ID = ASSET_IDS[0] if ASSET_IDS else ""
PLAN_IDS = [i for i in os.environ.get("FUZZ_PLAN_IDS", "").split(",") if i]
PLANS = "/v1/maintenance-plans"
PLAN = f"{PLANS}/{{plan_id}}"
#: Rules that happen again from any start, for a valid plan whose generated rule does not.
VALID_RULES = ("FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO", "FREQ=MONTHLY;BYMONTHDAY=1")
#: A valid plan's start when the generated one is no real day or too far ahead: the rules
#: refuse a plan whose first occurrence is more than ten years away.
DEFAULT_START = "2026-01-01"
START_AHEAD_MAX = timedelta(days=5 * 365)
#: How many coming occurrences a valid skip chooses among.
SKIP_CHOICES = 20
#: The seeded region a valid new site may hang under, by code and by id.
REGION_CODE = "REGION-NE"
REGION_ID = os.environ.get("FUZZ_REGION_ID", "")
CURSOR_PARAMETERS = {
    "/v1/orders": "cursor",
    "/v1/order": "cursor",
    "/v1/events": "after",
    "/v1/sites": "cursor",
    "/v1/assets": "cursor",
    "/v1/maintenance-plans": "cursor",
}
CURSOR_RESPONSE_FIELD = "next_cursor"
#: Query parameters that do not change which listing a cursor continues.
NOT_SCOPE = {"cursor", "after", "limit"}

#: (path, listing scope) -> cursors the server issued for that listing
issued_cursors: dict[tuple[str, str], set[str]] = {}
#: Idempotency-Key -> fingerprint of the first request sent with it
key_requests: dict[str, str] = {}
#: plan id -> its timing as the server last answered it (recurrence, starts_on, at, time_zone,
#: and the version that answer showed)
plan_timings: dict[str, dict[str, Any]] = {}
#: plan id -> the due times of its occurrences the server said are skipped
skipped_occurrences: dict[str, set[datetime]] = {}
#: seeded assets the server last answered as retired
retired_assets: set[str] = set()


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
        if (case.path_parameters or {}).get("site_id") in SITE_IDS:
            # Other valid requests name the seeded sites by code, and compute the occurrences
            # of the plans at them on their clock.
            body.pop("code", None)
            body.pop("time_zone", None)
        return
    under_region = body.get("kind") == "site" and (
        body.get("parent_code") == REGION_CODE or body.get("parent") == REGION_ID
    )
    body.pop("parent", None)
    body.pop("parent_code", None)
    if under_region:
        body["parent_code"] = REGION_CODE


def steer_asset_id(case: Any) -> None:
    params = case.path_parameters or {}
    if ASSET_IDS and "asset_id" in params:
        index = pick(params["asset_id"], 2 * len(ASSET_IDS))
        if index < len(ASSET_IDS):
            params["asset_id"] = ASSET_IDS[index]


def placeable_asset(case: Any) -> None:
    """A valid asset body the stored sites can take (see the module's docstring)."""
    if not is_positive(case) or not case.path.startswith("/v1/assets"):
        return
    body = case.body if isinstance(case.body, dict) else None
    if body is None:
        return
    named_a_site = "site" in body or "site_code" in body
    body.pop("site", None)
    body.pop("site_code", None)
    if case.method == "POST" or named_a_site:
        body["site_code"] = STORE_CODE
    installed = body.get("installed_on")
    if isinstance(installed, str):
        try:
            real_past_day = date.fromisoformat(installed) <= date.today()
        except ValueError:
            real_past_day = False
        if not real_past_day:
            body["installed_on"] = "2020-01-01"


def placeable_order(case: Any) -> None:
    """A valid new order names no site or asset by id (whether one is the caller's, active and
    in use depends on the stored places, which the run archives and retires), and so carries
    the free-text ``site`` it then needs (a rule across fields no schema states)."""
    if not is_positive(case) or case.method != "POST" or case.path not in ORDER_CREATES:
        return
    body = case.body if isinstance(case.body, dict) else None
    if body is None:
        return
    body.pop("site_id", None)
    body.pop("asset_id", None)
    if body.get("site") is None:
        body["site"] = "Store 12, 5th Ave"


ORDER_CREATES = ("/v1/orders", "/v1/order")


def steer_plan_id(case: Any) -> None:
    params = case.path_parameters or {}
    if PLAN_IDS and "plan_id" in params:
        index = pick(params["plan_id"], 2 * len(PLAN_IDS))
        if index < len(PLAN_IDS):
            params["plan_id"] = PLAN_IDS[index]


def placeable_plan(case: Any) -> None:
    """A valid new plan is on the seeded active asset or at the seeded active store: whether
    a site or an asset is the caller's, active or in service, and where an asset is, no schema
    states (the server knows). The asset only while the server has not answered it retired."""
    if not is_positive(case) or case.method != "POST" or case.path != PLANS:
        return
    body = case.body if isinstance(case.body, dict) else None
    if body is None or not STORE_ID:
        return
    on_asset = body.get("asset_id") is not None or (
        body.get("site_id") is None and pick(body.get("name"), 2) == 0
    )
    if on_asset and ACTIVE_ASSET_ID and ACTIVE_ASSET_ID not in retired_assets:
        body["asset_id"] = ACTIVE_ASSET_ID
        if body.get("site_id") is not None:
            body["site_id"] = STORE_ID  # the asset's site
        return
    body["site_id"] = STORE_ID
    if "asset_id" in body:
        body["asset_id"] = None


def happens_again(rule: Any, starts_on: Any, at: Any, zone: str) -> bool:
    """Whether the server would take the rule: it happens from this minute on (within its
    horizon), counted from ``starts_on`` at ``at`` on ``zone``'s clock."""
    try:
        first = datetime.combine(date.fromisoformat(starts_on), time.fromisoformat(at))
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        checked(rule, first, zone, now=now)
    except (RuleProblem, TypeError, ValueError):
        return False
    return True


def real_start(value: Any) -> str:
    """A real day (a pattern cannot say which days a month has), not so far ahead that the
    first occurrence falls beyond the rules' horizon; another day becomes ``DEFAULT_START``."""
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return DEFAULT_START
    return value if day <= date.today() + START_AHEAD_MAX else DEFAULT_START


def recurring_plan(case: Any) -> None:
    """A valid plan's rule happens again from now: the server expands it to know, which no
    schema can. A change is judged with what it leaves of the plan as the server last
    answered it; a rule that would not happen again is replaced by one of ``VALID_RULES``,
    chosen by the generated rule."""
    if not is_positive(case) or not isinstance(case.body, dict):
        return
    if case.method == "POST" and case.path == PLANS:
        stored = {"at": "09:00", "time_zone": "UTC"}  # the seeded store's clock
    elif case.method == "PATCH" and case.path == PLAN:
        stored = plan_timings.get((case.path_parameters or {}).get("plan_id", ""))
        if stored is None:  # a plan the server never named: a 404
            return
    else:
        return
    body = case.body
    if "starts_on" in body:
        body["starts_on"] = real_start(body["starts_on"])
    if not {"recurrence", "starts_on", "at"} & body.keys():
        return
    timing = {**stored, **{k: body[k] for k in ("recurrence", "starts_on", "at") if k in body}}
    rule = timing.get("recurrence")
    if not happens_again(rule, timing.get("starts_on"), timing["at"], timing["time_zone"]):
        body["recurrence"] = VALID_RULES[pick(rule, len(VALID_RULES))]


def occurrences_of(plan_id: str, count: int) -> list[datetime]:
    """The plan's next ``count`` occurrences an hour from now on, by its last known timing."""
    timing = plan_timings.get(plan_id)
    if timing is None:
        return []
    try:
        first = datetime.combine(
            date.fromisoformat(timing["starts_on"]), time.fromisoformat(timing["at"])
        )
        recurrence = Recurrence(timing["recurrence"], first, timing["time_zone"])
        return recurrence.upcoming(datetime.now(UTC) + timedelta(hours=1), count)
    except (RuleProblem, KeyError, TypeError, ValueError):
        return []


def as_due_at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def occurrence_to_skip(case: Any) -> None:
    """A valid skip names one of the plan's coming occurrences: which times those are depends
    on the plan's rule, start, time and zone (the plans' own rules compute them here, from the
    plan as the server last answered it); one already skipped or created is a 409."""
    if not is_positive(case) or case.path != f"{PLAN}/occurrences/skip":
        return
    body = case.body if isinstance(case.body, dict) else None
    dues = occurrences_of((case.path_parameters or {}).get("plan_id", ""), SKIP_CHOICES)
    if body is not None and dues:
        body["due_at"] = as_due_at(dues[pick(body.get("due_at"), len(dues))])


def skip_to_take_back(case: Any) -> None:
    """A valid unskip names an occurrence the server said is skipped (whether one is, is the
    server's to know): the plan's own, or, for a plan the server knows with none, another
    plan's. Each one taken back is gone, so the seeded plan starts with many."""
    if not is_positive(case) or case.path != f"{PLAN}/occurrences/unskip":
        return
    body = case.body if isinstance(case.body, dict) else None
    params = case.path_parameters or {}
    plan_id = params.get("plan_id", "")
    if body is None or plan_id not in plan_timings:
        return
    choices = [(plan_id, due) for due in sorted(skipped_occurrences.get(plan_id, ()))] or sorted(
        (plan, due) for plan, dues in skipped_occurrences.items() for due in dues
    )
    if choices:
        params["plan_id"], due = choices[pick(body.get("due_at"), len(choices))]
        body["due_at"] = as_due_at(due)


def learn_plan(plan: Any) -> None:
    """A plan's timing as an answer shows it, unless an answer already showed a later version
    (a replayed answer, ``Idempotency-Key``, shows the plan as it was then)."""
    if (
        not isinstance(plan, dict)
        or not isinstance(plan.get("id"), str)
        or "recurrence" not in plan
    ):
        return
    version = plan.get("version") if isinstance(plan.get("version"), int) else 0
    if version >= plan_timings.get(plan["id"], {}).get("version", 0):
        timing = {k: plan[k] for k in ("recurrence", "starts_on", "at", "time_zone") if k in plan}
        plan_timings[plan["id"]] = {**timing, "version": version}


def parsed_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def learn_skips(plan_id: str, occurrences: Any) -> None:
    for occurrence in occurrences if isinstance(occurrences, list) else ():
        due = parsed_time(occurrence.get("due_at")) if isinstance(occurrence, dict) else None
        if due is not None and occurrence.get("state") == "skipped":
            skipped_occurrences.setdefault(plan_id, set()).add(due)


for seeded in json.loads(os.environ.get("FUZZ_PLANS", "[]")):
    learn_plan(seeded)
    learn_skips(seeded["id"], [{"due_at": d, "state": "skipped"} for d in seeded["skipped"]])


def learn_from_answer(case: Any, response: Any) -> None:
    """What the server said about plans (their timing, their skipped occurrences) and about
    the seeded asset (retired or not), for the steers above."""
    params = case.path_parameters or {}
    if case.path == f"{PLAN}/occurrences/unskip" and response.status_code == 204:
        due = parsed_time(case.body.get("due_at")) if isinstance(case.body, dict) else None
        skipped_occurrences.get(params.get("plan_id", ""), set()).discard(due)
        return
    if response.status_code not in (200, 201):
        return
    try:
        body = response.json()
    except ValueError:
        return
    if not isinstance(body, dict):
        return
    if case.path.startswith("/v1/assets/{asset_id}") and "status" in body:
        if body["status"] == "retired":
            retired_assets.add(str(body.get("id")))
        else:
            retired_assets.discard(str(body.get("id")))
    if not case.path.startswith(PLANS):
        return
    for plan in [body, *(body.get("results") or [])]:
        learn_plan(plan)
    if case.path == f"{PLAN}/occurrences/skip":
        learn_skips(params.get("plan_id", ""), [body])
    elif case.path == f"{PLAN}/occurrences":
        learn_skips(params.get("plan_id", ""), body.get("results"))


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
    steer_asset_id(case)
    placeable_asset(case)
    placeable_order(case)
    steer_plan_id(case)
    placeable_plan(case)
    recurring_plan(case)
    occurrence_to_skip(case)
    skip_to_take_back(case)
    keep_only_issued_cursors(case)
    non_empty_ranges(case)
    storable_metadata(case)
    own_idempotency_key(case)


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    learn_from_answer(case, response)
    if case.path not in CURSOR_PARAMETERS or response.status_code != 200:
        return
    try:
        cursor = response.json().get(CURSOR_RESPONSE_FIELD)
    except (ValueError, AttributeError):
        return
    if cursor:
        issued_cursors.setdefault((case.path, listing_scope(case.query)), set()).add(cursor)
