"""DynamoDB (and its streams) may be served apart from every other service: DynamoDB Local
beside moto locally, by ``AWS_ENDPOINT_URL_DYNAMODB``; unset, everything goes to
``AWS_ENDPOINT_URL`` as before."""

from __future__ import annotations

import pytest

from aws.clients import endpoint_for
from portal import container

MOTO = "http://127.0.0.1:4566"
LOCAL = "http://127.0.0.1:8566"


@pytest.mark.parametrize("service", ["dynamodb", "dynamodbstreams"])
def test_dynamodb_and_its_streams_go_to_their_own_endpoint(service):
    assert endpoint_for(service, default=MOTO, dynamodb=LOCAL) == LOCAL


@pytest.mark.parametrize("service", ["sqs", "sns", "s3", "sts", "cloudwatch"])
def test_every_other_service_keeps_the_default(service):
    assert endpoint_for(service, default=MOTO, dynamodb=LOCAL) == MOTO


def test_without_a_dynamodb_endpoint_dynamodb_goes_where_everything_goes():
    assert endpoint_for("dynamodb", default=MOTO, dynamodb=None) == MOTO
    assert endpoint_for("dynamodb", default=None, dynamodb=None) is None  # real AWS


def test_the_containers_clients_are_routed_by_service(settings):
    settings.AWS_ENDPOINT_URL = MOTO
    settings.AWS_ENDPOINT_URL_DYNAMODB = LOCAL
    assert container.client("dynamodb").meta.endpoint_url == LOCAL
    assert container.client("dynamodbstreams").meta.endpoint_url == LOCAL
    assert container.probe_client("dynamodb").meta.endpoint_url == LOCAL
    assert container.client("sqs").meta.endpoint_url == MOTO
    assert container.probe_client("sns").meta.endpoint_url == MOTO


def test_unset_it_follows_aws_endpoint_url_even_when_that_changes(settings):
    settings.AWS_ENDPOINT_URL_DYNAMODB = None
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:4999"
    assert container.client("dynamodb").meta.endpoint_url == "http://127.0.0.1:4999"
