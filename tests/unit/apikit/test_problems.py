"""Problem documents: errors mapped by kind, a context's own registrations winning for its
errors only, and DRF's own refusals in the same format."""

from __future__ import annotations

import json

import pytest
from rest_framework import exceptions, serializers

from apikit import problems
from apikit.problems import (
    PROBLEM_TYPE_BASE,
    documented_members,
    exception_handler,
    kind_of,
    register,
)
from kernel import errors as kinds


@pytest.fixture
def registry(monkeypatch):
    """The registry as it is, restored after the test (registrations are process-wide)."""
    monkeypatch.setattr(problems, "_registry", dict(problems._registry))
    return problems._registry


def body(response) -> dict:
    return json.loads(json.dumps(response.data))


class Gone(kinds.NotFound):
    pass


class Taken(kinds.Conflict):
    def __init__(self, holder: str):
        self.holder = holder
        super().__init__(f"taken by {holder}")


class TakenTwice(Taken):
    pass


@pytest.mark.parametrize(
    ("error", "status", "code", "title"),
    [
        (kinds.ValidationError({"title": ["Required."]}), 400, "invalid-input", "Invalid input"),
        (kinds.InvalidCursor("not ours"), 400, "invalid-cursor", "Invalid cursor"),
        (kinds.PermissionDenied("staff only"), 403, "forbidden", "Not allowed"),
        (Gone("no such thing"), 404, "not-found", "Not found"),
        (Taken("x"), 409, "conflict", "Conflict"),
    ],
)
def test_a_context_s_error_is_answered_by_its_kind(error, status, code, title):
    response = exception_handler(error, {})
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert body(response)["type"] == PROBLEM_TYPE_BASE + code
    assert list(body(response))[:4] == ["type", "title", "status", "detail"]
    assert (body(response)["title"], body(response)["status"]) == (title, status)
    assert body(response)["detail"] == str(error)


def test_the_kinds_add_what_a_client_needs_to_fix_the_request():
    invalid = body(exception_handler(kinds.ValidationError({"a": ["x", "y"]}), {}))
    assert invalid["errors"] == {"a": ["x", "y"]}
    cursor = body(exception_handler(kinds.InvalidCursor("not ours"), {}))
    assert cursor["errors"] == {"cursor": ["not ours"]}


def test_the_most_specific_registration_wins_and_only_for_its_errors(registry):
    register(Taken, 409, "taken", "Already taken", extra=lambda e: {"holder": e.holder})
    assert body(exception_handler(TakenTwice("bo"), {}))["holder"] == "bo"  # a subclass
    register(TakenTwice, 412, "taken-twice", "Taken again")
    assert exception_handler(TakenTwice("bo"), {}).status_code == 412
    assert body(exception_handler(Taken("bo"), {}))["type"].endswith(":taken")
    assert kind_of(kinds.Conflict("x")).code == "conflict"  # the kind itself is unchanged


def test_an_error_of_no_kind_is_not_the_client_s_doing():
    assert kind_of(RuntimeError("bug")) is None
    assert exception_handler(RuntimeError("bug"), {}) is None  # Django's 500 takes over
    assert exception_handler(kinds.DomainError("no kind"), {}) is None


def test_registered_members_are_documented_in_the_order_registered(registry):
    register(Taken, 409, "taken", "Taken", members={"holder": serializers.CharField()})
    register(Gone, 404, "gone", "Gone", members={"since": serializers.DateTimeField()})
    names = list(documented_members())
    assert names[-2:] == ["holder", "since"]


def test_drf_s_validation_errors_name_each_field_by_its_path():
    error = exceptions.ValidationError(
        {"contact": {"email": ["Enter a valid email address."]}, "status": {1: ["Bad."]}}
    )
    problem = body(exception_handler(error, {}))
    assert problem["errors"] == {
        "contact.email": ["Enter a valid email address."],
        "status[1]": ["Bad."],
    }
    assert problem["detail"] == "contact.email: Enter a valid email address.; status[1]: Bad."


def test_a_malformed_body_and_drf_s_own_refusals_keep_the_format():
    malformed = body(exception_handler(exceptions.ParseError("JSON parse error"), {}))
    assert malformed["type"].endswith(":malformed-body")
    assert malformed["errors"] == {"body": ["JSON parse error"]}
    throttled = exception_handler(exceptions.Throttled(wait=3), {})
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "3"
    assert body(throttled)["type"].endswith(":rate-limited")
