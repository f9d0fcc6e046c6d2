"""What an import will do, each row on its own (facilities.domain.import_plan)."""

from __future__ import annotations

import uuid

from facilities.domain.fields import clean_site
from facilities.domain.import_plan import COMPARED, StoredSite, plan_import
from facilities.domain.import_rows import ImportRow


def row(number: int, code: str, kind: str = "site", parent: str | None = None, **more) -> ImportRow:
    data = {"code": code, "name": f"Name {code}", "kind": kind, "time_zone": "UTC", **more}
    if parent is not None:
        data["parent_code"] = parent
    return ImportRow(row=number, data=data)


def stored(code: str, kind: str = "site", parent: str | None = None, *, archived=False):
    data = {"code": code, "name": f"Name {code}", "kind": kind, "time_zone": "UTC"}
    fields = {name: value for name, value in clean_site(data).items() if name in COMPARED}
    fields["parent_code"] = parent
    site_id = str(uuid.uuid5(uuid.NAMESPACE_URL, code))
    return StoredSite(id=site_id, code=code, version=1, archived=archived, fields=fields)


def by_code(*sites: StoredSite) -> dict[str, StoredSite]:
    return {site.code: site for site in sites}


def refused_rows(plan) -> dict[int, dict]:
    return {refusal.row: dict(refusal.errors) for refusal in plan.refused}


def test_new_changed_and_same_rows():
    plan = plan_import(
        [row(2, "NEW"), row(3, "SAME"), row(4, "MOVED", parent="R")],
        by_code(stored("SAME"), stored("MOVED"), stored("R", "region")),
    )
    assert [p.code for p in plan.creates] == ["NEW"]
    assert [p.code for p in plan.unchanged] == ["SAME"]
    assert [p.code for p in plan.updates] == ["MOVED"]
    assert plan.refused == []


def test_a_parent_later_in_the_file_is_created_first():
    plan = plan_import(
        [
            row(2, "FLOOR-1", "floor", parent="B"),
            row(3, "B", "building", parent="S"),
            row(4, "S", "site"),
        ],
        {},
    )
    assert [p.code for p in plan.creates] == ["S", "B", "FLOOR-1"]


def test_a_bad_row_is_refused_alone_with_its_field_named():
    plan = plan_import(
        [
            row(2, "OK"),
            row(3, "TZ", time_zone="Mars/Base"),
            ImportRow(4, {"code": "NONAME", "kind": "site", "time_zone": "UTC"}),
        ],
        {},
    )
    assert [p.code for p in plan.creates] == ["OK"]
    refused = refused_rows(plan)
    assert list(refused[3]) == ["time_zone"] and refused[4] == {"name": ["This field is required."]}
    assert [r.code for r in plan.refused] == ["TZ", "NONAME"]


def test_a_code_on_two_rows_refuses_both():
    plan = plan_import([row(2, "D"), row(3, "OK"), row(5, "D")], {})
    assert refused_rows(plan) == {
        2: {"code": ["D is on rows 2 and 5: give each site one row."]},
        5: {"code": ["D is on rows 2 and 5: give each site one row."]},
    }


def test_an_unknown_parent_and_the_children_of_a_refused_parent():
    plan = plan_import(
        [row(2, "S", parent="NOWHERE"), row(3, "R", "region", name=""), row(4, "S2", parent="R")],
        {},
    )
    refused = refused_rows(plan)
    assert "No site of yours has the code NOWHERE" in refused[2]["parent_code"][0]
    assert refused[4] == {
        "parent_code": ["Its parent R (row 3) was refused, and no stored site has that code."]
    }


def test_a_refused_parent_row_that_is_stored_still_takes_its_children():
    plan = plan_import(
        [row(2, "R", "region", name=""), row(3, "S", parent="R")], by_code(stored("R", "region"))
    )
    assert [p.code for p in plan.creates] == ["S"] and list(refused_rows(plan)) == [2]


def test_a_loop_among_the_rows_is_refused():
    plan = plan_import([row(2, "A", "region", parent="B"), row(3, "B", "region", parent="A")], {})
    refused = refused_rows(plan)
    assert (
        refused[2]
        == refused[3]
        == {"parent_code": ["The rows' parents go round in a loop: A → B → A."]}
    )
    itself = plan_import([row(2, "A", parent="A")], {})
    assert "loop: A → A" in refused_rows(itself)[2]["parent_code"][0]


def test_a_loop_through_stored_sites_is_refused():
    # Stored: the building B is under the site S. The file puts S under B.
    plan = plan_import(
        [row(2, "S", "site", parent="B")], by_code(stored("S"), stored("B", "building", "S"))
    )
    assert "own ancestor" in refused_rows(plan)[2]["parent_code"][0]


def test_a_parent_of_the_wrong_kind_or_archived():
    plan = plan_import(
        [row(2, "F", "floor", parent="R"), row(3, "S", parent="OLD")],
        by_code(stored("R", "region"), stored("OLD", "region", archived=True)),
    )
    refused = refused_rows(plan)
    assert "A floor may only be under a site or a building" in refused[2]["parent_code"][0]
    assert refused[3] == {"parent_code": ["Its parent OLD is archived: restore it first."]}


def test_an_archived_site_is_not_imported_over():
    plan = plan_import([row(2, "GONE")], by_code(stored("GONE", archived=True)))
    assert "archived" in refused_rows(plan)[2]["code"][0]


def test_a_parent_by_id_must_be_one_of_the_stored_sites():
    region = stored("R", "region")
    known = {"code": "S", "name": "S", "kind": "site", "time_zone": "UTC", "parent": region.id}
    plan = plan_import([ImportRow(2, known)], by_code(region))
    assert [(p.code, p.fields["parent_code"]) for p in plan.creates] == [("S", "R")]
    unknown = {**known, "parent": str(uuid.uuid4())}
    plan = plan_import([ImportRow(2, unknown)], by_code(region))
    assert refused_rows(plan)[2] == {"parent": ["No site of yours has this id."]}


def test_a_kind_change_that_would_strand_stored_children_is_refused_and_they_stay():
    # Stored: site S with a building B under it. The file makes S a region, and moves B
    # under a region too (refused: a building is under a site): S must stay a site.
    plan = plan_import(
        [row(2, "S", "region"), row(3, "B", "building", parent="R")],
        by_code(stored("S"), stored("B", "building", "S"), stored("R", "region")),
    )
    refused = refused_rows(plan)
    assert "cannot be under a region" in refused[2]["kind"][0]
    assert "A building may only be under a site" in refused[3]["parent_code"][0]


def test_a_kind_change_whose_children_move_away_in_the_same_file_is_fine():
    plan = plan_import(
        [row(2, "S", "region"), row(3, "B", "building", parent="S2"), row(4, "S2")],
        by_code(stored("S"), stored("B", "building", "S")),
    )
    assert plan.refused == []
    assert [p.code for p in plan.updates] == ["S", "B"] or {p.code for p in plan.updates} == {
        "S",
        "B",
    }
