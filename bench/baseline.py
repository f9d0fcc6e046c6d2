"""The seed-equivalent baseline: what the original request Lambda did, as a bare WSGI app.

One ``PutItem`` and one SNS ``Publish`` per order with boto3, no validation beyond parsing the
JSON, no framework. ``bench/create.py`` serves it with the same gunicorn settings as the portal
and against the same emulator, so the two can be compared side by side.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3


def clients() -> tuple[Any, Any]:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    dynamodb_endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or endpoint
    region = os.environ.get("AWS_REGION", "us-east-1")
    return (
        boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=region),
        boto3.client("sns", endpoint_url=endpoint, region_name=region),
    )


def create(dynamodb: Any, sns: Any, *, table: str, topic_arn: str, body: dict) -> dict:
    order = {
        **{k: str(v) for k, v in body.items()},
        "id": str(uuid.uuid4()),
        "status": "received",
        "created_at": datetime.now(UTC).isoformat(),
    }
    item = {k: {"S": v} for k, v in order.items()}
    item["pk"] = {"S": f"BASELINE#{order['id']}"}
    item["sk"] = {"S": "ORDER"}
    dynamodb.put_item(TableName=table, Item=item)
    sns.publish(
        TopicArn=topic_arn,
        Message=json.dumps(order),
        MessageAttributes={"status": {"DataType": "String", "StringValue": "received"}},
    )
    return order


_dynamodb, _sns = None, None


def application(environ: dict, start_response) -> list[bytes]:
    global _dynamodb, _sns
    if _dynamodb is None:
        _dynamodb, _sns = clients()
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        body = json.loads(environ["wsgi.input"].read(length))
    except ValueError:
        start_response("400 Bad Request", [("Content-Type", "application/json")])
        return [b'{"error": "invalid JSON"}']
    order = create(
        _dynamodb,
        _sns,
        table=os.environ["BASELINE_TABLE"],
        topic_arn=os.environ["BASELINE_TOPIC_ARN"],
        body=body,
    )
    payload = json.dumps(order).encode()
    start_response(
        "201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]
