"""The OpenAPI document is a contract a strict generator can build on: a client generated from
the document the running API serves (openapi-python-client: attrs models that refuse a
missing field, an unknown enum value or a malformed date) creates, reads, pages, annotates and
cancels an order, reads the event feed typed, manages a webhook endpoint, creates, lists,
changes, imports and archives sites, creates, lists, changes, retires and reinstates
assets, plans maintenance on an asset (its occurrences listed, one skipped) and points an
order at an asset."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
import requests

from tests.support import wait_for

GENERATOR = Path(sys.executable).parent / "openapi-python-client"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


@pytest.fixture(scope="module")
def generated(portal, tmp_path_factory):
    """The client package, generated from /v1/schema and importable as ``wop_client``."""
    where = tmp_path_factory.mktemp("client")
    document = requests.get(f"{portal.base_url}/v1/schema", timeout=10)
    document.raise_for_status()
    (where / "openapi.yaml").write_text(document.text)
    # A CSV import's body is a file: sent as one (the generator knows no text/csv).
    (where / "generator.yaml").write_text(
        'content_type_overrides:\n  "text/csv": "application/octet-stream"\n'
    )
    result = subprocess.run(
        [GENERATOR, "generate", "--path", "openapi.yaml", "--meta", "none"]
        + ["--config", "generator.yaml", "--output-path", "wop_client"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": f"{GENERATOR.parent}:/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module("wop_client")
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == "wop_client" or m.startswith("wop_client.")]:
            del sys.modules[name]


def test_a_generated_client_runs_an_order_and_reads_its_events(portal, generated):
    from wop_client import AuthenticatedClient
    from wop_client.api.events import event_feed
    from wop_client.api.orders import (
        add_order_note,
        create_order,
        get_order,
        list_orders,
        transition_order,
    )
    from wop_client.models import (
        Category,
        NoteCreateRequest,
        Order,
        OrderCreateRequest,
        OrderPage,
        OrderStatus,
        Priority,
        Problem,
        TransitionRequest,
    )

    client = AuthenticatedClient(base_url=portal.base_url, token=portal.key, timeout=15)
    reference = f"GEN-{uuid.uuid4().hex[:8]}"
    body = OrderCreateRequest(
        title="Replace HVAC filter",
        category=Category.HVAC,
        priority=Priority.HIGH,
        site="Store 12, 5th Ave",
        external_reference=reference,
    )

    created = create_order.sync_detailed(client=client, body=body, idempotency_key=reference)
    assert created.status_code == 201 and isinstance(created.parsed, Order)
    order_id = created.parsed.id
    again = create_order.sync_detailed(client=client, body=body, idempotency_key=reference)
    assert again.parsed.id == order_id  # replayed, typed the same

    def scheduled():
        order = get_order.sync(order_id, client=client)
        return order if order.status is OrderStatus.SCHEDULED else None

    order = wait_for(scheduled, timeout=30, what="the order scheduled")
    assert order.sla.running and [h.to for h in order.history][-1] is OrderStatus.SCHEDULED

    page = list_orders.sync(client=client, limit=1)
    assert isinstance(page, OrderPage) and page.results[0].id == order_id
    if page.next_cursor:
        assert isinstance(
            list_orders.sync(client=client, limit=1, cursor=page.next_cursor), OrderPage
        )

    note = add_order_note.sync(
        order_id, client=client, body=NoteCreateRequest(text="Gate code 4711")
    )
    assert note.text == "Gate code 4711"

    etag = get_order.sync_detailed(order_id, client=client).headers["ETag"]
    cancelled = transition_order.sync(
        order_id,
        client=client,
        body=TransitionRequest(to=OrderStatus.CANCELLED, reason="Duplicate"),
        if_match=etag,
    )
    assert cancelled.status is OrderStatus.CANCELLED

    missing = get_order.sync_detailed(uuid.uuid4(), client=client)
    assert missing.status_code == 404 and isinstance(missing.parsed, Problem)

    def our_events():
        events, after = [], None
        while True:
            feed = (
                event_feed.sync(client=client, after=after)
                if after
                else event_feed.sync(client=client)
            )
            events += [e for e in feed.results if str(e.subject) == str(order_id)]
            if not feed.results or feed.next_cursor == after:
                break
            after = feed.next_cursor
        types = [str(e.type_) for e in events]
        return (
            events
            if "order.note_added" in types
            and types[-1] == "order.status_changed"
            and events[-1].data.order.status is OrderStatus.CANCELLED
            else None
        )

    events = wait_for(our_events, timeout=30, what="the order's events in the feed")
    assert events[0].data.transition.from_ is None
    assert {str(e.data.order.id) for e in events} == {str(order_id)}
    noted = next(e for e in events if str(e.type_) == "order.note_added")
    assert noted.data.note.text == "Gate code 4711"


def test_a_generated_client_manages_a_webhook_endpoint(portal, generated):
    from wop_client import AuthenticatedClient
    from wop_client.api.webhooks import (
        create_webhook_endpoint,
        delete_webhook_endpoint,
        list_webhook_deliveries,
        list_webhook_endpoints,
    )
    from wop_client.models import EndpointInputRequest, EventType, OrderStatus

    client = AuthenticatedClient(base_url=portal.base_url, token=portal.key, timeout=15)
    created = create_webhook_endpoint.sync(
        client=client,
        body=EndpointInputRequest(
            url="http://127.0.0.1:9/work-orders",  # the test portal allows local receivers
            statuses=[OrderStatus.SCHEDULED],
            event_types=[EventType.ORDER_STATUS_CHANGED],
        ),
    )
    assert created.secret.startswith("whsec_")
    try:
        listed = list_webhook_endpoints.sync(client=client)
        assert created.id in [e.id for e in listed.results]
        deliveries = list_webhook_deliveries.sync(created.id, client=client)
        assert deliveries.results == []
    finally:
        assert delete_webhook_endpoint.sync_detailed(created.id, client=client).status_code == 204


def test_a_generated_client_creates_lists_and_imports_sites(portal, generated):
    from wop_client import AuthenticatedClient
    from wop_client.api.sites import (
        archive_site,
        create_site,
        get_site,
        import_sites,
        list_sites,
        update_site,
    )
    from wop_client.models import (
        Country,
        PatchedSiteUpdateRequest,
        Site,
        SiteAddressRequest,
        SiteCreateRequest,
        SiteImportReport,
        SiteImportRequest,
        SiteKind,
        SitePage,
    )
    from wop_client.types import File

    client = AuthenticatedClient(base_url=portal.base_url, token=portal.key, timeout=15)
    tag = uuid.uuid4().hex[:6].upper()
    region = create_site.sync(
        client=client,
        body=SiteCreateRequest(
            code=f"R-{tag}", name="Northeast", kind=SiteKind.REGION, time_zone="America/New_York"
        ),
    )
    assert isinstance(region, Site) and region.kind is SiteKind.REGION
    store = create_site.sync_detailed(
        client=client,
        body=SiteCreateRequest(
            code=f"S-{tag}",
            name="Store 12",
            kind=SiteKind.SITE,
            parent=region.id,
            address=SiteAddressRequest(line1="512 5th Ave", city="New York", country=Country.US),
            time_zone="America/New_York",
        ),
    )
    assert store.status_code == 201 and store.parsed.parent_code == f"R-{tag}"
    assert store.parsed.address.country is Country.US

    page = list_sites.sync(client=client, parent=region.id)
    assert isinstance(page, SitePage) and [s.code for s in page.results] == [f"S-{tag}"]

    etag = get_site.sync_detailed(store.parsed.id, client=client).headers["ETag"]
    renamed = update_site.sync(
        store.parsed.id,
        client=client,
        body=PatchedSiteUpdateRequest(name="Store 12b"),
        if_match=etag,
    )
    assert renamed.name == "Store 12b" and renamed.version == 2

    report = import_sites.sync(
        client=client,
        body=SiteImportRequest(
            sites=[
                SiteCreateRequest(
                    code=f"B-{tag}",
                    name="Building A",
                    kind=SiteKind.BUILDING,
                    parent_code=f"S-{tag}",
                    time_zone="America/New_York",
                )
            ]
        ),
    )
    assert isinstance(report, SiteImportReport)
    assert (report.created, report.updated, report.refused) == (1, 0, [])
    csv_file = f"code,name,kind,parent_code,time_zone\nB-{tag},Building A1,building,S-{tag},UTC\n"
    from_csv = import_sites.sync(
        client=client,
        body=File(
            payload=io.BytesIO(csv_file.encode()), file_name="sites.csv", mime_type="text/csv"
        ),
    )
    assert (from_csv.created, from_csv.updated, from_csv.refused) == (0, 1, [])

    # Cleaned up as far as sites ever are: archived, leaves first.
    building = list_sites.sync(client=client, code=f"B-{tag}").results[0]
    for site_id in (building.id, store.parsed.id, region.id):
        assert archive_site.sync(site_id, client=client).archived


def test_a_generated_client_creates_lists_and_retires_assets(portal, generated):
    from wop_client import AuthenticatedClient
    from wop_client.api.assets import (
        create_asset,
        get_asset,
        list_assets,
        reinstate_asset,
        retire_asset,
        update_asset,
    )
    from wop_client.api.sites import archive_site, create_site
    from wop_client.models import (
        Asset,
        AssetCreateRequest,
        AssetPage,
        AssetStatus,
        PatchedAssetUpdateRequest,
        SiteCreateRequest,
        SiteKind,
    )

    client = AuthenticatedClient(base_url=portal.base_url, token=portal.key, timeout=15)
    tag = uuid.uuid4().hex[:6].upper()
    store = create_site.sync(
        client=client,
        body=SiteCreateRequest(
            code=f"AS-{tag}", name="Store 40", kind=SiteKind.SITE, time_zone="Europe/Madrid"
        ),
    )
    created = create_asset.sync_detailed(
        client=client,
        body=AssetCreateRequest(
            code=f"RTU-{tag}",
            name="Rooftop unit 1",
            site_code=f"AS-{tag}",
            category="Rooftop unit",
            installed_on=date(2021, 5, 14),
        ),
    )
    assert created.status_code == 201 and isinstance(created.parsed, Asset)
    asset = created.parsed
    assert asset.site == store.id and asset.site_name == "Store 40"
    assert asset.status is AssetStatus.IN_SERVICE and asset.installed_on == date(2021, 5, 14)
    assert asset.links.site.endswith(f"/v1/sites/{store.id}")

    page = list_assets.sync(client=client, site=store.id, category="rooftop unit")
    assert isinstance(page, AssetPage) and [a.code for a in page.results] == [f"RTU-{tag}"]

    etag = get_asset.sync_detailed(asset.id, client=client).headers["ETag"]
    down = update_asset.sync(
        asset.id,
        client=client,
        body=PatchedAssetUpdateRequest(status=AssetStatus.DOWN),
        if_match=etag,
    )
    assert down.status is AssetStatus.DOWN and down.version == 2

    retired = retire_asset.sync(asset.id, client=client)
    assert retired.status is AssetStatus.RETIRED and retired.version == 3
    assert list_assets.sync(client=client, site=store.id).results == []
    listed = list_assets.sync(client=client, site=store.id, status=AssetStatus.RETIRED)
    assert [a.id for a in listed.results] == [asset.id]
    assert reinstate_asset.sync(asset.id, client=client).status is AssetStatus.IN_SERVICE

    # Cleaned up as far as assets and sites ever are: retired, then the site archived.
    assert retire_asset.sync(asset.id, client=client).status is AssetStatus.RETIRED
    assert archive_site.sync(store.id, client=client).archived


def test_a_generated_client_plans_maintenance_and_points_an_order_at_an_asset(portal, generated):
    from wop_client import AuthenticatedClient
    from wop_client.api.assets import create_asset, retire_asset
    from wop_client.api.maintenance_plans import (
        archive_maintenance_plan,
        create_maintenance_plan,
        list_maintenance_plans,
        list_plan_occurrences,
        skip_plan_occurrence,
    )
    from wop_client.api.orders import create_order
    from wop_client.api.sites import archive_site, create_site
    from wop_client.models import (
        AssetCreateRequest,
        Category,
        MaintenancePlan,
        MaintenancePlanStateEnum,
        OrderCreateRequest,
        PlanCreateRequest,
        PlanOccurrenceSkipRequest,
        PlanOccurrenceStateEnum,
        PlanOrderTemplateRequest,
        SiteCreateRequest,
        SiteKind,
    )

    client = AuthenticatedClient(base_url=portal.base_url, token=portal.key, timeout=15)
    tag = uuid.uuid4().hex[:6].upper()
    store = create_site.sync(
        client=client,
        body=SiteCreateRequest(
            code=f"MP-{tag}", name="Store 50", kind=SiteKind.SITE, time_zone="Europe/Madrid"
        ),
    )
    asset = create_asset.sync(
        client=client,
        body=AssetCreateRequest(code=f"CH-{tag}", name="Chiller 1", site=store.id),
    )

    created = create_maintenance_plan.sync_detailed(
        client=client,
        body=PlanCreateRequest(
            name="Chiller service",
            asset_id=asset.id,
            recurrence="FREQ=MONTHLY;BYDAY=1MO",
            starts_on="2027-01-01",
            at="07:00",
            lead_days=3,
            order=PlanOrderTemplateRequest(title="Service the chiller", category=Category.HVAC),
        ),
    )
    assert created.status_code == 201 and isinstance(created.parsed, MaintenancePlan)
    plan = created.parsed
    assert plan.schedule == "Every month on the first Monday at 07:00"
    assert plan.state is MaintenancePlanStateEnum.ACTIVE
    assert plan.site.id == store.id and plan.asset.id == asset.id
    assert plan.next_due_at.isoformat().startswith("2027-01-04T06:00")  # 07:00 in Madrid

    listed = list_maintenance_plans.sync(client=client, asset=asset.id)
    assert [p.id for p in listed.results] == [plan.id]
    coming = list_plan_occurrences.sync(plan.id, client=client, limit=2).results
    assert [o.state for o in coming] == [PlanOccurrenceStateEnum.PLANNED] * 2
    skipped = skip_plan_occurrence.sync(
        plan.id,
        client=client,
        body=PlanOccurrenceSkipRequest(due_at=coming[1].due_at, reason="Closed for stocktaking"),
    )
    assert skipped.state is PlanOccurrenceStateEnum.SKIPPED

    order = create_order.sync(
        client=client,
        body=OrderCreateRequest(
            title="Chiller is noisy", category=Category.HVAC, asset_id=asset.id
        ),
    )
    assert order.site == "Store 50"  # the free-text site defaults to the site's name
    assert (order.site_ref.id, order.site_ref.code) == (store.id, f"MP-{tag}")
    assert (order.asset_ref.id, order.asset_ref.name) == (asset.id, "Chiller 1")
    assert order.maintenance is None

    # Cleaned up as far as they ever are: the plan archived, the order cancelled, the asset
    # retired, the site archived.
    assert archive_maintenance_plan.sync(plan.id, client=client).state is (
        MaintenancePlanStateEnum.ARCHIVED
    )
    requests.post(
        f"{portal.base_url}/v1/orders/{order.id}/transitions",
        json={"to": "cancelled", "reason": "test over"},
        headers=portal.auth,
        timeout=10,
    ).raise_for_status()
    assert retire_asset.sync(asset.id, client=client) is not None
    assert archive_site.sync(store.id, client=client).archived
