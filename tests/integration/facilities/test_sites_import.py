"""Importing sites by the thousand: CSV or JSON, each row on its own, upserted by code, bad rows
reported by row number as a person counts them; a parent may come after its children."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid

import pytest

from facilities.models import Site

from .conftest import REGION, STORE, send

COLUMNS = ["code", "name", "kind", "parent_code", "line1", "city", "country", "time_zone"]
#: The bad rows of the big file, by row number (the header is row 1), and what each says
#: wrong: all floors, so that no other row needs them.
BAD = {
    7: {"time_zone": "Mars/Olympus_Mons"},
    111: {"parent_code": "NO-SUCH-BUILDING"},
    512: {"code": "DUPLICATE"},
    877: {"code": "DUPLICATE"},
    999: {"name": ""},
}


def big_file() -> tuple[str, int]:
    """2,000 sites: 1,000 floors, 500 buildings, 490 stores and 10 regions, in that order
    (every child before its parent); the rows of :data:`BAD` broken. And the good rows'
    count."""
    rows = [(f"F-{i:04d}", f"Floor {i % 2 + 1}", "floor", f"B-{i // 2:04d}") for i in range(1000)]
    rows += [(f"B-{i:04d}", f"Building {i}", "building", f"S-{i % 490:04d}") for i in range(500)]
    rows += [(f"S-{i:04d}", f"Store {i}", "site", f"R-{i % 10:02d}") for i in range(490)]
    rows += [(f"R-{i:02d}", f"Region {i}", "region", "") for i in range(10)]
    records = []
    for number, (code, name, kind, parent) in enumerate(rows, start=2):
        store = kind == "site"
        records.append(
            {
                "code": code,
                "name": name,
                "kind": kind,
                "parent_code": parent,
                "line1": f"{number} Main St" if store else "",
                "city": "Boston" if store else "",
                "country": "US" if store else "",
                "time_zone": "America/New_York",
                **BAD.get(number, {}),
            }
        )
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue(), len(records) - len(BAD)


def import_csv(client, text: str, **headers):
    return client.post("/v1/sites/import", data=text.encode(), content_type="text/csv", **headers)


def test_a_2000_site_csv_stores_the_good_rows_and_reports_exactly_the_bad(sites, capsys):
    text, good = big_file()

    started = time.perf_counter()
    answer = import_csv(sites, text)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n2,000-row CSV import: {elapsed:.2f} s")

    assert answer.status_code == 200, answer.content
    report = answer.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (good, 0, 0)
    assert Site.objects.count() == good == 1995
    refused = {r["row"]: r for r in report["refused"]}
    assert list(refused) == sorted(BAD)
    assert [refused[row]["code"] for row in sorted(BAD)] == [
        "F-0005",
        "F-0109",
        "DUPLICATE",
        "DUPLICATE",
        "F-0997",
    ]
    assert list(refused[7]["errors"]) == ["time_zone"]
    assert "Mars/Olympus_Mons" in refused[7]["errors"]["time_zone"][0]
    assert "NO-SUCH-BUILDING" in refused[111]["errors"]["parent_code"][0]
    assert (
        refused[512]["errors"]
        == refused[877]["errors"]
        == {"code": ["DUPLICATE is on rows 512 and 877: give each site one row."]}
    )
    assert refused[999]["errors"] == {"name": ["This field is required."]}
    assert elapsed < 10, f"the import took {elapsed:.1f} s"

    again = import_csv(sites, text).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, good)
    assert again["refused"] == report["refused"]

    floor = Site.objects.select_related("parent__parent__parent").get(code="F-0000")
    assert floor.parent.code == "B-0000" and floor.parent.parent.code == "S-0000"
    assert floor.parent.parent.parent.code == "R-00"
    assert floor.parent.parent.city == "Boston" and floor.time_zone == "America/New_York"


def test_a_file_that_changes_every_site_writes_only_what_changed(sites):
    text, good = big_file()
    import_csv(sites, text)
    renamed = text.replace("Floor ", "Level ").replace("America/New_York", "America/Chicago")
    renamed = renamed.replace("F-0000,Level 1,floor,B-0000", "F-0000,Level 1,floor,B-0001")

    started = time.perf_counter()
    report = import_csv(sites, renamed).json()
    elapsed = time.perf_counter() - started

    assert (report["created"], report["updated"], report["unchanged"]) == (0, good, 0)
    assert elapsed < 10, f"the import took {elapsed:.1f} s"
    floor = Site.objects.select_related("parent").get(code="F-0000")
    assert (floor.name, floor.time_zone, floor.parent.code) == (
        "Level 1",
        "America/Chicago",
        "B-0001",
    )
    store = Site.objects.get(code="S-0001")
    assert (store.name, store.time_zone, store.city, store.version) == (
        "Store 1",
        "America/Chicago",
        "Boston",
        2,
    )
    assert set(Site.objects.values_list("version", flat=True)) == {2}


def test_the_children_of_a_refused_row_are_refused_saying_why(sites):
    text = (
        "code,name,kind,parent_code,time_zone\n"
        "B1,Building 1,building,S1,UTC\n"
        "S1,,site,,UTC\n"
        "F1,Floor 1,floor,B1,UTC\n"
    )
    report = import_csv(sites, text).json()
    assert report["created"] == 0
    assert [(r["row"], list(r["errors"])) for r in report["refused"]] == [
        (2, ["parent_code"]),
        (3, ["name"]),
        (4, ["parent_code"]),
    ]
    assert "Its parent S1 (row 3) was refused" in report["refused"][0]["errors"]["parent_code"][0]


def test_a_changed_row_updates_its_site_and_moves_its_version_on(sites, store):
    text = (
        "code,name,kind,parent_code,time_zone,city,country,contacts\n"
        "STORE-0012,Store 12 (renamed),site,REGION-NE,America/New_York,New York,US,"
        '"[{""name"": ""Dana Reyes"", ""role"": ""Store manager"", ""phone"": ""+1 555 0100""}]"\n'
    )
    report = import_csv(sites, text).json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 0)
    changed = sites.get(f"/v1/sites/{store['id']}").json()
    assert changed["name"] == "Store 12 (renamed)" and changed["version"] == 2
    # Columns a file leaves out are empty: it says what the site is, not what changes.
    assert changed["address"]["line1"] == "" and changed["access_hours"] == []


def test_a_json_import_with_a_parent_after_its_child(sites):
    body = {
        "sites": [
            {**STORE, "parent_code": "REGION-NE"},
            {**REGION},
            "not a site",
            {**REGION, "code": "R-BAD", "time_zone": "Nowhere/Town", "name": ""},
        ]
    }
    answer = send(sites, "post", "/v1/sites/import", body)
    assert answer.status_code == 200
    report = answer.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (2, 0, 0)
    assert [(r["row"], r["code"]) for r in report["refused"]] == [(3, None), (4, "R-BAD")]
    assert report["refused"][0]["errors"] == {"body": ["Must be an object, not a str."]}
    assert set(report["refused"][1]["errors"]) == {"time_zone", "name"}
    store = Site.objects.get(code="STORE-0012")
    assert store.parent.code == "REGION-NE" and store.access_hours == STORE["access_hours"]


def test_an_import_is_refused_whole_only_for_its_shape(sites):
    header = import_csv(sites, "code,nmae,kind\nS1,x,site\n")
    assert header.status_code == 400
    assert "Unknown column 'nmae'. Did you mean 'name'?" in header.json()["errors"]["header"]
    assert "Missing column(s): name, time_zone." in header.json()["errors"]["header"]
    empty = import_csv(sites, "\r\n")
    assert empty.status_code == 400 and list(empty.json()["errors"]) == ["body"]
    assert send(sites, "post", "/v1/sites/import", {"site": []}).status_code == 400
    other_type = sites.post("/v1/sites/import", data=b"x", content_type="text/plain")
    assert other_type.status_code == 415
    latin1 = sites.post(
        "/v1/sites/import", data=b"code\n", content_type="text/csv; charset=latin-1"
    )
    assert latin1.status_code == 415
    not_utf8 = sites.post("/v1/sites/import", data=b"code,name\n\xff\n", content_type="text/csv")
    assert not_utf8.status_code == 400
    assert not Site.objects.exists()


def test_a_csv_from_a_spreadsheet_with_its_byte_order_mark(sites):
    text = "\ufeffcode,name,kind,time_zone\r\nR1,North,region,UTC\r\n"
    assert import_csv(sites, text).json()["created"] == 1


def test_too_many_rows_or_bytes_is_a_413(sites, settings):
    settings.SITES_IMPORT_MAX_ROWS = 2
    text = "code,name,kind,time_zone\n" + "".join(f"R{i},R,region,UTC\n" for i in range(3))
    too_many = import_csv(sites, text)
    assert too_many.status_code == 413
    assert too_many.json()["type"].endswith(":too-many-rows") and too_many.json()["max_rows"] == 2
    as_json = {"sites": [REGION, REGION, REGION]}
    assert send(sites, "post", "/v1/sites/import", as_json).status_code == 413
    settings.API_BODY_LIMITS = {"/v1/sites/import": 50}
    assert import_csv(sites, text).status_code == 413
    assert not Site.objects.exists()


def test_the_import_takes_more_than_the_apis_usual_body(sites, settings):
    settings.API_MAX_BODY_BYTES = 1000
    text = "code,name,kind,time_zone\n" + "".join(
        f"R{i},Region {i},region,UTC\n" for i in range(100)
    )
    assert len(text) > 1000
    assert import_csv(sites, text).json()["created"] == 100
    assert send(sites, "post", "/v1/sites", {**REGION, "name": "x" * 1000}).status_code == 413


@pytest.mark.usefixtures("aws")
def test_an_import_with_an_idempotency_key_is_replayed(sites):
    key = {"HTTP_IDEMPOTENCY_KEY": f"import-{uuid.uuid4()}"}
    text = "code,name,kind,time_zone\nR1,North,region,UTC\n"
    first = import_csv(sites, text, **key)
    again = import_csv(sites, text, **key)
    assert first.json()["created"] == 1
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert json.loads(again.content)["unchanged"] == 0
