"""The OpenAPI contract: the checked-in copy matches the code, and the schema and its
interactive docs are served to anyone, key or not."""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

CHECKED_IN = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"


def generated_schema() -> str:
    """What ``make schema`` writes, generated in this process."""
    from drf_spectacular.renderers import OpenApiYamlRenderer
    from drf_spectacular.settings import spectacular_settings

    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    schema = generator.get_schema(request=None, public=True)
    return OpenApiYamlRenderer().render(schema, renderer_context={}).decode()


def test_the_checked_in_schema_matches_the_code():
    current = generated_schema()
    checked_in = CHECKED_IN.read_text() if CHECKED_IN.exists() else ""
    if current != checked_in:
        diff = "".join(
            list(
                difflib.unified_diff(
                    checked_in.splitlines(keepends=True),
                    current.splitlines(keepends=True),
                    "docs/openapi.yaml (checked in)",
                    "schema generated from the code",
                )
            )[:80]
        )
        pytest.fail(
            "docs/openapi.yaml is out of date with the API code: run `make schema` and commit "
            f"the result.\n{diff}",
            pytrace=False,
        )


def test_the_schema_is_valid_openapi():
    from drf_spectacular.settings import spectacular_settings
    from drf_spectacular.validation import validate_schema

    schema = spectacular_settings.DEFAULT_GENERATOR_CLASS().get_schema(request=None, public=True)
    validate_schema(schema)  # raises on a violation of the OpenAPI 3.0 JSON Schema
    assert schema["info"]["title"] == "Work-order portal API"
    order_alias = schema["paths"]["/v1/order"]["post"]
    assert order_alias["deprecated"] is True
    assert "deprecated" not in schema["paths"]["/v1/orders"]["post"]


def test_the_schema_is_public(db):
    response = Client().get("/v1/schema")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"/v1/orders/{order_id}/transitions" in response.content
    as_json = Client().get("/v1/schema?format=json")
    assert as_json.status_code == 200
    assert "/v1/orders" in as_json.json()["paths"]


def test_a_bad_key_does_not_hide_the_schema(db):
    response = Client(HTTP_AUTHORIZATION="Bearer wop_nonsense_key").get("/v1/schema")
    assert response.status_code == 200


@pytest.fixture
def collected_static(settings, tmp_path):
    """Static files collected as in production (hashed, compressed, with a manifest)."""
    settings.STATIC_ROOT = str(tmp_path / "static")
    call_command("collectstatic", "--noinput", "-v0")
    yield settings.STATIC_ROOT
    shutil.rmtree(settings.STATIC_ROOT, ignore_errors=True)


def test_the_docs_are_public_and_need_nothing_from_outside(db, collected_static):
    client = Client()  # a new client loads WhiteNoise over the collected files
    response = client.get("/v1/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    # The stylesheets, the icon, Swagger UI's two scripts and its start-up script (?script).
    assert len(assets) >= 5, page
    assert all(a.startswith(("/static/", "/v1/docs?")) for a in assets), assets
    assert any(a.startswith("/static/drf_spectacular_sidecar/") for a in assets), assets
    for asset in assets:  # Swagger UI's own files, from our static files
        served = client.get(asset)
        assert served.status_code == 200, asset
    start_up = next(a for a in assets if a.startswith("/v1/docs?"))
    assert b"/v1/schema" in client.get(start_up).content
