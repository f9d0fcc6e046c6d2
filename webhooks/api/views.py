"""Integrators manage their webhook endpoints and read their delivery log."""

from __future__ import annotations

from django.http import Http404
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.api.idempotency import idempotent
from orders.api.views import next_link
from webhooks.api import schema as doc
from webhooks.api.serializers import (
    DeliveryListQuerySerializer,
    EndpointInputSerializer,
    EndpointUpdateSerializer,
    delivery_representation,
    endpoint_representation,
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
        return Response({"results": [endpoint_representation(e) for e in endpoints]})

    @doc.create_endpoint
    def post(self, request: Request) -> Response:
        def create() -> Response:
            serializer = EndpointInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            endpoint = create_endpoint(request.user.integrator, **serializer.validated_data)
            response = Response(
                endpoint_representation(endpoint, secret=True), status=status.HTTP_201_CREATED
            )
            response["Location"] = f"/v1/webhooks/{endpoint.pk}"
            return response

        # The secret is shown once: never kept for replays of the same Idempotency-Key.
        return idempotent(request, self, create, redact=("secret",))


class EndpointDetailView(APIView):
    @doc.get_endpoint
    def get(self, request: Request, endpoint_id: str) -> Response:
        return Response(endpoint_representation(own_endpoint(request, endpoint_id)))

    @doc.update_endpoint
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = own_endpoint(request, endpoint_id)
        serializer = EndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        update_endpoint(endpoint, **serializer.validated_data)
        return Response(endpoint_representation(endpoint))

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
        return Response(
            {
                "results": [delivery_representation(d) for d in page],
                "next_cursor": cursor,
                "next": next_link(request, cursor, replacing="before"),
                "next_before": page[-1].pk if more else None,
            }
        )


class RedeliverView(APIView):
    @doc.redeliver
    def post(self, request: Request, endpoint_id: str, delivery_id: str) -> Response:
        endpoint = own_endpoint(request, endpoint_id)
        try:
            delivery = endpoint.deliveries.get(pk=int(delivery_id))
        except (ValueError, WebhookDelivery.DoesNotExist):
            raise Http404("No such delivery.") from None
        redeliver(delivery)
        return Response(delivery_representation(delivery), status=status.HTTP_202_ACCEPTED)
