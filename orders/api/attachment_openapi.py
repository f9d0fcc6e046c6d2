"""The OpenAPI description of the attachments' operations (``attachment_views``), as
``openapi`` does for the orders'."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from apikit.openapi import (
    BODY_400,
    IDEMPOTENCY_IN_PROGRESS,
    IDEMPOTENCY_KEY,
    RETRY_AFTER,
    WWW_AUTHENTICATE,
    problem_code,
    replayed_header,
)

from .attachment_output import (
    AttachmentOutputSerializer,
    AttachmentPageOutputSerializer,
    UploadTicketOutputSerializer,
)
from .input import UploadCreateSerializer, UploadFinishSerializer
from .openapi import ORDER_ID, problems

start_attachment_upload = extend_schema(
    operation_id="start_attachment_upload",
    summary="Get a form to upload a file to an order",
    description=(
        "A presigned S3 POST: send `fields` and then the file as `file` to `url` before "
        "`expires_at`, then finish with POST /v1/orders/{order_id}/attachments. The form only "
        "accepts a file of exactly the announced `size` and `content_type`, under its own key."
    ),
    tags=["attachments"],
    request=UploadCreateSerializer,
    parameters=[
        ORDER_ID,
        IDEMPOTENCY_KEY,
        replayed_header([201, 400, 404, 415]),
        RETRY_AFTER,
        WWW_AUTHENTICATE,
    ],
    responses={
        201: OpenApiResponse(UploadTicketOutputSerializer, description="The upload form."),
        **problems(
            s400=BODY_400,
            s401=None,
            s404=None,
            s409=IDEMPOTENCY_IN_PROGRESS,
            s413=None,
            s415=None,
            s422=None,
            s429=None,
        ),
    },
)

finish_attachment_upload = extend_schema(
    operation_id="finish_attachment_upload",
    summary="Attach an uploaded file to the order",
    description=(
        "Checks the uploaded object against its form and records it "
        "(`order.attachment_added`). Finishing the same upload again returns the same "
        "attachment (200)."
    ),
    tags=["attachments"],
    request=UploadFinishSerializer,
    parameters=[
        ORDER_ID,
        IDEMPOTENCY_KEY,
        replayed_header([200, 201, 400, 404, 409, 415]),
        RETRY_AFTER,
        WWW_AUTHENTICATE,
    ],
    responses={
        201: OpenApiResponse(AttachmentOutputSerializer, description="The attachment."),
        200: OpenApiResponse(AttachmentOutputSerializer, description="Already attached."),
        **problems(
            s400=(
                f"{BODY_400} Also an uploaded file its form did not allow, with `errors` on "
                "`upload_id` saying why: of another size or type than announced, sent to "
                "another key or with other fields than the form's, or after the form expired. "
                "That file is deleted."
            ),
            s401=None,
            s404="No such order, or no upload of the caller's under `upload_id`.",
            s409=(
                f"Nothing uploaded yet ({problem_code('upload-missing')}, naming `upload_id`). "
                f"{IDEMPOTENCY_IN_PROGRESS}"
            ),
            s413=None,
            s415=None,
            s422=None,
            s429=None,
        ),
    },
)

list_order_attachments = extend_schema(
    operation_id="list_order_attachments",
    summary="An order's attachments",
    description="The order's public attachments, oldest first, each with a download link.",
    tags=["attachments"],
    parameters=[ORDER_ID, WWW_AUTHENTICATE, RETRY_AFTER],
    responses={
        200: OpenApiResponse(AttachmentPageOutputSerializer, description="The attachments."),
        **problems(s401=None, s404=None, s429=None),
    },
)

get_order_attachment = extend_schema(
    operation_id="get_order_attachment",
    summary="One attachment of an order",
    tags=["attachments"],
    parameters=[
        ORDER_ID,
        OpenApiParameter("attachment_id", str, OpenApiParameter.PATH),
        WWW_AUTHENTICATE,
        RETRY_AFTER,
    ],
    responses={
        200: OpenApiResponse(AttachmentOutputSerializer, description="The attachment."),
        **problems(s401=None, s404=None, s429=None),
    },
)
