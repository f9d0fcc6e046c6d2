"""A file in a real browser (headless Chromium): the page S3 sends the browser back to records
nothing by itself; attach.js submits it only for the upload its own tab started, so a link
from elsewhere needs the staff member's click."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.integration.factories import EXAMPLE

from .conftest import ARTIFACTS
from .test_admin_browser import LIST, PHOTO, policy_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def test_a_link_to_the_page_s3_sends_back_to_attaches_nothing_without_a_click(
    page_for, staff_logins, portal
):
    order = portal.post_order({**EXAMPLE, "external_reference": "BR-ATTACH-LINK"})
    page = page_for(staff_logins["dispatcher"])
    violations = policy_violations(page)
    page.goto(f"{LIST}{order['id']}/")
    # A file in S3 by an upload this tab did not start (as attach.js would ask for it).
    signed = page.request.post(
        f"{LIST}{order['id']}/upload/",
        form={
            "csrfmiddlewaretoken": page.input_value("#attach-form [name=csrfmiddlewaretoken]"),
            "filename": "meter.png",
            "content_type": "image/png",
            "size": str(len(PHOTO)),
            "visibility": "public",
        },
        headers={"Referer": page.url},
    )
    assert signed.ok, signed.text()
    ticket = signed.json()
    sent = requests.post(
        ticket["url"],
        data=ticket["fields"],
        files={"file": ("meter.png", PHOTO, "image/png")},
        allow_redirects=False,
        timeout=10,
    )
    assert sent.status_code == 303, sent.text

    page.goto(sent.headers["Location"])  # as a link from another site would

    # The load event came after attach.js's DOMContentLoaded handler: it did not submit.
    assert urlsplit(page.url).path == f"{LIST}{order['id']}/uploaded/"
    expect(page.locator("#attach-finish-form .wo-attach-status")).to_have_text("")
    assert portal_attachments(portal, order["id"]) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "attach-confirm.png"), full_page=True)

    page.click("#attach-finish-form button")

    expect(page.locator(".messagelist")).to_contain_text("Attached meter.png")
    assert portal_attachments(portal, order["id"]) == ["meter.png"]
    assert violations == []


def portal_attachments(portal, order_id: str) -> list[str]:
    response = requests.get(
        f"{portal.base_url}/v1/orders/{order_id}/attachments", headers=portal.auth, timeout=10
    )
    assert response.status_code == 200, response.text
    return [a["filename"] for a in response.json()["results"]]
