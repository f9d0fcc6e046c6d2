"""Attachments over the API against the emulator's S3: the integrator uploads straight to the
bucket with a presigned form, finishes, and downloads through a presigned link; staff's
internal attachments and other integrators' uploads stay out of its reach."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import boto3
import pytest
import requests

from orders.domain.model import Actor, Attachment, Visibility
from tests.integration.conftest import client_for, make_integrator
from tests.integration.factories import EXAMPLE

#: The smallest valid PNG (1x1, transparent).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def bucket(aws):
    """The shared stack's attachments bucket; what the test put there is deleted after."""
    s3 = boto3.client("s3", endpoint_url=aws.endpoint, region_name="us-east-1")
    name = aws.resources.attachments_bucket
    before = set(keys_in(s3, name))
    yield s3, name
    for key in set(keys_in(s3, name)) - before:
        s3.delete_object(Bucket=name, Key=key)


def keys_in(s3, name: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=name, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def post(client, path: str, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def create(api) -> dict:
    response = post(api, "/v1/orders", {**EXAMPLE, "external_reference": uuid.uuid4().hex})
    assert response.status_code == 201, response.content
    return response.json()


def ticket_for(api, order_id: str):
    response = post(
        api,
        f"/v1/orders/{order_id}/attachments/uploads",
        {"filename": "leak.png", "content_type": "image/png", "size": len(PNG)},
    )
    assert response.status_code == 201, response.content
    return response.json()


def upload(ticket: dict, content: bytes, content_type: str = "image/png") -> requests.Response:
    return requests.post(
        ticket["url"],
        data=ticket["fields"],
        files={"file": ("leak.png", content, content_type)},
        timeout=10,
    )


def finish(api, order_id: str, upload_id: str):
    return post(api, f"/v1/orders/{order_id}/attachments", {"upload_id": upload_id})


def test_an_integrator_uploads_a_photo_and_downloads_it(api, bucket):
    order = create(api)
    ticket = ticket_for(api, order["id"])
    assert ticket["max_bytes"] == 25 * 1024 * 1024

    uploaded = upload(ticket, PNG)
    assert uploaded.status_code in (200, 201, 204), uploaded.text
    finished = finish(api, order["id"], ticket["upload_id"])

    assert finished.status_code == 201, finished.content
    attachment = finished.json()
    assert attachment["id"] == ticket["upload_id"]
    assert attachment["filename"] == "leak.png"
    assert attachment["content_type"] == "image/png" and attachment["size"] == len(PNG)
    assert attachment["visibility"] == "public"
    listed = api.get(f"/v1/orders/{order['id']}/attachments").json()["results"]
    assert [a["id"] for a in listed] == [attachment["id"]]
    download = requests.get(listed[0]["download_url"], timeout=10)
    assert download.status_code == 200 and download.content == PNG
    assert "leak.png" in download.headers.get("Content-Disposition", "")
    one = api.get(f"/v1/orders/{order['id']}/attachments/{attachment['id']}")
    assert one.status_code == 200 and requests.get(one.json()["download_url"]).content == PNG
    s3, name = bucket
    assert keys_in(s3, name, f"uploads/{order['id']}/") == []
    assert keys_in(s3, name, f"attachments/{order['id']}/") == [
        f"attachments/{order['id']}/{ticket['upload_id']}/leak.png"
    ]


def test_the_attachment_is_committed_as_an_event_on_the_order(api, bucket):
    order = create(api)
    ticket = ticket_for(api, order["id"])
    upload(ticket, PNG)

    assert finish(api, order["id"], ticket["upload_id"]).status_code == 201

    seen = api.get(f"/v1/orders/{order['id']}").json()
    assert seen["version"] == order["version"] + 1
    assert seen["history"][-1]["type"] == "order.attachment_added"


def test_finishing_before_uploading_is_a_conflict_and_records_nothing(api, bucket):
    order = create(api)
    ticket = ticket_for(api, order["id"])

    response = finish(api, order["id"], ticket["upload_id"])

    assert response.status_code == 409, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("upload-missing")
    assert response.json()["upload_id"] == ticket["upload_id"]
    assert api.get(f"/v1/orders/{order['id']}/attachments").json()["results"] == []
    seen = api.get(f"/v1/orders/{order['id']}").json()
    assert seen["version"] == order["version"]
    assert [h["type"] for h in seen["history"]] == [h["type"] for h in order["history"]]


def test_finishing_twice_gives_one_attachment(api, bucket):
    order = create(api)
    ticket = ticket_for(api, order["id"])
    upload(ticket, PNG)

    first = finish(api, order["id"], ticket["upload_id"])
    again = finish(api, order["id"], ticket["upload_id"])

    assert first.status_code == 201 and again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"]
    assert len(api.get(f"/v1/orders/{order['id']}/attachments").json()["results"]) == 1
    assert api.get(f"/v1/orders/{order['id']}").json()["version"] == order["version"] + 1


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(PNG + b"x" * 64, "image/png"), (PNG, "application/x-msdownload")],
    ids=["too-large", "wrong-type"],
)
def test_an_object_the_policy_should_have_refused_is_refused_at_finish(
    api, bucket, settings, content, content_type
):
    order = create(api)
    ticket = ticket_for(api, order["id"])
    s3, name = bucket
    # Whatever the emulator enforces of the policy, put the wrong object there directly.
    key = ticket["fields"]["key"]
    settings.ATTACHMENT_MAX_BYTES = len(PNG)
    s3.put_object(
        Bucket=name,
        Key=key,
        Body=content,
        ContentType=content_type,
        Metadata={
            k.removeprefix("x-amz-meta-"): v
            for k, v in ticket["fields"].items()
            if k.startswith("x-amz-meta-")
        },
    )

    response = finish(api, order["id"], ticket["upload_id"])

    assert response.status_code == 400, response.content
    assert "upload_id" in response.json()["errors"]
    assert api.get(f"/v1/orders/{order['id']}/attachments").json()["results"] == []
    assert api.get(f"/v1/orders/{order['id']}").json()["version"] == order["version"]


def test_a_type_not_allowed_gets_no_upload_form(api, bucket):
    order = create(api)

    response = post(
        api,
        f"/v1/orders/{order['id']}/attachments/uploads",
        {"filename": "run.exe", "content_type": "application/x-msdownload", "size": 10},
    )

    assert response.status_code == 400
    assert "content_type" in response.json()["errors"]


def test_staff_internal_attachments_stay_hidden_from_the_integrator(api, bucket):
    from portal.container import order_selector, order_service

    order = create(api)
    s3, name = bucket
    key = f"attachments/{order['id']}/{uuid.uuid4().hex}/survey.pdf"
    s3.put_object(Bucket=name, Key=key, Body=b"%PDF-1.4", ContentType="application/pdf")
    internal = order_service().record_attachment(
        Attachment(
            id=key.split("/")[2],
            order_id=order["id"],
            key=key,
            filename="survey.pdf",
            content_type="application/pdf",
            size=8,
            visibility=Visibility.INTERNAL,
            author=Actor.staff("alice"),
            author_name="Alice",
            at=datetime.now(UTC),
        )
    )

    listed = api.get(f"/v1/orders/{order['id']}/attachments").json()["results"]
    one = api.get(f"/v1/orders/{order['id']}/attachments/{internal.id}")

    assert listed == []
    assert one.status_code == 404
    assert order_selector().attachments(order["id"]) == [internal]


def test_another_integrator_cannot_see_or_upload_to_the_order(api, bucket):
    order = create(api)
    ticket = ticket_for(api, order["id"])
    upload(ticket, PNG)
    other = client_for(make_integrator("Other"))

    assert finish(other, order["id"], ticket["upload_id"]).status_code == 404
    assert other.get(f"/v1/orders/{order['id']}/attachments").status_code == 404
    started = post(
        other,
        f"/v1/orders/{order['id']}/attachments/uploads",
        {"filename": "x.png", "content_type": "image/png", "size": 3},
    )
    assert started.status_code == 404
    assert finish(api, order["id"], ticket["upload_id"]).status_code == 201


def test_an_upload_by_someone_else_on_the_order_is_not_the_integrators(api, bucket):
    from portal.container import attachment_service

    order = create(api)
    staff_ticket = attachment_service().start_upload(
        order_id=order["id"],
        filename="quote.pdf",
        content_type="application/pdf",
        size=8,
        visibility="internal",
        actor=Actor.staff("alice"),
        author_name="Alice",
    )
    response = requests.post(
        staff_ticket.url,
        data=staff_ticket.fields,
        files={"file": ("quote.pdf", b"%PDF-1.4", "application/pdf")},
        timeout=10,
    )
    assert response.status_code in (200, 201, 204), response.text

    assert finish(api, order["id"], staff_ticket.upload_id).status_code == 404
    assert api.get(f"/v1/orders/{order['id']}/attachments").json()["results"] == []


def test_a_malformed_upload_id_is_bad_input(api, bucket):
    order = create(api)

    response = finish(api, order["id"], "../../attachments")

    assert response.status_code == 400
    assert "upload_id" in response.json()["errors"]


def test_provision_makes_the_bucket_private_with_expiring_uploads_and_again_changes_nothing(
    aws, bucket
):
    from aws.provisioning import Provisioner, ProvisionSettings

    s3, name = bucket
    provisioner = Provisioner(
        dynamodb=aws.dynamodb,
        sns=aws.sns,
        sqs=aws.sqs,
        s3=s3,
        resources=aws.resources,
        settings=ProvisionSettings(max_receive_count=5, visibility_timeout=30),
        report=lambda line: None,
    )
    provisioner.ensure_bucket()  # again: the stack's provision made it already

    blocked = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(blocked.values())
    rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    expiring = [r for r in rules if r.get("Filter", {}).get("Prefix") == "uploads/"]
    assert expiring and expiring[0]["Expiration"]["Days"] == 1
    assert any("AbortIncompleteMultipartUpload" in r for r in rules)
    encryption = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
    cors = s3.get_bucket_cors(Bucket=name)["CORSRules"][0]
    assert set(cors["AllowedMethods"]) == {"POST", "GET"}
