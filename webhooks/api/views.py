"""Integrators manage their webhook endpoints and read their delivery log."""

from __future__ import annotations

from django.http import Http404
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikit.idempotency import idempotent
from apikit.pagination import next_link
from portal.container import idempotency_store
from webhooks.api import openapi as doc
from webhooks.api.input import (
    DeliveryListQuerySerializer,
    EndpointInputSerializer,
    EndpointUpdateSerializer,
)
from webhooks.api.output import (
    CreatedEndpointOutputSerializer,
    DeliveryOutputSerializer,
    DeliveryPageOutputSerializer,
    EndpointListOutputSerializer,
    EndpointOutputSerializer,
)
from webhooks.dispatch import redeliver
from webhooks.endpoints import create_endpoint, delete_endpoint, update_endpoint
from webhooks.models import WebhookDelivery, WebhookEndpoint


def own_endpoint(request: Request, endpoint_id: str) -> WebhookEndpoint:
    try:
        return WebhookEndpoint.objects.get(
            pk=int(endpoint_id), integrator__slug=request.user.integrator
        )
    except (ValueError, WebhookEndpoint.DoesNotExist):
        raise Http404("No such webhook endpoint.") from None


class EndpointCollectionView(APIView):
    @doc.list_endpoints
    def get(self, request: Request) -> Response:
        endpoints = WebhookEndpoint.objects.filter(integrator__slug=request.user.integrator)
        return Response(EndpointListOutputSerializer({"results": endpoints}).data)

    @doc.create_endpoint
    def post(self, request: Request) -> Response:
        def create() -> Response:
            serializer = EndpointInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            endpoint = create_endpoint(request.user.integrator, **serializer.validated_data)
            body = CreatedEndpointOutputSerializer(endpoint).data
            response = Response(body, status=status.HTTP_201_CREATED)
            response["Location"] = f"/v1/webhooks/{endpoint.pk}"
            return response

        # The secret is shown once: never kept for replays of the same Idempotency-Key.
        return idempotent(request, self, create, store=idempotency_store, redact=("secret",))


class EndpointDetailView(APIView):
    @doc.get_endpoint
    def get(self, request: Request, endpoint_id: str) -> Response:
        return Response(EndpointOutputSerializer(own_endpoint(request, endpoint_id)).data)

    @doc.update_endpoint
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = own_endpoint(request, endpoint_id)
        serializer = EndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        update_endpoint(endpoint, **serializer.validated_data)
        return Response(EndpointOutputSerializer(endpoint).data)

    @doc.delete_endpoint
    def delete(self, request: Request, endpoint_id: str) -> Response:
        delete_endpoint(own_endpoint(request, endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryCollectionView(APIView):
    @doc.list_deliveries
    def get(self, request: Request, endpoint_id: str) -> Response:
        endpoint = own_endpoint(request, endpoint_id)
        query = DeliveryListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        deliveries = endpoint.deliveries.order_by("-id").prefetch_related("attempts")
        position = int(params["cursor"]) if "cursor" in params else params.get("before")
        if position is not None:
            deliveries = deliveries.filter(id__lt=position)
        if "state" in params:
            deliveries = deliveries.filter(state=params["state"])
        page = list(deliveries[: params["limit"] + 1])
        more = len(page) > params["limit"]
        page = page[: params["limit"]]
        cursor = str(page[-1].pk) if more else None
        body = {
            "results": page,
            "next_cursor": cursor,
            "next": next_link(request, cursor, replacing="before"),
            "next_before": page[-1].pk if more else None,
        }
        return Response(DeliveryPageOutputSerializer(body).data)


class RedeliverView(APIView):
    @doc.redeliver
    def post(self, request: Request, endpoint_id: str, delivery_id: str) -> Response:
        endpoint = own_endpoint(request, endpoint_id)
        try:
            delivery = endpoint.deliveries.get(pk=int(delivery_id))
        except (ValueError, WebhookDelivery.DoesNotExist):
            raise Http404("No such delivery.") from None
        redeliver(delivery)
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
