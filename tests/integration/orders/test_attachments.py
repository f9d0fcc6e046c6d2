"""Attachments over the API against the emulator's S3: the integrator uploads straight to the
bucket with a presigned form, finishes, and downloads through a presigned link; staff's
internal attachments and other integrators' uploads stay out of its reach."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import boto3
import pytest
import requests
import yaml

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
    from portal.container import order_selector, order_services

    order = create(api)
    s3, name = bucket
    key = f"attachments/{order['id']}/{uuid.uuid4().hex}/survey.pdf"
    s3.put_object(Bucket=name, Key=key, Body=b"%PDF-1.4", ContentType="application/pdf")
    internal = order_services().timeline.record_attachment(
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


def staff_upload(order: dict, *, announced: int):
    """A staff member's internal upload of 8 bytes to ``order``, announced as ``announced``."""
    from portal.container import attachment_service

    ticket = attachment_service().start_upload(
        order_id=order["id"],
        filename="quote.pdf",
        content_type="application/pdf",
        size=announced,
        visibility="internal",
        actor=Actor.staff("alice"),
        author_name="Alice",
    )
    post_form(ticket.url, ticket.fields, b"%PDF-1.4", "application/pdf", "quote.pdf")
    return ticket


def test_an_upload_by_someone_else_on_the_order_is_not_the_integrators(api, bucket):
    order = create(api)
    staff_ticket = staff_upload(order, announced=8)

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


# -- the presigned policy, and the finish step where an emulator does not enforce it -------------


def ticket_with(api, order_id: str, **announced) -> dict:
    body = {"filename": "leak.png", "content_type": "image/png", "size": len(PNG), **announced}
    response = post(api, f"/v1/orders/{order_id}/attachments/uploads", body)
    assert response.status_code == 201, response.content
    return response.json()


def send(ticket: dict, content: bytes = PNG, **changed: str) -> None:
    """POST the form with some of its fields changed: what real S3 refuses (the policy pins
    them), and so does ministack, while moto takes it."""
    post_form(ticket["url"], {**ticket["fields"], **changed}, content, "image/png")


def post_form(
    url: str, fields: dict, content: bytes, content_type: str, filename: str = "leak.png"
) -> None:
    """POST a form and its file to S3. Where S3 refuses it by the form's policy (as real S3
    does, and ministack; moto does not), the object is put as the form would have left it:
    the finish step's own checks are what the tests are about, whatever S3 enforces."""
    content_type = fields.get("Content-Type", content_type)
    response = requests.post(
        url, data=fields, files={"file": (filename, content, content_type)}, timeout=10
    )
    if response.status_code in (200, 201, 204):
        return
    refusals = ("<Code>AccessDenied</Code>", "<Code>EntityTooLarge</Code>")
    assert any(code in response.text for code in refusals), response.text
    parts = urlsplit(url)  # the emulator's path-style form URL: <endpoint>/<bucket>
    s3 = boto3.client(
        "s3", endpoint_url=f"{parts.scheme}://{parts.netloc}", region_name="us-east-1"
    )
    s3.put_object(
        Bucket=parts.path.strip("/"),
        Key=fields["key"],
        Body=content,
        ContentType=content_type,
        Metadata={
            k.removeprefix("x-amz-meta-"): v
            for k, v in fields.items()
            if k.startswith("x-amz-meta-")
        },
    )


def assert_refused(api, order: dict, upload_id: str, response, bucket, *words: str) -> None:
    """A 400 naming upload_id that says why; nothing recorded; nothing left in the bucket."""
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    said = " ".join(response.json()["errors"]["upload_id"])
    for word in words:
        assert word in said, said
    assert api.get(f"/v1/orders/{order['id']}/attachments").json()["results"] == []
    assert api.get(f"/v1/orders/{order['id']}").json()["version"] == order["version"]
    s3, name = bucket
    assert keys_in(s3, name, f"uploads/{order['id']}/{upload_id}/") == []
    assert keys_in(s3, name, f"attachments/{order['id']}/") == []


def test_the_upload_policy_pins_the_bucket_key_exact_size_type_and_expiry(api, bucket, settings):
    """moto enforces none of it (ministack does, as S3): check the document S3 enforces."""
    order = create(api)
    ticket = ticket_with(api, order["id"], size=48213)

    policy = json.loads(base64.b64decode(ticket["fields"]["policy"]))

    conditions = policy["conditions"]
    s3, name = bucket
    key = ticket["fields"]["key"]
    assert key == f"uploads/{order['id']}/{ticket['upload_id']}/leak.png"
    assert {"bucket": name} in conditions
    assert {"key": key} in conditions  # exact: no starts-with lets the client choose
    assert not [c for c in conditions if isinstance(c, list) and c[0] != "content-length-range"]
    ranges = [c for c in conditions if isinstance(c, list)]
    assert ranges == [["content-length-range", 48213, 48213]]
    assert {"Content-Type": "image/png"} in conditions
    for field, value in ticket["fields"].items():
        if field.startswith("x-amz-meta-"):
            assert {field: value} in conditions  # who uploads it, as what, under which form
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    expires_at = datetime.fromisoformat(ticket["expires_at"].replace("Z", "+00:00"))
    assert abs(expiration - expires_at) < timedelta(seconds=5)
    lifetime = expiration - datetime.now(UTC)
    assert timedelta(0) < lifetime <= timedelta(seconds=settings.ATTACHMENT_UPLOAD_EXPIRES_SECONDS)


def test_a_file_of_another_size_than_announced_is_refused_and_deleted(api, bucket):
    order = create(api)
    ticket = ticket_with(api, order["id"], size=5)
    send(ticket, PNG)  # 67 bytes for 5 announced

    response = finish(api, order["id"], ticket["upload_id"])

    assert_refused(api, order, ticket["upload_id"], response, bucket, f"{len(PNG)} bytes", "5")


def test_a_file_of_another_type_than_announced_is_refused_and_deleted(api, bucket):
    order = create(api)
    ticket = ticket_with(api, order["id"])
    send(ticket, PNG, **{"Content-Type": "image/jpeg"})  # an allowed type, not the announced

    response = finish(api, order["id"], ticket["upload_id"])

    assert_refused(api, order, ticket["upload_id"], response, bucket, "image/jpeg", "image/png")


def test_a_file_sent_to_another_key_of_its_upload_is_refused(api, bucket):
    order = create(api)
    ticket = ticket_with(api, order["id"])
    prefix = f"uploads/{order['id']}/{ticket['upload_id']}/"
    send(ticket, PNG, key=prefix + "page.html")

    response = finish(api, order["id"], ticket["upload_id"])

    assert_refused(api, order, ticket["upload_id"], response, bucket, "form")


def test_a_file_sent_with_another_orders_form_is_refused(api, bucket):
    first, second = create(api), create(api)
    first_ticket = ticket_with(api, first["id"], filename="a.png")
    second_ticket = ticket_with(api, second["id"], filename="b.png")
    send(first_ticket, PNG, key=second_ticket["fields"]["key"])

    response = finish(api, second["id"], second_ticket["upload_id"])

    assert_refused(api, second, second_ticket["upload_id"], response, bucket, "form")


def test_a_file_sent_in_another_integrators_name_is_refused(api, bucket):
    order = create(api)
    victim_ticket = ticket_with(api, order["id"])
    victim = victim_ticket["fields"]["x-amz-meta-author-id"]
    other = make_integrator("Other")
    other_api = client_for(other)
    other_order = create(other_api)
    other_ticket = ticket_with(other_api, other_order["id"])
    # The other integrator's own form, sent to this integrator's key in its name.
    send(
        other_ticket,
        PNG,
        key=victim_ticket["fields"]["key"],
        **{"x-amz-meta-author-id": victim},
    )

    response = finish(api, order["id"], victim_ticket["upload_id"])

    assert_refused(api, order, victim_ticket["upload_id"], response, bucket, "form")


@pytest.mark.parametrize(
    ("field", "value"),
    [("x-amz-meta-author-name", "Dispatch%20desk"), ("x-amz-meta-visibility", "internal")],
    ids=["another-name", "staff-only"],
)
def test_a_form_whose_signed_fields_were_changed_is_refused(api, bucket, field, value):
    order = create(api)
    ticket = ticket_with(api, order["id"])
    send(ticket, PNG, **{field: value})

    response = finish(api, order["id"], ticket["upload_id"])

    assert_refused(api, order, ticket["upload_id"], response, bucket, "form")


def test_a_file_sent_straight_to_the_attachments_prefix_is_never_recorded(api, bucket):
    order = create(api)
    ticket = ticket_with(api, order["id"])
    send(ticket, PNG, key=f"attachments/{order['id']}/{ticket['upload_id']}/leak.png")

    response = finish(api, order["id"], ticket["upload_id"])

    assert response.status_code == 409, response.content
    assert response.json()["type"].endswith("upload-missing")
    assert api.get(f"/v1/orders/{order['id']}/attachments").json()["results"] == []
    assert api.get(f"/v1/orders/{order['id']}").json()["version"] == order["version"]


def test_a_file_uploaded_after_its_form_expired_is_refused(api, integrator, bucket):
    from portal.container import attachment_service

    order = create(api)
    service = attachment_service()
    long_ago = datetime.now(UTC) - timedelta(days=1)
    service.clock = lambda: long_ago  # the form was handed out a day ago
    ticket = service.start_upload(
        order_id=order["id"],
        filename="leak.png",
        content_type="image/png",
        size=len(PNG),
        visibility=None,
        actor=Actor.integrator(integrator.slug),
        author_name="Acme",
        integrator=integrator.slug,
    )
    send({"url": ticket.url, "fields": ticket.fields}, PNG)

    response = finish(api, order["id"], ticket.upload_id)

    assert_refused(api, order, ticket.upload_id, response, bucket, "expired")


def test_finishing_someone_elses_bad_upload_deletes_nothing(api, bucket):
    """Only the upload's author's finish refuses (and deletes) its file."""
    order = create(api)
    staff_ticket = staff_upload(order, announced=5)

    assert finish(api, order["id"], staff_ticket.upload_id).status_code == 404

    s3, name = bucket
    assert keys_in(s3, name, f"uploads/{order['id']}/{staff_ticket.upload_id}/") != []


@pytest.mark.parametrize("size", [5.0, "5", 1e1], ids=["float", "string", "exponent"])
def test_a_size_that_is_not_a_json_integer_is_refused(api, bucket, size):
    order = create(api)

    response = post(
        api,
        f"/v1/orders/{order['id']}/attachments/uploads",
        {"filename": "a.png", "content_type": "image/png", "size": size},
    )

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["size"]


def test_the_contract_has_every_answer_of_the_attachment_endpoints(api, bucket, settings):
    """422 (a reused Idempotency-Key) and 413 (a body over the limit) happen: documented."""
    from tests.integration.orders.test_openapi import generated_schema

    order = create(api)
    uploads = f"/v1/orders/{order['id']}/attachments/uploads"
    attachments = f"/v1/orders/{order['id']}/attachments"
    key = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}
    announced = {"filename": "a.png", "content_type": "image/png", "size": 3}
    assert post(api, uploads, announced, **key).status_code == 201
    assert post(api, uploads, {**announced, "size": 4}, **key).status_code == 422
    key = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}
    assert post(api, attachments, {"upload_id": "0" * 32}, **key).status_code == 409
    assert post(api, attachments, {"upload_id": "1" * 32}, **key).status_code == 422
    settings.API_MAX_BODY_BYTES = 100
    assert post(api, attachments, {"upload_id": "x" * 200}).status_code == 413
    assert post(api, uploads, {**announced, "filename": "x" * 200}).status_code == 413

    paths = yaml.safe_load(generated_schema())["paths"]

    started = paths["/v1/orders/{order_id}/attachments/uploads"]["post"]["responses"]
    finished = paths["/v1/orders/{order_id}/attachments"]["post"]["responses"]
    assert {"413", "422"} <= set(started)
    assert {"409", "413", "422"} <= set(finished)
