"""Staff attach a file from the order's page: the browser posts it straight to S3 (moto), S3
sends the browser back to a page that records nothing, and only a POST with the page's CSRF
token records the file."""

from __future__ import annotations

import re

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from portal.container import order_selector

from .test_admin_order_work import PNG, new_order, said, uploaded_to_s3, url
from .test_admin_orders import staff_client

FINISH_FORM = re.compile(
    r'<form method="post" action="(?P<action>[^"]+)" id="attach-finish-form"[^>]*>(?P<body>.*?)'
    r"</form>",
    re.S,
)


@pytest.fixture
def dispatcher(aws, db) -> Client:
    return staff_client("view_workorder", "change_workorder", username="disp")


def hidden(body: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', body)
    assert found is not None, body
    return found.group(1).replace("&amp;", "&")


def attachments_of(order) -> list:
    return order_selector().attachments(order.id)


def test_the_page_s3_sends_the_browser_back_to_records_nothing(dispatcher, acme, crew):
    order = new_order(acme)
    back = uploaded_to_s3(dispatcher, order)

    page = dispatcher.get(back)
    again = dispatcher.get(back)

    assert page.status_code == again.status_code == 200, page.content
    form = FINISH_FORM.search(page.content.decode())
    assert form is not None
    assert form.group("action") == url("uploaded", order.id)
    assert hidden(form.group("body"), "csrfmiddlewaretoken")
    assert hidden(form.group("body"), "key").endswith("/meter.png")
    assert attachments_of(order) == []
    assert order_selector().get_order(order.id).version == order.version


def test_the_file_is_recorded_by_a_post_with_the_pages_csrf_token(dispatcher, acme, crew):
    order = new_order(acme)
    back = uploaded_to_s3(dispatcher, order)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.get(username="disp"))
    form = FINISH_FORM.search(browser.get(back).content.decode())
    assert form is not None
    key = hidden(form.group("body"), "key")

    forged = browser.post(url("uploaded", order.id), {"key": key})
    assert forged.status_code == 403  # no token: a cross-site form cannot attach anything
    assert attachments_of(order) == []

    done = browser.post(
        url("uploaded", order.id),
        {"key": key, "csrfmiddlewaretoken": hidden(form.group("body"), "csrfmiddlewaretoken")},
        follow=True,
    )

    assert any("Attached meter.png" in m for m in said(done))
    assert [a.filename for a in attachments_of(order)] == ["meter.png"]
    preview = re.search(r'<img class="wo-preview" src="([^"]+)"', done.content.decode())
    assert preview is not None
    image = requests.get(preview.group(1).replace("&amp;", "&"), timeout=10)
    assert image.status_code == 200 and image.content == PNG


def test_a_page_sent_back_without_an_upload_says_so_and_records_nothing(dispatcher, acme, crew):
    order = new_order(acme)

    page = dispatcher.get(f"{url('uploaded', order.id)}?key=uploads/elsewhere/x.png", follow=True)
    posted = dispatcher.post(url("uploaded", order.id), {"key": "../x"}, follow=True)

    for response in (page, posted):
        assert any("S3 did not say which upload" in m for m in said(response))
    assert attachments_of(order) == []
