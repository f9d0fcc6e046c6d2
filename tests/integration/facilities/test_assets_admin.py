"""Staff manage assets in the admin: the list in people's words with filters and search, the
add and change page saved through the API's rules (refusals beside their field, a stale page
refused), actions to mark assets down, in service, retired or back (a refusal said in words),
the asset's page with its site, its orders and its coming maintenance, the site's page with
the assets at it, and a printable label whose QR code opens the asset's page."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import segno
from django.contrib.auth.models import Permission, User
from django.test import Client

from facilities.asset_services import NothingUsesAssets, create_asset, retire_asset
from facilities.models import Asset
from facilities.ports import OrderLine, OrdersAt, UpcomingWork
from facilities.services import create_site
from tests.integration.conftest import make_integrator

from .conftest import REGION, STORE
from .test_sites_admin import page_form

# The asset's page and retiring ask the orders (in DynamoDB) what is at the asset.
pytestmark = pytest.mark.usefixtures("aws")

LIST = "/admin/facilities/asset/"
RTU = {
    "code": "RTU-0012-01",
    "name": "Rooftop unit 1",
    "site_code": "STORE-0012",
    "category": "Rooftop unit",
    "make": "Carrier",
    "serial_number": "4821G20311",
}


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("assets-boss", password="pw-not-used"))
    return client


@pytest.fixture
def store(owner):
    create_site(owner.model, REGION)
    return create_site(owner.model, STORE)


@pytest.fixture
def rtu(owner, store) -> Asset:
    return create_asset(owner.model, RTU)


def viewer_client(*codenames: str) -> Client:
    viewer = User.objects.create_user("asset-viewer", password="pw-not-used", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(viewer)
    return client


def add_form(staff: Client, **values: object) -> dict[str, object]:
    form: dict[str, object] = dict(page_form(staff, f"{LIST}add/"))
    form.update(values)
    return form


def errors_beside(page: str, field: str) -> str:
    """The errors the page shows beside ``field``, as text."""
    row = re.search(
        rf'<div class="form-row errors field-{field}">\s*<ul class="errorlist"[^>]*>(.*?)</ul>',
        page,
        re.S,
    )
    return html.unescape(re.sub(r"<[^>]+>", "", row.group(1))).strip() if row else ""


def test_the_list_shows_assets_in_words_and_finds_them(staff, owner, rtu):
    create_asset(owner.model, {"code": "CH-1", "name": "Chiller", "site_code": "STORE-0012"})
    Asset.objects.filter(code="CH-1").update(status="down")
    page = staff.get(LIST).content.decode()
    assert re.search(r'class="field-status_shown">In service<', page)
    assert re.search(r'class="field-status_shown">Down<', page)
    assert re.search(r'class="field-site_shown">Store 12, 5th Ave \(STORE-0012\)<', page)
    assert re.search(r'class="field-category_shown">Rooftop unit<', page)
    assert re.search(r'class="field-category_shown">—<', page)  # none said
    assert ">In service<" in page and ">Retired<" in page  # the status filter, in words
    assert "delete_selected" not in page
    by_serial = staff.get(LIST, {"q": "4821G"}).content.decode()
    assert "RTU-0012-01" in by_serial and "CH-1" not in by_serial
    by_name = staff.get(LIST, {"q": "chill"}).content.decode()
    assert "CH-1" in by_name and "RTU-0012-01" not in by_name
    down = staff.get(LIST, {"status__exact": "down"}).content.decode()
    assert "CH-1" in down and "RTU-0012-01" not in down
    rooftop = staff.get(LIST, {"category": "Rooftop unit"}).content.decode()
    assert "RTU-0012-01" in rooftop and "CH-1" not in rooftop
    none_given = staff.get(LIST, {"category": "-"}).content.decode()
    assert "CH-1" in none_given and "RTU-0012-01" not in none_given
    assert ">None given<" in page


def test_an_asset_added_through_the_form_is_checked_by_the_rules(staff, owner, store):
    other = make_integrator("Other")
    theirs = create_site(other.model, {**STORE, "parent_code": None})
    form = add_form(
        staff,
        integrator=str(owner.model.pk),
        code="RTU 1",
        name="Rooftop unit",
        site=str(theirs.pk),
        status="in_service",
        installed_on="2999-01-01",
    )
    refused = staff.post(f"{LIST}add/", form)
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "Please correct the errors below." in body
    assert errors_beside(body, "code").startswith("Use 1 to 100 letters, digits")
    assert errors_beside(body, "installed_on") == "Must not be in the future."
    form.update(code="RTU-1", installed_on="2021-05-14")
    theirs_refused = staff.post(f"{LIST}add/", form).content.decode()
    assert errors_beside(theirs_refused, "site") == "No site of yours has this id."
    assert not Asset.objects.exists()

    form.update(site=str(store.pk), make="Carrier")
    added = staff.post(f"{LIST}add/", form)
    assert added.status_code == 302, added.content.decode()[:3000]
    asset = Asset.objects.get(code="RTU-1")
    assert asset.site == store and asset.integrator == owner.model and asset.version == 1
    assert asset.installed_on.isoformat() == "2021-05-14" and asset.make == "Carrier"

    again = staff.post(f"{LIST}add/", {**form, "name": "Another"})
    assert again.status_code == 200
    assert errors_beside(again.content.decode(), "code") == (
        f"The code 'RTU-1' is already used by your asset {asset.pk}."
    )
    assert Asset.objects.count() == 1


def test_an_edit_moves_the_version_on_and_a_stale_page_changes_nothing(staff, rtu):
    page = f"{LIST}{rtu.pk}/change/"
    form = dict(page_form(staff, page))
    assert form["seen_version"] == ["1"] and form["status"] == ["in_service"]
    saved = staff.post(page, {**form, "name": "RTU 1", "status": "down"})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    rtu.refresh_from_db()
    assert rtu.name == "RTU 1" and rtu.status == "down" and rtu.version == 2
    stale = staff.post(page, {**form, "name": "From an old page"})
    assert stale.status_code == 200 and "The asset changed" in stale.content.decode()
    rtu.refresh_from_db()
    assert rtu.name == "RTU 1"


class OrdersHere:
    """The orders' answer: one open order and one finished at the asset."""

    def at_site(self, site_id: str, *, limit: int = 20) -> OrdersAt:
        return OrdersAt(open=[], past=[])

    def at_asset(self, asset_id: str, *, limit: int = 20) -> OrdersAt:
        def line(order_id: str, title: str, status: str, is_open: bool) -> OrderLine:
            return OrderLine(
                id=order_id,
                title=title,
                status=status,
                priority="High",
                created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
                open=is_open,
                url=f"/admin/orders/workorder/{order_id}/",
            )

        return OrdersAt(
            open=[line("o-open", "Replace the belt", "On hold", True)],
            past=[line("o-done", "Clean the coils", "Completed", False)],
        )


class PlanHere:
    def upcoming_at_asset(self, asset_id: str, *, limit: int = 10) -> list[UpcomingWork]:
        due = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
        return [UpcomingWork("p-1", "Quarterly filter change", due, due, "Planned", "/p/1/")]

    def active_plans_at_asset(self, asset_id: str) -> list[str]:
        return ["Quarterly filter change"]


def test_the_asset_page_shows_its_site_orders_and_maintenance(monkeypatch, staff, rtu):
    page = staff.get(f"{LIST}{rtu.pk}/change/").content.decode()
    assert re.search(
        rf'<a href="/admin/facilities/site/{rtu.site_id}/change/">Store 12, 5th Ave '
        r"\(STORE-0012\)</a> — New York, US",
        page,
    )
    assert "Orders at this asset" in page and "No open orders." in page
    assert "No past orders." in page
    assert "Upcoming maintenance" in page and "No maintenance planned." in page
    assert f'href="/admin/facilities/asset/{rtu.pk}/label/"' in page and "Print label" in page

    from facilities import asset_admin

    monkeypatch.setattr(asset_admin, "place_orders", OrdersHere)
    monkeypatch.setattr(asset_admin, "planned_work", PlanHere)
    staff.cookies["staff_tz"] = "Asia/Tokyo"
    page = staff.get(f"{LIST}{rtu.pk}/change/").content.decode()
    assert re.search(
        r'<a href="/admin/orders/workorder/o-open/">Replace the belt</a></td>\s*<td>On hold</td>'
        r"\s*<td>High</td>\s*<td[^>]*>2026-03-01 21:00 JST</td>",
        page,
    )
    assert '<a href="/admin/orders/workorder/o-done/">Clean the coils</a>' in page
    assert f'href="/admin/orders/workorder/?asset_id={rtu.pk}"' in page
    assert re.search(
        r'<a href="/p/1/">Quarterly filter change</a></td>\s*<td[^>]*>2026-04-01 17:00 JST<', page
    )
    assert "No maintenance planned." not in page


def test_actions_mark_down_in_service_retire_and_reinstate(monkeypatch, staff, owner, rtu):
    def act(action: str) -> str:
        done = staff.post(LIST, {"action": action, "_selected_action": [str(rtu.pk)]}, follow=True)
        return done.content.decode()

    assert "1 asset(s) now down." in act("mark_down")
    assert "1 asset(s) now in service." in act("mark_in_service")
    assert "already so" in act("mark_in_service")

    from facilities import asset_admin

    monkeypatch.setattr(asset_admin, "place_orders", OrdersHere)
    refused = act("retire_assets")
    assert (
        "Not changed: Rooftop unit 1 (RTU-0012-01): 1 open order is at it (Replace the belt): "
        "complete or cancel it first." in refused
    )
    monkeypatch.undo()
    assert "1 asset(s) now retired." in act("retire_assets")
    rtu.refresh_from_db()
    assert rtu.status == "retired" and rtu.version == 4
    assert "The asset is retired; reinstate it before changing it." in act("mark_down")
    # A retired asset's page is read-only: reinstate it to change it.
    page = staff.get(f"{LIST}{rtu.pk}/change/").content.decode()
    assert 'name="name"' not in page and re.search(r'field-status">.*?Retired<', page, re.S)
    assert "1 asset(s) now in service." in act("reinstate_assets")
    assert staff.get(f"{LIST}{rtu.pk}/delete/").status_code == 403


def test_a_viewer_reads_the_asset_in_words_and_changes_nothing(db, rtu):
    client = viewer_client("view_asset", "view_site")
    page = client.get(f"{LIST}{rtu.pk}/change/").content.decode()
    assert re.search(r'<label>Status:</label>\s*<div class="readonly">In service<', page)
    assert f'href="/admin/facilities/site/{rtu.site_id}/change/"' in page
    assert "Orders at this asset" in page and 'name="name"' not in page
    client.post(LIST, {"action": "retire_assets", "_selected_action": [str(rtu.pk)]})
    assert client.post(f"{LIST}{rtu.pk}/change/", {"name": "X"}).status_code == 403
    rtu.refresh_from_db()
    assert rtu.status == "in_service" and rtu.version == 1


def test_the_label_holds_a_qr_code_of_the_assets_page(db, rtu):
    client = viewer_client("view_asset")
    label = client.get(f"{LIST}{rtu.pk}/label/")
    assert label.status_code == 200
    page = label.content.decode()
    url = f"http://testserver/admin/facilities/asset/{rtu.pk}/change/"
    assert f'<p class="asset-label-url">{url}</p>' in page  # printed for those who type it
    assert '<p class="asset-label-name">Rooftop unit 1</p>' in page
    assert '<p class="asset-label-code">RTU-0012-01</p>' in page
    assert "Store 12, 5th Ave (STORE-0012)" in page and "Serial 4821G20311" in page
    svg = re.search(r"<svg[^>]*class=\"asset-qr\".*?</svg>", page, re.S)
    assert svg is not None and "<script" not in svg.group() and "style=" not in svg.group()
    # The code's modules are exactly those of the page's address (segno is deterministic).
    expected = segno.make(url, error="m", micro=False)
    assert re.search(r' d="([^"]+)"', svg.group()).group(1) == re.search(
        r' d="([^"]+)"', expected.svg_inline(dark="#000", light="#fff", omitsize=True)
    ).group(1)
    assert 'href="/static/facilities/assets.css"' in page


def test_the_label_needs_view_permission_and_an_asset(db, rtu, staff):
    assert viewer_client("view_site").get(f"{LIST}{rtu.pk}/label/").status_code == 403
    assert staff.get(f"{LIST}00000000-0000-4000-8000-000000000000/label/").status_code == 404
    assert Client().get(f"{LIST}{rtu.pk}/label/").status_code == 302  # to the login page


def test_the_site_page_lists_the_assets_here(staff, owner, store, rtu):
    create_asset(owner.model, {"code": "CH-1", "name": "Chiller", "site_code": "STORE-0012"})
    retire_asset(Asset.objects.get(code="CH-1"), usage=NothingUsesAssets())
    page = staff.get(f"/admin/facilities/site/{store.pk}/change/").content.decode()
    here = page[page.index('id="assets-here"') :]
    assert "Assets here" in here
    assert f'<a href="{LIST}{rtu.pk}/change/">RTU-0012-01</a>' in here
    assert "Rooftop unit 1" in here and "In service" in here
    assert "CH-1" not in here  # retired: not here any more
    empty = staff.get(f"/admin/facilities/site/{store.parent_id}/change/").content.decode()
    assert "No assets here (retired ones are not listed)." in empty
