"""``Idempotency-Key`` with the store handed in: asked for only when a request has a key,
claimed, completed with the answer, replayed, released on our own failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from apikit.idempotency import StoredResponse, idempotent
from kernel.errors import NotFound


@dataclass
class Claim:
    outcome: str
    response: Any = None
    token: str | None = None


@dataclass
class MemoryStore:
    """Records by (scope, key), as the DynamoDB store keeps them."""

    records: dict[tuple[str, str], tuple[str, StoredResponse | None]] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim:
        held = self.records.get((scope, key))
        if held is None:
            self.records[(scope, key)] = (fingerprint, None)
            return Claim("new", token="t1")
        if held[0] != fingerprint:
            return Claim("mismatch")
        return Claim("replay", held[1]) if held[1] else Claim("in_progress")

    def complete(self, scope: str, key: str, token: str, response: StoredResponse) -> bool:
        self.records[(scope, key)] = (self.records[(scope, key)][0], response)
        return True

    def release(self, scope: str, key: str, token: str) -> None:
        self.released.append(key)
        del self.records[(scope, key)]

    def renew(self, scope: str, key: str, token: str) -> bool:
        return True


class Caller:
    integrator = "acme"


def post(body: str = '{"a": 1}', key: str | None = "k-1") -> Request:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    request = Request(
        APIRequestFactory().post("/v1/things", body, content_type="application/json", **headers)
    )
    request.user = Caller()
    return request


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def provider(store: MemoryStore):
    asked: list[int] = []

    def give() -> MemoryStore:
        asked.append(1)
        return store

    return give, asked


def created(secret: str = "s3cret") -> Response:
    response = Response({"id": 1, "secret": secret}, status=201)
    response["Location"] = "/v1/things/1"
    return response


def test_without_a_key_the_store_is_never_asked_for(store):
    give, asked = provider(store)
    response = idempotent(post(key=None), None, created, store=give)
    assert response.status_code == 201 and asked == []


def test_the_same_key_and_body_get_the_first_answer_again(store):
    give, _ = provider(store)
    runs = []

    def handle() -> Response:
        runs.append(1)
        return created()

    first = idempotent(post(), None, handle, store=give, redact=("secret",))
    again = idempotent(post('{ "a" : 1 }'), None, handle, store=give, redact=("secret",))

    assert runs == [1]
    assert first.data == {"id": 1, "secret": "s3cret"}
    assert again.data == {"id": 1, "secret": None}
    assert again["Idempotent-Replayed"] == "true"
    assert again["Idempotent-Redacted"] == "secret"
    assert again["Location"] == "/v1/things/1"


def test_the_same_key_with_another_body_is_a_422(store):
    give, _ = provider(store)
    idempotent(post(), None, created, store=give)
    response = idempotent(post('{"a": 2}'), None, created, store=give)
    assert response.status_code == 422
    assert response.data["type"].endswith(":idempotency-key-reused")


def test_a_client_error_is_kept_and_our_failure_released(store):
    give, _ = provider(store)

    def missing() -> Response:
        raise NotFound("no such thing")

    assert idempotent(post(), None, missing, store=give).status_code == 404
    assert idempotent(post(), None, missing, store=give)["Idempotent-Replayed"] == "true"

    def bug() -> Response:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        idempotent(post(key="k-2"), None, bug, store=give)
    assert store.released == ["k-2"]


def test_a_malformed_key_is_a_400_naming_the_header(store):
    give, asked = provider(store)
    response = idempotent(post(key="x" * 256), None, created, store=give)
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["Idempotency-Key"]
    assert asked == []


def test_an_answer_the_store_cannot_keep_is_given_and_the_key_let_go(store):
    class TooBig(MemoryStore):
        def complete(self, scope, key, token, response) -> bool:
            raise ValueError("Item size has exceeded the maximum allowed size")

    full = TooBig()
    response = idempotent(post(key="k-3"), None, created, store=lambda: full)
    assert response.status_code == 201 and response.data["id"] == 1
    assert full.released == ["k-3"] and not full.records
