"""``Idempotency-Key`` on POSTs: the same key and body get the first answer again, without
doing the work twice; the same key with another body is a 422.

Where the records are kept is the caller's business: each view hands in a provider of its
store (``store=``, for this portal ``portal.container.idempotency_store``), called only when a
request carries a key, so the kit knows no app and no database.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .problems import exception_handler, problem

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
KEY_MAX = 255
#: Response headers worth replaying.
REPLAYED_HEADERS = ("Location", "ETag")
#: On a replay: the fields of the first answer that are not replayed (null), comma-separated.
REDACTED_HEADER = "Idempotent-Redacted"


@dataclass(frozen=True)
class StoredResponse:
    """An answer as kept for replays: what the store writes and gives back."""

    status: int
    body: Any
    headers: dict[str, str]


class Claim(Protocol):
    """``new``: go ahead, holding ``token``. ``replay``: answer ``response`` again.
    ``mismatch``: the key was used for another request. ``in_progress``: the first request
    with this key is still running."""

    outcome: str
    response: Any
    token: str | None


class IdempotencyStore(Protocol):
    """The records of keys, per scope (the caller): claimed before a request runs, completed
    with its answer, released when it failed on our side, renewed while it runs."""

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim: ...

    def complete(self, scope: str, key: str, token: str, response: StoredResponse) -> bool: ...

    def release(self, scope: str, key: str, token: str) -> None: ...

    def renew(self, scope: str, key: str, token: str) -> bool: ...


def fingerprint(request: Request) -> str:
    """The request as far as idempotency cares: method, path and the JSON body's content
    (so that whitespace or key order do not make it another request). Never raises: a body
    that is not JSON we can canonicalize (malformed, nested too deep, huge numbers, lone
    surrogates) counts as its raw bytes; the parser refuses it anyway."""
    raw = request.body
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), canonical):
        digest.update(part + b"\0")
    return digest.hexdigest()


def redacted(body: Any, fields: Collection[str]) -> tuple[Any, list[str]]:
    """``body`` with those of ``fields`` it has at its top level set to null, and their names."""
    present = [name for name in fields if name in body] if isinstance(body, dict) else []
    return ({**body, **dict.fromkeys(present)} if present else body), present


def idempotent(
    request: Request,
    view: APIView,
    handle: Callable[[], Response],
    *,
    store: Callable[[], IdempotencyStore],
    redact: Collection[str] = (),
) -> Response:
    """Run ``handle`` once per key and body; replay its answer to the same request again.
    ``store`` gives the records (asked for only when the request has a key). ``redact`` names
    fields of the answer that only the first answer shows (a secret): they are never stored,
    and a replay has them null and names them in ``Idempotent-Redacted``. Keys are scoped to
    the caller (``request.user.integrator``)."""
    key = request.headers.get(HEADER)
    if key is None:
        return handle()
    if not key or len(key) > KEY_MAX or not key.isprintable():
        return problem(
            status.HTTP_400_BAD_REQUEST,
            "invalid-input",
            "Invalid input",
            f"{HEADER} must be 1 to {KEY_MAX} printable characters.",
            errors={HEADER: [f"Use 1 to {KEY_MAX} printable characters."]},
        )
    records = store()
    scope = request.user.integrator
    claim = records.claim(scope, key, fingerprint(request))
    if claim.outcome == "replay":
        return replay(claim.response, redact)
    if claim.outcome == "mismatch":
        return problem(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "Idempotency key reused",
            f"{HEADER} {key!r} was already used with a different request.",
        )
    if claim.outcome == "in_progress":
        # Also a request whose process died, until its claim's lease runs out (then a retry
        # takes the claim over): IDEMPOTENCY_LEASE_SECONDS.
        conflict = problem(
            status.HTTP_409_CONFLICT,
            "idempotency-in-progress",
            "Request in progress",
            f"A request with {HEADER} {key!r} is still being processed; retry shortly.",
        )
        conflict["Retry-After"] = "1"
        return conflict
    try:
        with LeaseKeeper(
            records, scope, key, claim.token, every=settings.IDEMPOTENCY_LEASE_SECONDS / 3
        ):
            response = handle()
    except Exception as exc:
        response = exception_handler(exc, {"request": request, "view": view})
        if response is None:  # our failure, not the client's: let a retry run again
            records.release(scope, key, claim.token)
            raise
    if response.status_code >= 500:
        records.release(scope, key, claim.token)
        return response
    headers = {name: response[name] for name in REPLAYED_HEADERS if name in response}
    headers["Content-Type"] = response.content_type or "application/json"
    body, _ = redacted(response.data, redact)
    try:
        records.complete(
            scope, key, claim.token, StoredResponse(response.status_code, body, headers)
        )
    except Exception:  # noqa: BLE001 - the work is done: the caller gets its answer anyway
        # An answer the store cannot keep (one over its item size, a store gone away): the
        # key is let go at once, so that a retry runs again rather than waiting for the lease.
        log.exception("could not keep the answer to %s %r for replays", HEADER, key)
        with contextlib.suppress(Exception):
            records.release(scope, key, claim.token)
    return response


def replay(stored: Any, redact: Collection[str]) -> Response:
    """The stored answer again, marked as a replay. Redacted again: a record stored before
    its view asked for redaction is not shown either."""
    body, hidden = redacted(stored.body, redact)
    response = Response(body, status=stored.status, content_type=stored.headers.get("Content-Type"))
    for name, value in stored.headers.items():
        if name != "Content-Type":
            response[name] = value
    response["Idempotent-Replayed"] = "true"
    if hidden:
        response[REDACTED_HEADER] = ", ".join(hidden)
    return response


class Renewer(Protocol):
    def renew(self, scope: str, key: str, token: str) -> bool: ...


class LeaseKeeper:
    """Renews a claim's lease every ``every`` seconds while the request runs, so that a slow
    request keeps its key and only a dead one's claim (no more renewals) can be taken over.
    gunicorn's gthread workers do not stop a request at WEB_TIMEOUT, so without this a request
    outliving its lease could run twice. Most requests end before the first renewal."""

    def __init__(self, records: Renewer, scope: str, key: str, token: str, *, every: float):
        self._renew = lambda: records.renew(scope, key, token)
        self._every = every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idempotency-lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self._every):
            try:
                if not self._renew():
                    return  # taken over or finished: nothing left to keep
            except Exception:  # noqa: BLE001 - the next renewal may succeed; the lease is long
                log.warning("could not renew an idempotency lease", exc_info=True)
