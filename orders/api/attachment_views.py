"""Attachments over the API: the integrator asks for an upload form, POSTs the file straight
to S3, then finishes the upload here; it reads its orders' public attachments with short-lived
download links. The bytes never pass through the web process."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.attachments import UploadMissing, UploadNotFound
from orders.domain.errors import OrderNotFound
from orders.domain.model import Actor, Attachment
from orders.events.contract import attachment_to_json, isoformat
from portal.container import attachment_service, order_selector

from . import schema as doc
from .errors import problem
from .idempotency import idempotent
from .schema import UploadCreateSerializer, UploadFinishSerializer
from .views import known_order_id


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    body = attachment_to_json(attachment)
    body["download_url"] = attachment_service().download_url(attachment)
    return body


def upload_problem(exc: UploadMissing | UploadNotFound) -> Response:
    if isinstance(exc, UploadMissing):
        return problem(
            status.HTTP_409_CONFLICT,
            "upload-missing",
            "Nothing uploaded yet",
            str(exc),
            upload_id=exc.upload_id,
            errors={"upload_id": [str(exc)]},
        )
    return problem(status.HTTP_404_NOT_FOUND, "not-found", "Not found", str(exc))


class OrderAttachmentUploadsView(APIView):
    """A presigned form for one file; the caller POSTs it to ``url`` with ``fields``."""

    @doc.start_attachment_upload
    def post(self, request: Request, order_id: str) -> Response:
        def start() -> Response:
            serializer = UploadCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            integrator = request.user.integrator
            data = serializer.validated_data
            ticket = attachment_service().start_upload(
                order_id=known_order_id(order_id),
                filename=data["filename"],
                content_type=data["content_type"],
                size=data["size"],
                visibility=None,  # an integrator's attachments are public
                actor=Actor.integrator(integrator),
                author_name=request.user.name,
                integrator=integrator,
            )
            body = {
                "upload_id": ticket.upload_id,
                "url": ticket.url,
                "fields": ticket.fields,
                "expires_at": isoformat(ticket.expires_at),
                "max_bytes": ticket.max_bytes,
            }
            return Response(body, status=status.HTTP_201_CREATED)

        return idempotent(request, self, start)


class OrderAttachmentsView(APIView):
    @doc.list_order_attachments
    def get(self, request: Request, order_id: str) -> Response:
        found = order_selector().attachments(
            known_order_id(order_id), integrator=request.user.integrator
        )
        return Response({"order_id": order_id, "results": [attachment_json(a) for a in found]})

    @doc.finish_attachment_upload
    def post(self, request: Request, order_id: str) -> Response:
        def finish() -> Response:
            serializer = UploadFinishSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            integrator = request.user.integrator
            upload_id = serializer.validated_data["upload_id"]
            known = order_selector().attachment(
                known_order_id(order_id), upload_id, integrator=integrator
            )
            try:
                attachment = attachment_service().finish_upload(
                    order_id=order_id,
                    upload_id=upload_id,
                    actor=Actor.integrator(integrator),
                    integrator=integrator,
                )
            except (UploadMissing, UploadNotFound) as exc:
                return upload_problem(exc)
            http_status = status.HTTP_200_OK if known is not None else status.HTTP_201_CREATED
            response = Response(attachment_json(attachment), status=http_status)
            response["Location"] = f"/v1/orders/{order_id}/attachments/{attachment.id}"
            return response

        return idempotent(request, self, finish)


class OrderAttachmentDetailView(APIView):
    @doc.get_order_attachment
    def get(self, request: Request, order_id: str, attachment_id: str) -> Response:
        found = order_selector().attachment(
            known_order_id(order_id), attachment_id[:64], integrator=request.user.integrator
        )
        if found is None:
            raise OrderNotFound(order_id)
        return Response(attachment_json(found))
