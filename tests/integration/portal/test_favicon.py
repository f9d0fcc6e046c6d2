"""Every page names the portal's icon, and a browser asking for /favicon.ico on its own (on
the API's JSON, say) is led to it rather than logging a 404, with the static files served as
in production (collected, hashed, by WhiteNoise) and under the Content-Security-Policy."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.test import Client

from portal.security_middleware import HEADER

ICON_LINK = re.compile(r'<link rel="icon" href="([^"]+)"')


@pytest.fixture
def production_static(settings, tmp_path) -> Iterator[str]:
    """Static files collected as the image and ``make run`` do: hashed names, compressed
    copies and a manifest, served by WhiteNoise."""
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", "-v0")
    yield settings.STATIC_ROOT
    shutil.rmtree(settings.STATIC_ROOT, ignore_errors=True)


def assert_is_the_icon(client: Client, url: str) -> None:
    served = client.get(url)
    assert served.status_code == 200, url
    assert served["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(served.streaming_content)


def test_favicon_ico_leads_to_the_served_icon(db, production_static):
    client = Client()  # a new client: WhiteNoise loads the files just collected

    response = client.get("/favicon.ico")

    assert response.status_code == 302
    icon = response["Location"]
    assert re.fullmatch(r"/static/portal/favicon\.[0-9a-f]{12}\.svg", icon), icon
    assert_is_the_icon(client, icon)


@pytest.mark.parametrize("path", ["/admin/login/", "/v1/docs"])
def test_pages_link_the_portals_icon_and_the_policy_allows_it(db, production_static, path):
    client = Client()
    response = client.get(path)

    assert response.status_code == 200
    links = ICON_LINK.findall(response.content.decode())
    assert len(links) == 1, links  # ours only: the docs no longer name Swagger's
    assert links[0].startswith("/static/portal/favicon.")
    assert_is_the_icon(client, links[0])
    img_src = next(d for d in response[HEADER].split(";") if d.split()[0] == "img-src")
    assert "'self'" in img_src.split()


def test_favicon_ico_works_before_static_files_are_collected(db, settings, tmp_path):
    """Tests and a quick ``manage.py runserver`` use plain names: still no 404 or error."""
    settings.STATIC_ROOT = str(tmp_path / "nothing-collected")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    response = Client().get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/portal/favicon.svg"
