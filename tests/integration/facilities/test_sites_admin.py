"""Staff manage sites in the admin: the list in people's words with filters and search, a
site's page saved through the same rules (its version moves on), archive and restore as
actions, nothing ever deleted."""

from __future__ import annotations

import re
from datetime import UTC, datetime

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


def form_of(site: Site, **changes: object) -> dict[str, object]:
    """The change page's fields as a browser posts them."""
    form = {
        "code": site.code,
        "name": site.name,
        "kind": site.kind,
        "parent": str(site.parent_id or ""),
        "address_line1": site.address_line1,
        "address_line2": site.address_line2,
        "city": site.city,
        "region": site.region,
        "postal_code": site.postal_code,
        "country": site.country,
        "time_zone": site.time_zone,
        "access_hours": '[{"days": ["mon"], "opens": "08:00", "closes": "18:00"}]',
        "contacts": "[]",
        "seen_version": str(site.version),
        **changes,
    }
    return form


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
    assert staff.get(page).status_code == 200
    saved = staff.post(page, form_of(store, name="Store 12 (5th Ave)", city="NYC"))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    store.refresh_from_db()
    assert store.name == "Store 12 (5th Ave)" and store.city == "NYC"
    assert store.version == 2
    assert store.access_hours == [{"days": ["mon"], "opens": "08:00", "closes": "18:00"}]


def test_an_edit_that_breaks_a_rule_names_the_field_and_changes_nothing(staff, store):
    page = f"{LIST}{store.pk}/change/"
    refused = staff.post(
        page,
        form_of(
            store,
            time_zone="Mars/Base",
            country="XX",
            contacts='[{"name": "A", "email": "nope"}]',
        ),
    )
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "is not a time zone" in body and "ISO 3166-1 alpha-2" in body
    assert "[0].email: Enter a valid email address." in body
    store.refresh_from_db()
    assert store.version == 1 and store.time_zone == "America/New_York"


def test_a_stale_page_changes_nothing(staff, store):
    page = f"{LIST}{store.pk}/change/"
    form = form_of(store, name="From an old page")
    Site.objects.filter(pk=store.pk).update(version=5)
    refused = staff.post(page, form)
    assert refused.status_code == 200
    assert "The site changed" in refused.content.decode()
    store.refresh_from_db()
    assert store.name == STORE["name"]


def test_a_new_site_through_the_admin(staff, owner):
    region = create_site(owner.model, REGION)
    added = staff.post(
        f"{LIST}add/",
        {
            **form_of(region, code="STORE-7", name="Store 7", kind="site", seen_version=""),
            "integrator": str(owner.model.pk),
            "parent": str(region.pk),
        },
    )
    assert added.status_code == 302, added.content.decode()[:3000]
    created = Site.objects.get(code="STORE-7")
    assert created.parent == region and created.version == 1 and created.integrator == owner.model


def test_archive_and_restore_as_actions_and_no_delete(staff, store):
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


def test_staff_who_may_only_view_sites_change_nothing(db, store):
    viewer = User.objects.create_user("viewer", password="pw-not-used", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_site"))
    client = Client()
    client.force_login(viewer)
    assert client.get(LIST).status_code == 200
    client.post(LIST, {"action": "archive_sites", "_selected_action": [str(store.pk)]})
    assert client.post(f"{LIST}{store.pk}/change/", form_of(store, name="X")).status_code == 403
    store.refresh_from_db()
    assert not store.archived and store.name == STORE["name"]


def test_the_services_archive_what_the_admin_archives(store):
    # The admin's action and the API share archive_site: no orders yet, nothing else blocks.
    archived = archive_site(store, usage=NothingUsesSites())
    assert archived.archived_at is not None and archived.archived_at <= timezone.now()
