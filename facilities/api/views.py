"""Integrators manage their sites: thin adapters that parse, call ``facilities.services`` (or
the import, or the selectors) and render. Every view is scoped to the calling integrator: a
site of another integrator does not exist as far as the caller can tell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from apikit.conditional import etag, expected_version, not_modified
from apikit.idempotency import idempotent
from apikit.pagination import next_link
from apikit.parsers import StrictJSONParser
from apikit.validation import checked_body
from facilities.domain.fields import clean_site
from facilities.domain.import_rows import ImportRow, rows_from_csv, rows_from_json
from facilities.models import Site
from facilities.selectors import SiteQuery, integrator_by_slug, list_sites, site_of
from facilities.services import archive_site, create_site, restore_site, update_site
from facilities.site_import import import_sites
from portal.container import idempotency_store, site_usage

from . import openapi as doc
from .input import SiteCreateSerializer, SiteListQuerySerializer, SiteUpdateSerializer
from .output import SiteImportReportOutputSerializer, SiteOutputSerializer, SitePageOutputSerializer
from .parsers import CsvTextParser


def checked(
    serializer_class: type[Serializer],
    data: Any,
    *,
    partial: bool = False,
    rules: Callable[..., Any] = clean_site,
) -> dict[str, Any]:
    """The body, every problem at once: the shape, then the ``rules`` (the sites', or the
    assets') on the fields it let through (``apikit.validation``)."""
    return checked_body(serializer_class, data, rules=rules, partial=partial)


def site_response(site: Site, http_status: int = status.HTTP_200_OK) -> Response:
    response = Response(SiteOutputSerializer(site).data, status=http_status)
    response["ETag"] = etag(site.version)
    if http_status == status.HTTP_201_CREATED:
        response["Location"] = f"/v1/sites/{site.pk}"
    return response


class SiteCollectionView(APIView):
    @doc.list_sites
    def get(self, request: Request) -> Response:
        query = SiteListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        filters = SiteQuery(
            kind=params.get("kind"),
            parent=params["parent"].lower() if "parent" in params else None,
            code=params.get("code"),
            q=params.get("q"),
            archived=params["archived"] == "true",
        )
        page = list_sites(
            request.user.integrator, filters, limit=params["limit"], cursor=params.get("cursor")
        )
        body = {
            "results": page.items,
            "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor),
        }
        return Response(SitePageOutputSerializer(body).data)

    @doc.create_site
    def post(self, request: Request) -> Response:
        def create() -> Response:
            data = checked(SiteCreateSerializer, request.data)
            site = create_site(integrator_by_slug(request.user.integrator), data)
            return site_response(site, status.HTTP_201_CREATED)

        return idempotent(request, self, create, store=idempotency_store)


class SiteDetailView(APIView):
    @doc.get_site
    def get(self, request: Request, site_id: str) -> Response:
        site = site_of(request.user.integrator, site_id)
        return not_modified(request, site.version) or site_response(site)

    @doc.update_site
    def patch(self, request: Request, site_id: str) -> Response:
        site = site_of(request.user.integrator, site_id)
        data = checked(SiteUpdateSerializer, request.data, partial=True)
        changed = update_site(site, data, expected_version=expected_version(request))
        return site_response(changed)


class SiteArchiveView(APIView):
    @doc.archive_site
    def post(self, request: Request, site_id: str) -> Response:
        def archive() -> Response:
            site = site_of(request.user.integrator, site_id)
            return site_response(
                archive_site(site, usage=site_usage(), expected_version=expected_version(request))
            )

        return idempotent(request, self, archive, store=idempotency_store)


class SiteRestoreView(APIView):
    @doc.restore_site
    def post(self, request: Request, site_id: str) -> Response:
        def restore() -> Response:
            site = site_of(request.user.integrator, site_id)
            return site_response(restore_site(site, expected_version=expected_version(request)))

        return idempotent(request, self, restore, store=idempotency_store)


class SiteImportView(APIView):
    parser_classes = [StrictJSONParser, CsvTextParser]
    schema = doc.RequiredBodySchema()

    @doc.import_sites
    def post(self, request: Request) -> Response:
        def run() -> Response:
            rows = import_rows(request)
            report = import_sites(integrator_by_slug(request.user.integrator), rows)
            return Response(SiteImportReportOutputSerializer(report).data)

        return idempotent(request, self, run, store=idempotency_store)


def import_rows(request: Request) -> list[ImportRow]:
    """The body's rows: a CSV file (``text/csv``) or ``{"sites": [...]}``."""
    limit = settings.SITES_IMPORT_MAX_ROWS
    if request.content_type.split(";")[0].strip().lower() == "text/csv":
        text = request.data if isinstance(request.data, str) else ""
        return rows_from_csv(text, max_rows=limit)
    return rows_from_json(request.data, max_rows=limit)
