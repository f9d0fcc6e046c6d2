"""Integrators manage their assets: thin adapters that parse, call
``facilities.asset_services`` (or the selectors) and render. Every view is scoped to the calling
integrator: an asset of another integrator does not exist as far as the caller can tell."""

from __future__ import annotations

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikit.conditional import etag, expected_version, not_modified
from apikit.idempotency import idempotent
from apikit.pagination import next_link
from facilities.asset_selectors import AssetQuery, asset_of, list_assets
from facilities.asset_services import (
    AssetUsage,
    OrdersAndPlans,
    create_asset,
    reinstate_asset,
    retire_asset,
    update_asset,
)
from facilities.domain.assets import clean_asset
from facilities.models import Asset
from facilities.selectors import integrator_by_slug
from portal.container import idempotency_store, place_orders, planned_work

from . import asset_openapi as doc
from .asset_input import AssetCreateSerializer, AssetListQuerySerializer, AssetUpdateSerializer
from .asset_output import AssetOutputSerializer, AssetPageOutputSerializer
from .views import checked


def asset_usage() -> AssetUsage:
    """What still needs an asset: the open orders at it and the active plans on it."""
    return OrdersAndPlans(place_orders(), planned_work())


def asset_response(
    request: Request, asset: Asset, http_status: int = status.HTTP_200_OK
) -> Response:
    body = AssetOutputSerializer(asset, context={"request": request}).data
    response = Response(body, status=http_status)
    response["ETag"] = etag(asset.version)
    if http_status == status.HTTP_201_CREATED:
        response["Location"] = f"/v1/assets/{asset.pk}"
    return response


class AssetCollectionView(APIView):
    @doc.list_assets
    def get(self, request: Request) -> Response:
        query = AssetListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        filters = AssetQuery(
            site=params["site"].lower() if "site" in params else None,
            site_code=params.get("site_code"),
            status=params.get("status"),
            category=params.get("category"),
            code=params.get("code"),
            q=params.get("q"),
        )
        page = list_assets(
            request.user.integrator, filters, limit=params["limit"], cursor=params.get("cursor")
        )
        body = {
            "results": page.items,
            "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor),
        }
        return Response(AssetPageOutputSerializer(body, context={"request": request}).data)

    @doc.create_asset
    def post(self, request: Request) -> Response:
        def create() -> Response:
            data = checked(AssetCreateSerializer, request.data, rules=clean_asset)
            asset = create_asset(integrator_by_slug(request.user.integrator), data)
            return asset_response(request, asset, status.HTTP_201_CREATED)

        return idempotent(request, self, create, store=idempotency_store)


class AssetDetailView(APIView):
    @doc.get_asset
    def get(self, request: Request, asset_id: str) -> Response:
        asset = asset_of(request.user.integrator, asset_id)
        return not_modified(request, asset.version) or asset_response(request, asset)

    @doc.update_asset
    def patch(self, request: Request, asset_id: str) -> Response:
        asset = asset_of(request.user.integrator, asset_id)
        data = checked(AssetUpdateSerializer, request.data, partial=True, rules=clean_asset)
        changed = update_asset(
            asset, data, usage=asset_usage(), expected_version=expected_version(request)
        )
        return asset_response(request, changed)


class AssetRetireView(APIView):
    @doc.retire_asset
    def post(self, request: Request, asset_id: str) -> Response:
        def retire() -> Response:
            asset = asset_of(request.user.integrator, asset_id)
            retired = retire_asset(
                asset, usage=asset_usage(), expected_version=expected_version(request)
            )
            return asset_response(request, retired)

        return idempotent(request, self, retire, store=idempotency_store)


class AssetReinstateView(APIView):
    @doc.reinstate_asset
    def post(self, request: Request, asset_id: str) -> Response:
        def reinstate() -> Response:
            asset = asset_of(request.user.integrator, asset_id)
            back = reinstate_asset(asset, expected_version=expected_version(request))
            return asset_response(request, back)

        return idempotent(request, self, reinstate, store=idempotency_store)
