"""Attachments over the API: the integrator asks for an upload form, POSTs the file straight
to S3, then finishes the upload here; it reads its orders' public attachments with short-lived
download links. The bytes never pass through the web process."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikit.idempotency import idempotent
from orders.domain.errors import OrderNotFound
from orders.domain.model import Actor
from portal.container import attachment_service, idempotency_store, order_selector

from . import attachment_openapi as doc
from .attachment_output import (
    AttachmentOutputSerializer,
    AttachmentPageOutputSerializer,
    UploadTicketOutputSerializer,
)
from .input import UploadCreateSerializer, UploadFinishSerializer
from .views import known_order_id


def download_links() -> dict[str, Any]:
    """The context attachments render in: each gets a short-lived download link."""
    return {"download_url": attachment_service().download_url}


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
            body = UploadTicketOutputSerializer(ticket).data
            return Response(body, status=status.HTTP_201_CREATED)

        return idempotent(request, self, start, store=idempotency_store)


class OrderAttachmentsView(APIView):
    @doc.list_order_attachments
    def get(self, request: Request, order_id: str) -> Response:
        found = order_selector().attachments(
            known_order_id(order_id), integrator=request.user.integrator
        )
        page = {"order_id": order_id, "results": found}
        return Response(AttachmentPageOutputSerializer(page, context=download_links()).data)

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
            # Nothing uploaded yet is a 409 upload-missing; another's upload, a 404
            # (orders.api.problems).
            attachment = attachment_service().finish_upload(
                order_id=order_id,
                upload_id=upload_id,
                actor=Actor.integrator(integrator),
                integrator=integrator,
            )
            http_status = status.HTTP_200_OK if known is not None else status.HTTP_201_CREATED
            body = AttachmentOutputSerializer(attachment, context=download_links()).data
            response = Response(body, status=http_status)
            response["Location"] = f"/v1/orders/{order_id}/attachments/{attachment.id}"
            return response

        return idempotent(request, self, finish, store=idempotency_store)


class OrderAttachmentDetailView(APIView):
    @doc.get_order_attachment
    def get(self, request: Request, order_id: str, attachment_id: str) -> Response:
        found = order_selector().attachment(
            known_order_id(order_id), attachment_id[:64], integrator=request.user.integrator
        )
        if found is None:
            raise OrderNotFound(order_id)
        return Response(AttachmentOutputSerializer(found, context=download_links()).data)
