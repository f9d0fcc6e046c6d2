"""HTTP adapters: parse, authorize, call a service, render. No business rules here.

Every view is scoped to the calling integrator (``request.user``, set from its API key): an
order of another integrator does not exist as far as the caller can tell.
"""

from __future__ import annotations

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikit import conditional
from apikit.idempotency import idempotent
from apikit.pagination import next_link
from orders.domain.errors import OrderNotFound
from orders.domain.model import Actor, Order
from orders.repository.base import OrderFilter
from portal.container import event_feed, idempotency_store, order_selector, order_services

from . import openapi as doc
from .event_output import EventFeedOutputSerializer
from .input import (
    EventFeedQuerySerializer,
    NoteCreateSerializer,
    OrderCreateSerializer,
    OrderListQuerySerializer,
    TransitionSerializer,
)
from .output import (
    NoteOutputSerializer,
    NotePageOutputSerializer,
    OrderEventsOutputSerializer,
    OrderOutputSerializer,
    OrderPageOutputSerializer,
)


def etag(order: Order) -> str:
    """The order's ETag: its version as integrators count it (what ``If-Match`` names)."""
    return conditional.etag(order.public_version)


def not_modified(request: Request, order: Order) -> Response | None:
    """``304`` while the caller's copy of the order is current (``If-None-Match``)."""
    return conditional.not_modified(request, order.public_version)


def order_response(
    request: Request, order: Order, http_status: int = status.HTTP_200_OK
) -> Response:
    context = {"request": request, "sla": order_selector().sla(order)}
    response = Response(OrderOutputSerializer(order, context=context).data, status=http_status)
    response["ETag"] = etag(order)
    if http_status == status.HTTP_201_CREATED:
        response["Location"] = f"/v1/orders/{order.id}"
    return response


def expected_version(request: Request) -> int | None:
    """The order's version an ``If-Match`` header names, if any."""
    return conditional.expected_version(request, of="of the order")


#: Order ids are UUIDs. A much longer one names no order, and DynamoDB answers a key over
#: 2048 bytes with an error rather than a miss: it is a 404 without asking.
ORDER_ID_MAX_BYTES = 200


def known_order_id(order_id: str) -> str:
    if len(order_id.encode()) > ORDER_ID_MAX_BYTES:
        raise OrderNotFound(order_id)
    return order_id


class OrderCollectionView(APIView):
    @doc.list_orders
    def get(self, request: Request) -> Response:
        query = OrderListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        integrator = request.user.integrator
        filters = OrderFilter(
            statuses=frozenset(params.get("status") or ()),
            created_after=params.get("created_after"),
            created_before=params.get("created_before"),
            priorities=frozenset(params.get("priority") or ()),
            categories=frozenset(params.get("category") or ()),
            sites=frozenset(params.get("site") or ()),
            site_id=params.get("site_id"),
            asset_id=params.get("asset_id"),
        )
        if "external_reference" in params:
            # At most one order has it: no paging, no cursor.
            found = order_selector().find_by_reference(
                integrator=integrator, external_reference=params["external_reference"]
            )
            orders = [found] if found and filters.matches(found) else []
            next_cursor = None
        else:
            page = order_selector().list_by_integrator(
                integrator, filters=filters, limit=params["limit"], cursor=params.get("cursor")
            )
            orders, next_cursor = page.items, page.next_cursor
        page = {
            "results": orders,
            "next_cursor": next_cursor,
            "next": next_link(request, next_cursor),
        }
        return Response(OrderPageOutputSerializer(page, context={"request": request}).data)

    @doc.create_order
    def post(self, request: Request) -> Response:
        def create() -> Response:
            serializer = OrderCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            integrator = request.user.integrator
            order = order_services().intake.create_order(
                data=serializer.to_input(),
                integrator=integrator,
                actor=Actor.integrator(integrator),
                **serializer.places(),
            )
            return order_response(request, order, status.HTTP_201_CREATED)

        return idempotent(request, self, create, store=idempotency_store)


@doc.legacy_paths
class OrderAliasView(OrderCollectionView):
    """``/v1/order``: an alias of ``/v1/orders``."""


class OrderDetailView(APIView):
    @doc.get_order
    def get(self, request: Request, order_id: str) -> Response:
        order = order_selector().get_order(
            known_order_id(order_id), integrator=request.user.integrator
        )
        return not_modified(request, order) or order_response(request, order)


class OrderEventsView(APIView):
    @doc.list_order_events
    def get(self, request: Request, order_id: str) -> Response:
        order = order_selector().get_order(
            known_order_id(order_id), integrator=request.user.integrator
        )
        if (unchanged := not_modified(request, order)) is not None:
            return unchanged
        response = Response(OrderEventsOutputSerializer(order).data)
        response["ETag"] = etag(order)
        return response


class OrderTransitionsView(APIView):
    @doc.transition_order
    def post(self, request: Request, order_id: str) -> Response:
        def move() -> Response:
            serializer = TransitionSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            integrator = request.user.integrator
            # A stale If-Match is a ConcurrencyConflict: 412 with the current version.
            order = order_services().intake.transition_order(
                order_id=known_order_id(order_id),
                to=serializer.validated_data["to"],
                reason=serializer.validated_data.get("reason"),
                actor=Actor.integrator(integrator),
                expected_version=expected_version(request),
                integrator=integrator,
            )
            return order_response(request, order)

        return idempotent(request, self, move, store=idempotency_store)


class OrderNotesView(APIView):
    """The order's timeline of notes: the integrator reads the public ones and adds its own
    (always public); staff's internal notes stay in the admin."""

    @doc.list_order_notes
    def get(self, request: Request, order_id: str) -> Response:
        notes = order_selector().notes(known_order_id(order_id), integrator=request.user.integrator)
        page = {"order_id": order_id, "results": notes}
        return Response(NotePageOutputSerializer(page).data)

    @doc.add_order_note
    def post(self, request: Request, order_id: str) -> Response:
        def add() -> Response:
            serializer = NoteCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            integrator = request.user.integrator
            note = order_services().timeline.add_note(
                order_id=known_order_id(order_id),
                text=serializer.validated_data["text"],
                visibility=serializer.validated_data["visibility"],
                actor=Actor.integrator(integrator),
                author_name=request.user.name,
                integrator=integrator,
                expected_version=expected_version(request),
            )
            response = Response(NoteOutputSerializer(note).data, status=status.HTTP_201_CREATED)
            response["Location"] = f"/v1/orders/{note.order_id}/notes"
            return response

        return idempotent(request, self, add, store=idempotency_store)


class EventFeedView(APIView):
    @doc.event_feed
    def get(self, request: Request) -> Response:
        query = EventFeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = event_feed().page(
            request.user.integrator,
            after=query.validated_data.get("after"),
            limit=query.validated_data["limit"],
        )
        feed = {
            "results": page.events,  # the stored events, exactly as published
            "next_cursor": page.cursor,
            "next": next_link(request, page.cursor, parameter="after"),
        }
        return Response(EventFeedOutputSerializer(feed).data)
