"""The pipeline page and the dashboard read their statuses at once: a page waits for its
slowest read, not for the sum of twenty-odd round trips."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orders.domain.workflow import STATUSES
from portal import container
from tests.conftest import unique_prefix
from tests.support import AwsStack, CallsInFlight, services_on


@pytest.fixture
def quiet_stack(emulator, settings):
    settings.AWS_CONCURRENT_READS = 10
    with services_on(AwsStack.provision(emulator, unique_prefix("fan"))) as stack:
        yield stack


def aws_clients():
    return container.client("dynamodb"), container.client("sqs"), container.client("cloudwatch")


@pytest.mark.django_db
def test_the_pipeline_reads_every_status_row_at_once(quiet_stack):
    health = container.pipeline_health()
    with CallsInFlight(len(STATUSES)).watching(*aws_clients()) as calls:
        rows = health.health(stuck_after=timedelta(minutes=15))
    assert [row.status for row in rows] == [str(s) for s in STATUSES]
    assert calls.peak >= len(STATUSES)


@pytest.mark.django_db
def test_the_dashboard_issues_its_counts_at_once_up_to_the_setting(quiet_stack):
    health = container.pipeline_health()
    with CallsInFlight(10).watching(*aws_clients()) as calls:
        dashboard = health.dashboard()
    assert [status for status, _, _ in dashboard.by_status] == [str(s) for s in STATUSES]
    assert dashboard.breached == (0, False) and dashboard.dead_letters == {}
    assert calls.peak == 10, calls.peak  # AWS_CONCURRENT_READS: never more at once


@pytest.mark.django_db
def test_one_read_at_a_time_when_so_configured(quiet_stack, settings):
    settings.AWS_CONCURRENT_READS = 1
    container.reset()
    health = container.pipeline_health()
    with CallsInFlight(0).watching(*aws_clients()) as calls:
        health.dashboard()
    assert calls.peak == 1
