"""Idempotency claims hold a short lease: a request that died mid-flight (killed web process,
timeout, deploy) does not block its key for a day; a retry takes the claim over, and the dead
request's late completion cannot overwrite the new claim's record."""

from __future__ import annotations

import uuid

import pytest

from orders.repository.idempotency import DynamoIdempotencyStore, StoredResponse

LEASE = 30
TTL = 86400


class Clock:
    """The store's clock, moved by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def records(aws, clock) -> DynamoIdempotencyStore:
    return DynamoIdempotencyStore(
        aws.dynamodb, aws.resources.side_table, ttl_seconds=TTL, lease_seconds=LEASE, clock=clock
    )


@pytest.fixture
def key() -> tuple[str, str]:
    return "acme", f"key-{uuid.uuid4().hex[:8]}"


CREATED = StoredResponse(201, {"id": "first"}, {"Location": "/v1/orders/first"})


def test_a_claim_still_within_its_lease_is_in_progress(records, clock, key):
    assert records.claim(*key, "fp").outcome == "new"
    clock.now += LEASE - 1
    assert records.claim(*key, "fp").outcome == "in_progress"


def test_a_retry_takes_over_a_claim_whose_lease_ran_out(records, clock, key):
    first = records.claim(*key, "fp")
    clock.now += LEASE + 1  # the first request's process was killed: nothing completes it

    retry = records.claim(*key, "fp")

    assert retry.outcome == "new"
    assert retry.token and retry.token != first.token
    # The new claim has a lease of its own: a third request waits for it.
    assert records.claim(*key, "fp").outcome == "in_progress"


def test_only_one_of_two_retries_takes_over_an_expired_claim(records, clock, key):
    records.claim(*key, "fp")
    clock.now += LEASE + 1
    outcomes = sorted(records.claim(*key, "fp").outcome for _ in range(2))
    assert outcomes == ["in_progress", "new"]


def test_a_late_completion_of_the_overtaken_request_does_not_clobber_the_new_claim(
    records, clock, key
):
    first = records.claim(*key, "fp")
    clock.now += LEASE + 1
    second = records.claim(*key, "fp")

    assert records.complete(*key, first.token, CREATED) is False  # no longer its claim
    assert records.claim(*key, "fp").outcome == "in_progress"  # still the second's
    records.release(*key, first.token)  # nor may it forget the second's claim
    assert records.claim(*key, "fp").outcome == "in_progress"

    answer = StoredResponse(201, {"id": "second"}, {"Location": "/v1/orders/second"})
    assert records.complete(*key, second.token, answer) is True
    replay = records.claim(*key, "fp")
    assert (replay.outcome, replay.response) == ("replay", answer)


def test_a_completed_record_is_replayed_long_after_the_lease(records, clock, key):
    claim = records.claim(*key, "fp")
    records.complete(*key, claim.token, CREATED)
    clock.now += LEASE * 100

    replay = records.claim(*key, "fp")

    assert (replay.outcome, replay.response) == ("replay", CREATED)


def test_another_body_is_refused_even_after_the_lease_ran_out(records, clock, key):
    records.claim(*key, "fp")
    clock.now += LEASE + 1
    assert records.claim(*key, "other").outcome == "mismatch"


def test_a_released_claim_can_be_claimed_again_at_once(records, key):
    claim = records.claim(*key, "fp")
    records.release(*key, claim.token)
    assert records.claim(*key, "fp").outcome == "new"


def test_the_record_expires_after_the_ttl_whatever_its_state(records, clock, key):
    claim = records.claim(*key, "fp")
    records.complete(*key, claim.token, CREATED)
    clock.now += TTL + 1
    assert records.claim(*key, "other").outcome == "new"


def test_a_claim_written_before_leases_existed_is_taken_over_once_its_lease_would_be_over(
    aws, records, clock, key
):
    """Records from before the upgrade have no lease or token; the stuck ones free up."""
    scope, name = key
    aws.dynamodb.put_item(
        TableName=aws.resources.side_table,
        Item={
            "pk": {"S": f"IDEMPOTENCY#{scope}#{name}"},
            "sk": {"S": "IDEMPOTENCY"},
            "fingerprint": {"S": "fp"},
            "state": {"S": "in_progress"},
            "expires_at": {"N": str(int(clock.now) + TTL)},
        },
    )
    assert records.claim(*key, "fp").outcome == "in_progress"
    clock.now += LEASE + 1
    assert records.claim(*key, "fp").outcome == "new"


def test_a_request_that_renews_its_lease_is_never_taken_over(records, clock, key):
    """A slow request alive in its process keeps renewing (apikit.idempotency.LeaseKeeper):
    its claim outlives several leases; once renewals stop (the process died), a retry wins."""
    first = records.claim(*key, "fp")
    for _ in range(3):
        clock.now += LEASE - 1
        assert records.renew(*key, first.token)
        assert records.claim(*key, "fp").outcome == "in_progress"
    clock.now += LEASE + 1
    retry = records.claim(*key, "fp")
    assert retry.outcome == "new"
    assert not records.renew(*key, first.token)  # overtaken: nothing left to renew
    assert records.complete(*key, retry.token, CREATED)
    assert not records.renew(*key, retry.token)  # completed: nothing to renew either
