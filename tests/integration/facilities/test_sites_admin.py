"""Staff manage sites in the admin: the list in people's words with filters and search, a
site's page saved through the same rules (its version moves on), access hours and contacts as
rows of boxes (the rules' refusals on the row they concern), archive and restore as actions,
nothing ever deleted. Forms are posted as the page shows them (``PageForm``)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from facilities.models import Site
from facilities.services import NothingUsesSites, archive_site, create_site

from .conftest import REGION, STORE

LIST = "/admin/facilities/site/"


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("sites-boss", password="pw-not-used"))
    return client


@pytest.fixture
def store(owner) -> Site:
    create_site(owner.model, REGION)
    return create_site(owner.model, STORE)


class PageForm(HTMLParser):
    """The site form's fields as a browser would post them: text, time, hidden and email
    boxes with their values, ticked boxes, each select's chosen option."""

    def __init__(self, html: str):
        super().__init__()
        self.fields: dict[str, list[str]] = {}
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        at = dict(attrs)
        name = at.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            if at.get("type") not in ("checkbox", "radio") or "checked" in at:
                self.fields.setdefault(name, []).append(at.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in at:
            self.fields[self._select].append(at.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def page_form(client: Client, path: str) -> dict[str, list[str]]:
    page = client.get(path)
    assert page.status_code == 200
    return PageForm(page.content.decode()).fields


def form_of(client: Client, site: Site, **changes: object) -> dict[str, object]:
    """The change page's fields as the page shows them, with ``changes`` made (a list: the
    boxes ticked)."""
    form: dict[str, object] = dict(page_form(client, f"{LIST}{site.pk}/change/"))
    form.update(changes)
    return form


def hours_row(index: int, days: list[str], opens: str, closes: str) -> dict[str, object]:
    return {
        f"access_hours-{index}-days": days,
        f"access_hours-{index}-opens": opens,
        f"access_hours-{index}-closes": closes,
    }


def row_of(page: str, input_name: str) -> str:
    """The table row holding the input named ``input_name``, its text unescaped."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", page, flags=re.S):
        if f'name="{input_name}"' in row:
            return html.unescape(row)
    raise AssertionError(f"no row holds {input_name}")


def test_the_list_shows_sites_in_words_and_finds_them(staff, store):
    page = staff.get(LIST).content.decode()
    assert "Store 12, 5th Ave" in page and "STORE-0012" in page
    assert re.search(r'class="field-kind_shown">Site<', page)
    assert re.search(r'class="field-kind_shown">Region<', page)
    assert re.search(r'class="field-parent_shown">Northeast<', page)  # the parent by name
    assert re.search(r'class="field-status">Active<', page)
    assert "New York, US" in page
    found = staff.get(LIST, {"q": "store 12"}).content.decode()
    assert "STORE-0012" in found and "REGION-NE" not in found
    by_code = staff.get(LIST, {"q": "REGION-NE"}).content.decode()
    assert "Northeast" in by_code and "STORE-0012" not in by_code
    regions = staff.get(LIST, {"kind__exact": "region"}).content.decode()
    assert "REGION-NE" in regions and "STORE-0012" not in regions
    filters = staff.get(LIST).content.decode()
    assert ">Building<" in filters and ">Archived<" in filters  # the filters in words
    assert "delete_selected" not in filters


def test_times_are_in_the_staff_members_zone(staff, store):
    Site.objects.filter(pk=store.pk).update(updated_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    staff.cookies["staff_tz"] = "Asia/Tokyo"
    page = staff.get(LIST).content.decode()
    assert "2026-03-01 21:00:00 JST" in page


def test_an_edit_goes_through_the_rules_and_moves_the_version_on(staff, store):
    page = f"{LIST}{store.pk}/change/"
    saved = staff.post(page, form_of(staff, store, name="Store 12 (5th Ave)", city="NYC"))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    store.refresh_from_db()
    assert store.name == "Store 12 (5th Ave)" and store.city == "NYC"
    assert store.version == 2
    # The rows the page showed come back as they were stored.
    assert store.access_hours == STORE["access_hours"]
    assert store.contacts == [{**STORE["contacts"][0], "email": ""}]


def test_the_page_shows_hours_and_contacts_as_rows_in_words(staff, store):
    page = staff.get(f"{LIST}{store.pk}/change/").content.decode()
    assert '"days"' not in page and "[{" not in page  # no JSON to read or write
    stored = row_of(page, "access_hours-0-opens")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        assert re.search(rf'type="checkbox"[^>]*>{day}</label>', stored)
    assert re.search(r'type="checkbox" name="access_hours-0-days" value="mon"[^>]*checked', stored)
    assert not re.search(r'name="access_hours-0-days" value="tue"[^>]*checked', stored)
    assert re.search(r'type="time" name="access_hours-0-opens" value="07:00"', stored)
    assert re.search(r'type="time" name="access_hours-0-closes" value="22:00"', stored)
    assert 'name="access_hours-0-DELETE"' in stored and ">Remove</label>" in stored
    # Two empty rows to add to, with no Remove.
    shown = PageForm(page).fields
    for index in (1, 2):
        assert shown[f"access_hours-{index}-opens"] == shown[f"access_hours-{index}-closes"] == [""]
        assert f"access_hours-{index}-days" not in shown  # nothing ticked
        assert "DELETE" not in row_of(page, f"access_hours-{index}-opens")
    assert 'name="access_hours-3-opens"' not in page
    assert "runs past midnight" in page and "site's own clock" in page
    contact = row_of(page, "contacts-0-name")
    assert 'value="Dana Reyes"' in contact and 'value="Store manager"' in contact
    assert 'name="contacts-2-name"' in page and 'name="contacts-3-name"' not in page


def test_a_page_saved_as_it_came_changes_nothing(staff, store):
    # 24:00 cannot sit in a time box: it shows as 00:00 (the same midnight) and stays 24:00.
    Site.objects.filter(pk=store.pk).update(
        access_hours=[{"days": ["sat", "sun"], "opens": "10:00", "closes": "24:00"}]
    )
    page = f"{LIST}{store.pk}/change/"
    form = form_of(staff, store)
    assert form["access_hours-0-closes"] == ["00:00"]
    assert staff.post(page, form).status_code == 302
    store.refresh_from_db()
    assert store.version == 1
    assert store.access_hours == [{"days": ["sat", "sun"], "opens": "10:00", "closes": "24:00"}]


def test_staff_remove_a_row_and_add_one(staff, store):
    page = f"{LIST}{store.pk}/change/"
    form = form_of(
        staff,
        store,
        **{"access_hours-0-DELETE": "on"},
        **hours_row(1, ["sat"], "09:00", "18:00"),
        **hours_row(2, ["sun", "mon", "tue"], "22:00", "06:00"),  # overnight, as the rules say
        **{
            "contacts-0-DELETE": "on",
            "contacts-1-name": "Sam Ortiz",
            "contacts-1-email": "sam@example.com",
        },
    )
    saved = staff.post(page, form)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    store.refresh_from_db()
    assert store.access_hours == [
        {"days": ["sat"], "opens": "09:00", "closes": "18:00"},
        {"days": ["mon", "tue", "sun"], "opens": "22:00", "closes": "06:00"},  # the week's order
    ]
    assert store.contacts == [
        {"name": "Sam Ortiz", "role": "", "phone": "", "email": "sam@example.com"}
    ]
    assert store.version == 2
    again = staff.get(page).content.decode()
    assert 'name="access_hours-3-opens"' in again and 'name="access_hours-4-opens"' not in again


def test_a_row_emptied_is_ignored(staff, store):
    emptied = {f"contacts-0-{key}": "" for key in ("name", "role", "phone", "email")}
    form = form_of(staff, store, **hours_row(0, [], "", ""), **emptied)
    assert staff.post(f"{LIST}{store.pk}/change/", form).status_code == 302
    store.refresh_from_db()
    assert store.access_hours == [] and store.contacts == [] and store.version == 2


def test_an_incomplete_row_is_refused_on_that_row_and_nothing_is_saved(staff, store):
    page = f"{LIST}{store.pk}/change/"
    form = form_of(
        staff,
        store,
        name="Not saved",
        **hours_row(1, ["sat"], "09:00", ""),
        **hours_row(2, [], "10:00", "12:00"),
        **{"contacts-1-phone": "+1 555 0199", "contacts-2-name": "Ann", "contacts-2-email": "nope"},
    )
    refused = staff.post(page, form)
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "Please correct the errors below." in body
    assert "Fix the 2 rows marked below." in body
    no_close = row_of(body, "access_hours-1-closes")
    assert 'class="site-row errors' in no_close
    assert "Closes must be a time like 18:00." in no_close
    no_day = row_of(body, "access_hours-2-closes")
    assert "Tick at least one day." in no_day and "Closes must" not in no_day
    assert "Tick at least" not in row_of(body, "access_hours-0-closes")
    assert "Give the contact's name." in row_of(body, "contacts-1-name")
    assert "Enter a valid email address." in row_of(body, "contacts-2-name")
    # What was typed stays on the page to be fixed.
    assert re.search(r'name="access_hours-1-days" value="sat"[^>]*checked', body)
    assert 'name="access_hours-2-opens" value="10:00"' in body
    store.refresh_from_db()
    assert store.version == 1 and store.name == STORE["name"]
    assert store.access_hours == STORE["access_hours"]


def test_an_edit_that_breaks_a_rule_names_the_field_and_changes_nothing(staff, store):
    page = f"{LIST}{store.pk}/change/"
    refused = staff.post(
        page,
        form_of(staff, store, time_zone="Mars/Base", country="XX", **{"contacts-0-email": "nope"}),
    )
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "is not a time zone" in body and "ISO 3166-1 alpha-2" in body
    assert "Enter a valid email address." in row_of(body, "contacts-0-email")
    store.refresh_from_db()
    assert store.version == 1 and store.time_zone == "America/New_York"


def test_more_rows_than_the_rules_allow_are_refused_in_words(staff, store):
    form = form_of(staff, store)
    form["access_hours-TOTAL_FORMS"] = "15"
    for index in range(15):
        form.update(hours_row(index, ["mon"], f"{index:02d}:00", f"{index:02d}:30"))
    refused = staff.post(f"{LIST}{store.pk}/change/", form)
    assert refused.status_code == 200
    assert "A site has at most 14 rows of hours: remove one first." in refused.content.decode()
    store.refresh_from_db()
    assert store.version == 1


def test_a_stale_page_changes_nothing(staff, store):
    page = f"{LIST}{store.pk}/change/"
    form = form_of(staff, store, name="From an old page")
    Site.objects.filter(pk=store.pk).update(version=5)
    refused = staff.post(page, form)
    assert refused.status_code == 200
    assert "The site changed" in refused.content.decode()
    store.refresh_from_db()
    assert store.name == STORE["name"]


def test_a_new_site_through_the_admin_with_hours_and_a_contact(staff, owner):
    region = create_site(owner.model, REGION)
    form = dict(page_form(staff, f"{LIST}add/"))
    assert form["access_hours-TOTAL_FORMS"] == ["2"] and "access_hours-0-DELETE" not in form
    form.update(
        {
            "integrator": str(owner.model.pk),
            "code": "STORE-7",
            "name": "Store 7",
            "kind": "site",
            "parent": str(region.pk),
            "time_zone": "Europe/Madrid",
            **hours_row(0, ["fri", "mon", "tue", "wed", "thu"], "07:00", "22:00"),
            **hours_row(1, ["sat"], "09:00:00", "18:00"),  # seconds, as some browsers send
            "contacts-0-name": "Dana Reyes",
            "contacts-0-role": "Store manager",
            "contacts-0-phone": "+1 555 0100",
        }
    )
    added = staff.post(f"{LIST}add/", form)
    assert added.status_code == 302, added.content.decode()[:3000]
    created = Site.objects.get(code="STORE-7")
    assert created.parent == region and created.version == 1 and created.integrator == owner.model
    assert created.access_hours == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "07:00", "closes": "22:00"},
        {"days": ["sat"], "opens": "09:00", "closes": "18:00"},
    ]
    assert created.contacts == [
        {"name": "Dana Reyes", "role": "Store manager", "phone": "+1 555 0100", "email": ""}
    ]


def test_archive_and_restore_as_actions_and_no_delete(aws, staff, store):
    # Archiving asks the orders (in DynamoDB) whether open ones are at the site.
    region = store.parent
    refused = staff.post(
        LIST, {"action": "archive_sites", "_selected_action": [str(region.pk)]}, follow=True
    )
    assert "Not archived: Northeast (REGION-NE): 1 active site(s) are under it" in (
        refused.content.decode()
    )
    done = staff.post(
        LIST, {"action": "archive_sites", "_selected_action": [str(store.pk)]}, follow=True
    )
    assert "Archived 1 site(s)." in done.content.decode()
    store.refresh_from_db()
    assert store.archived and store.version == 2
    # An archived site's page is read-only: restore it to change it.
    page = staff.get(f"{LIST}{store.pk}/change/").content.decode()
    assert 'name="name"' not in page
    archived_list = staff.get(LIST, {"status": "archived"}).content.decode()
    assert "STORE-0012" in archived_list and "REGION-NE" not in archived_list
    staff.post(LIST, {"action": "restore_sites", "_selected_action": [str(store.pk)]})
    store.refresh_from_db()
    assert not store.archived and store.version == 3
    assert staff.get(f"{LIST}{store.pk}/delete/").status_code == 403


def test_staff_who_may_only_view_sites_read_hours_and_contacts_in_words(db, store):
    Site.objects.filter(pk=store.pk).update(
        access_hours=[
            {"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "07:00", "closes": "22:00"},
            {"days": ["sat"], "opens": "09:00", "closes": "18:00"},
        ]
    )
    viewer = User.objects.create_user("viewer", password="pw-not-used", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_site"))
    client = Client()
    client.force_login(viewer)
    assert client.get(LIST).status_code == 200
    page = client.get(f"{LIST}{store.pk}/change/").content.decode()
    assert re.search(
        r'Access hours:</label>\s*<div class="readonly">Mon–Fri 07:00–22:00; Sat 09:00–18:00<',
        page,
    )
    assert re.search(
        r'Contacts:</label>\s*<div class="readonly">Dana Reyes \(Store manager\), \+1 555 0100<',
        page,
    )
    assert 'type="time"' not in page and 'type="checkbox"' not in page
    assert 'name="access_hours-' not in page and 'name="contacts-' not in page
    client.post(LIST, {"action": "archive_sites", "_selected_action": [str(store.pk)]})
    assert client.post(f"{LIST}{store.pk}/change/", {"name": "X"}).status_code == 403
    store.refresh_from_db()
    assert not store.archived and store.name == STORE["name"]


def test_the_services_archive_what_the_admin_archives(store):
    # The admin's action and the API share archive_site: no orders yet, nothing else blocks.
    archived = archive_site(store, usage=NothingUsesSites())
    assert archived.archived_at is not None and archived.archived_at <= timezone.now()
