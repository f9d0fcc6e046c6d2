"""Deleting a webhook endpoint while a status worker records a delivery for it, or a
dispatcher logs an attempt of one of its deliveries: the delete is a 204 and the other side
skips what no longer exists (no 500, no crash, nothing left behind).

The race is forced, not hoped for: just before the delete's transaction runs a chosen
``DELETE`` statement (after Django has collected the endpoint's children), a hook starts the
concurrent writer in its own thread (its own database connection) and waits until that
writer has either finished or is waiting for the delete's lock. Runs on SQLite by default and
on PostgreSQL with DATABASE_URL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from tests.integration.conftest import client_for
from tests.support import wait_for
from webhooks.dispatch import Dispatcher, DispatchSettings
from webhooks.endpoints import create_endpoint
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.recording import WebhookNotifier

from .test_webhooks import event_for

pytestmark = pytest.mark.django_db(transaction=True)
ENDPOINTS = WebhookEndpoint._meta.db_table
DELIVERIES = WebhookDelivery._meta.db_table


def is_write(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))


class ConcurrentWriter:
    """Runs ``work`` in a thread of its own once started; tells whether it is done or is
    blocked behind another connection's lock."""

    def __init__(self, work: Callable[[], object]):
        self.go, self.finished = threading.Event(), threading.Event()
        self.errors: list[BaseException] = []
        self.writing = False
        #: Set by the test once the delete's transaction has written (SQLite: holds the lock).
        self.delete_has_written = False
        self.backend_pid: int | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()
        wait_for(self._ready.is_set, timeout=10, what="the writer's connection")

    def _run(self, work: Callable[[], object]) -> None:
        try:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    self.backend_pid = cursor.fetchone()[0]
            self._ready.set()
            if self.go.wait(timeout=30):
                with connection.execute_wrapper(self._note_writes):
                    work()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)
        finally:
            self.finished.set()
            connection.close()

    def _note_writes(self, execute, sql, params, many, context):
        self.writing = self.writing or is_write(sql)
        return execute(sql, params, many, context)

    def blocked(self) -> bool:
        """Waiting for a lock held by another connection (the delete's)."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [self.backend_pid]
                )
                return cursor.fetchone() is not None
        # SQLite: one writer at a time; the delete's first write took the database's write
        # lock until it commits, so a write started after it waits.
        return self.writing and self.delete_has_written

    def finish(self) -> None:
        self.go.set()
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "the concurrent writer never finished"


def delete_racing(api, endpoint: WebhookEndpoint, writer: ConcurrentWriter, *, before: str):
    """DELETE the endpoint over the API; the writer runs just before the statement deleting
    from table ``before``."""
    statement = f'DELETE FROM "{before}"'

    def race(execute, sql, params, many, context):
        if sql.startswith(statement) and not writer.go.is_set():
            writer.go.set()
            wait_for(
                lambda: writer.finished.is_set() or writer.blocked(),
                timeout=30,
                what="the concurrent write to finish or to wait for the delete",
            )
        result = execute(sql, params, many, context)
        writer.delete_has_written = writer.delete_has_written or is_write(sql)
        return result

    try:
        with connection.execute_wrapper(race):
            return api.delete(f"/v1/webhooks/{endpoint.pk}")
    finally:
        writer.finish()


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


def test_delete_while_a_worker_records_a_delivery_is_204(aws, integrator):
    endpoint = create_endpoint(integrator.slug, url="http://127.0.0.1:9/hooks")
    event = event_for(integrator.slug)
    writer = ConcurrentWriter(lambda: WebhookNotifier().notify(event, integrator=event.integrator))

    response = delete_racing(
        client_for(integrator), endpoint, writer, before=WebhookEndpoint._meta.db_table
    )

    assert response.status_code == 204, response.content
    assert writer.errors == []  # the worker skipped the endpoint that went away
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.filter(event_id=event.id).exists()


def test_delete_while_a_dispatcher_logs_an_attempt_is_204(aws, integrator):
    endpoint = create_endpoint(integrator.slug, url="http://127.0.0.1:9/hooks")
    event = event_for(integrator.slug)
    WebhookNotifier().notify(event, integrator=event.integrator)
    delivery = WebhookDelivery.objects.get(event_id=event.id)
    sender = Dispatcher(DispatchSettings(schedule=(60,), jitter=0, allow_private_urls=True))
    writer = ConcurrentWriter(lambda: sender.attempt(delivery.pk))  # nothing listens on 9

    response = delete_racing(
        client_for(integrator), endpoint, writer, before=WebhookDelivery._meta.db_table
    )

    assert response.status_code == 204, response.content
    assert writer.errors == []
    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()
    assert not WebhookAttempt.objects.filter(delivery_id=delivery.pk).exists()


def test_a_delivery_deleted_before_its_attempt_is_skipped(aws, integrator):
    endpoint = create_endpoint(integrator.slug, url="http://127.0.0.1:9/hooks")
    WebhookNotifier().notify(event_for(integrator.slug), integrator=integrator.slug)
    sender = Dispatcher(DispatchSettings(schedule=(0,), jitter=0, allow_private_urls=True))
    # The dispatcher has taken this delivery to send (which of the due ones it leases first
    # is not what this test is about: other tests may have left due deliveries behind).
    leased = WebhookDelivery.objects.get(endpoint=endpoint).pk

    assert client_for(integrator).delete(f"/v1/webhooks/{endpoint.pk}").status_code == 204

    assert sender.attempt(leased) is None
    assert not WebhookDelivery.objects.filter(pk=leased).exists()


def test_an_attempt_that_turns_out_to_disable_the_endpoint_locks_it_before_the_delivery(
    aws, integrator
):
    """The dispatcher read the delivery before another attempt moved it to its last step:
    recording this failure disables the endpoint. It must take the endpoint's lock before
    the delivery's, as the endpoint's delete does, or the two can deadlock."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    endpoint = create_endpoint(integrator.slug, url="http://127.0.0.1:9/hooks")
    event = event_for(integrator.slug)
    WebhookNotifier().notify(event, integrator=event.integrator)
    stale = WebhookDelivery.objects.get(event_id=event.id)
    sender = Dispatcher(DispatchSettings(schedule=(60,), jitter=0, allow_private_urls=True))
    WebhookDelivery.objects.filter(pk=stale.pk).update(schedule_step=1)  # the other attempt

    with CaptureQueriesContext(db) as queries:
        sender._record(stale, None, 5, "ConnectionRefusedError", "")

    statements = [q["sql"] for q in queries.captured_queries]
    endpoint_writes = [
        i for i, sql in enumerate(statements) if sql.startswith(f'UPDATE "{ENDPOINTS}"')
    ]
    delivery_claims = [
        i
        for i, sql in enumerate(statements)
        if sql.startswith(f'UPDATE "{DELIVERIES}" SET "id" = "{DELIVERIES}"."id"')
    ]
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    # The transaction that recorded it claimed the endpoint, then the delivery.
    assert endpoint_writes and delivery_claims
    assert endpoint_writes[0] < delivery_claims[-1]
    assert WebhookAttempt.objects.filter(delivery_id=stale.pk).count() == 1
