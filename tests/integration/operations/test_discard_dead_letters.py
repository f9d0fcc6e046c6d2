"""Discarding dead letters (``operations.services.discard``) against the emulator: one or all
deleted for good, each discard in the audit log in words, and nothing left for a redrive."""

from __future__ import annotations

import pytest

from operations.models import AuditEntry
from operations.services import discard, recent_actions, redrive
from portal.container import status_queues

STATUS = "in_progress"


@pytest.fixture
def three_dead_letters(aws):
    """Three dead letters on the in-progress dead-letter queue, as a worker leaves them; the
    queue and its live queue empty again afterwards."""
    dlq = aws.dead_letter_queue(STATUS)
    aws.drain(dlq)
    aws.drain(aws.status_queue(STATUS))
    for n in (1, 2, 3):
        aws.sqs.send_message(
            QueueUrl=dlq,
            MessageBody=f'{{"forged": {n}}}',
            MessageAttributes={
                "failure_reason": {"DataType": "String", "StringValue": f"forged event {n}"},
                "status": {"DataType": "String", "StringValue": STATUS},
            },
        )
    yield dlq
    aws.drain(dlq)
    aws.drain(aws.status_queue(STATUS))


@pytest.mark.django_db
def test_discarding_one_deletes_only_that_letter_and_is_audited(aws, three_dead_letters):
    queues = status_queues()
    letters = queues.dead_letters(STATUS)
    chosen = letters[1]

    gone = discard(queues, STATUS, by="dana", message_id=chosen.message_id)

    assert gone == 1
    left = {letter.message_id for letter in queues.dead_letters(STATUS)}
    assert left == {letters[0].message_id, letters[2].message_id}
    assert aws.depth(aws.status_queue(STATUS)) == (0, 0)  # deleted, not sent anywhere
    (entry,) = recent_actions(target=queues.resources.dead_letter_queue_name(STATUS))
    assert (entry.user, entry.action) == ("dana", "discard")
    assert entry.summary == "discarded 1 dead letter"
    assert entry.message_id == chosen.message_id


@pytest.mark.django_db
def test_discarding_all_empties_the_queue_and_a_redrive_then_finds_nothing(aws, three_dead_letters):
    queues = status_queues()

    assert discard(queues, STATUS, by="dana") == 3

    assert aws.depth(three_dead_letters) == (0, 0)
    assert redrive(queues, STATUS, by="sam") == 0
    assert aws.depth(aws.status_queue(STATUS)) == (0, 0)  # nothing came back to life
    newest_first = recent_actions(target=queues.resources.dead_letter_queue_name(STATUS))
    assert [(e.user, e.summary) for e in newest_first] == [
        ("sam", "asked to send back dead letters, found none left"),
        ("dana", "discarded 3 dead letters"),
    ]


@pytest.mark.django_db
def test_discarding_a_letter_already_gone_takes_nothing_else(aws, three_dead_letters):
    queues = status_queues()
    chosen = queues.dead_letters(STATUS)[0]
    assert redrive(queues, STATUS, by="sam", message_id=chosen.message_id) == 1

    assert discard(queues, STATUS, by="dana", message_id=chosen.message_id) == 0

    assert aws.depth(three_dead_letters)[0] == 2  # the other two stay
    entry = AuditEntry.objects.filter(action="discard").get()
    assert entry.summary == "asked to discard the dead letter, found none left"


def test_audit_entries_read_in_words_old_ones_included():
    def summary(action: str, detail: str) -> str:
        return AuditEntry(user="u", action=action, target="q", detail=detail).summary

    # "1 message(s), message <id>" is how redrives have always been recorded.
    assert summary("redrive", "1 message(s), message abc") == "sent 1 dead letter back"
    assert summary("redrive", "2 message(s)") == "sent 2 dead letters back"
    assert summary("discard", "3 message(s)") == "discarded 3 dead letters"
    assert summary("rotate_key", "key 4") == "rotate key: key 4"
