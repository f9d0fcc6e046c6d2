"""Reading an import into rows numbered as a person counts them (facilities.domain.import_rows)."""

from __future__ import annotations

import pytest

from facilities.domain.import_rows import TooManyRows, rows_from_csv, rows_from_json
from kernel.errors import ValidationError

HEADER = "code,name,kind,parent_code,line1,line2,city,region,postal_code,country,time_zone\n"


def test_the_first_site_is_row_2_and_blank_lines_still_count():
    text = (
        HEADER
        + "R1,North,region,,,,,,,,UTC\n"
        + "\n"
        + "S1,Store 1,site,R1,1 Main St,,Boston,MA,02110,US,America/New_York\n"
    )
    first, second = rows_from_csv(text, max_rows=10)
    assert first.row == 2 and second.row == 4
    assert first.data == {"code": "R1", "name": "North", "kind": "region", "time_zone": "UTC"}
    assert second.data["parent_code"] == "R1"
    assert second.data["address"] == {
        "line1": "1 Main St",
        "city": "Boston",
        "region": "MA",
        "postal_code": "02110",
        "country": "US",
    }


def test_columns_in_any_order_and_case_quoted_cells_and_json_cells():
    text = (
        "Name , CODE,kind,time_zone,access_hours,contacts\r\n"
        '"Store 12, 5th Ave",S-12,site,UTC,"[{""days"": [""mon""], ""opens"": ""08:00"", '
        '""closes"": ""18:00""}]","[{""name"": ""Dana""}]"\r\n'
    )
    (row,) = rows_from_csv(text, max_rows=10)
    assert row.data["name"] == "Store 12, 5th Ave" and row.data["code"] == "S-12"
    assert row.data["access_hours"] == [{"days": ["mon"], "opens": "08:00", "closes": "18:00"}]
    assert row.data["contacts"] == [{"name": "Dana"}]


def test_a_cell_that_is_not_json_and_cells_past_the_header_are_the_rows_problems():
    text = "code,name,kind,time_zone,contacts\nS1,A,site,UTC,[{oops\nS2,B,site,UTC,,extra\n"
    bad_json, extra = rows_from_csv(text, max_rows=10)
    assert list(bad_json.problems) == ["contacts"]
    assert extra.problems == {"row": ["It has 6 cells; the header names 5 columns."]}


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("code,nmae,kind,time_zone", "Unknown column 'nmae'. Did you mean 'name'?"),
        ("code,name,kind,time_zone,name", "The column 'name' is named twice."),
        ("code,name,kind", "Missing column(s): time_zone."),
    ],
)
def test_a_bad_header_refuses_the_file_naming_the_header(header, said):
    with pytest.raises(ValidationError) as refused:
        rows_from_csv(header + "\n", max_rows=10)
    assert said in refused.value.errors["header"]


def test_an_empty_file_or_bad_csv_is_refused_as_a_whole():
    with pytest.raises(ValidationError) as empty:
        rows_from_csv("", max_rows=10)
    assert list(empty.value.errors) == ["body"]
    with pytest.raises(ValidationError) as broken:
        rows_from_csv('code,name,kind,time_zone\nS1,"unclosed,site,UTC\n', max_rows=10)
    assert "not valid CSV" in broken.value.errors["body"][0]


def test_more_rows_than_allowed_is_too_many_for_both_formats():
    text = HEADER + "".join(f"S{i},Store,site,,,,,,,,UTC\n" for i in range(4))
    assert len(rows_from_csv(text, max_rows=4)) == 4
    with pytest.raises(TooManyRows):
        rows_from_csv(text, max_rows=3)
    with pytest.raises(TooManyRows):
        rows_from_json({"sites": [{}] * 4}, max_rows=3)


def test_json_rows_are_the_sites_positions_from_1():
    rows = rows_from_json({"sites": [{"code": "A"}, "not a site"]}, max_rows=10)
    assert [(r.row, r.data) for r in rows] == [(1, {"code": "A"}), (2, "not a site")]


@pytest.mark.parametrize(
    ("document", "errors"),
    [
        ([], {"body": ["Must be an object, not an array."]}),
        ({}, {"sites": ["This field is required."]}),
        ({"sites": {}}, {"sites": ["Must be an array, not an object."]}),
        ({"sites": [], "site": []}, {"site": ["Unknown field. Did you mean 'sites'?"]}),
    ],
)
def test_a_json_body_that_is_not_an_import_is_refused_as_a_whole(document, errors):
    with pytest.raises(ValidationError) as refused:
        rows_from_json(document, max_rows=10)
    assert refused.value.errors == errors
