"""Browsers are told to keep to HTTPS (when configured) and to run only this site's scripts:
the admin and the API docs carry a Content-Security-Policy they work under."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from portal.security_middleware import HEADER

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.fixture
def superuser_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("boss", password="pw-not-used"))
    return client


def test_the_admin_runs_only_this_sites_scripts(db):
    response = Client().get("/admin/login/")
    policy = directives(response[HEADER])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/orders/workorder/", "/admin/operations/pipeline/", "/v1/docs"],
)
def test_pages_have_no_inline_scripts_or_style_elements(aws, superuser_client, path):
    response = superuser_client.get(path)
    assert response.status_code == 200
    assert HEADER in response
    page = response.content.decode()
    assert not INLINE_SCRIPT.search(page), INLINE_SCRIPT.search(page).group(0)
    assert "<style" not in page
    assert " style=" not in page  # inline style attributes are refused too


def test_the_docs_start_swagger_ui_from_a_script_of_their_own(db):
    page = Client().get("/v1/docs").content.decode()
    started = re.search(r'<script src="(/v1/docs\?[^"]*script[^"]*)"', page)
    assert started, page
    script = Client().get(started.group(1).replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content
    assert b'"validatorUrl": null' in script.content  # no badge fetched from swagger.io


def test_hsts_is_sent_over_https_once_configured(db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    secure = Client().get("/admin/login/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in Client().get("/admin/login/")  # plain HTTP


def test_no_hsts_by_default(db):
    assert "Strict-Transport-Security" not in Client().get("/admin/login/", secure=True)
