"""HTTP adapters: parse, call a service, render. No business rules here."""

from __future__ import annotations

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.container import order_service
from orders.domain.model import Actor

from .serializers import OrderCreateSerializer, order_representation

#: Until integrator API keys exist (the integrator API issue), every API caller is this one.
DEFAULT_INTEGRATOR = "default"


def _order_response(request: Request, order, http_status: int = status.HTTP_200_OK) -> Response:
    response = Response(order_representation(order, request=request), status=http_status)
    response["ETag"] = f'"{order.version}"'
    if http_status == status.HTTP_201_CREATED:
        response["Location"] = f"/v1/orders/{order.id}"
    return response


class OrderCollectionView(APIView):
    def post(self, request: Request) -> Response:
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_service().create_order(
            data=serializer.to_input(),
            integrator=DEFAULT_INTEGRATOR,
            actor=Actor.integrator(DEFAULT_INTEGRATOR),
        )
        return _order_response(request, order, status.HTTP_201_CREATED)


class OrderDetailView(APIView):
    def get(self, request: Request, order_id: str) -> Response:
        return _order_response(request, order_service().get_order(order_id))
