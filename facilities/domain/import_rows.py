"""Reading an import: a CSV file or a JSON document into rows, each numbered as a person
counts it in the file (CSV: the header is row 1, so the first site is row 2; JSON: the
site's position in ``sites``, from 1). Only the file's shape is refused here (an unknown or
missing column, too many rows); what a row says is the plan's business (``import_plan``)."""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kernel.errors import DomainError, ValidationError
from kernel.text import json_type

from .fields import ADDRESS_PARTS, unknown_field_problem

#: The columns a CSV file may have, in the order a template lists them.
CSV_COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "kind",
    "parent_code",
    *ADDRESS_PARTS,
    "time_zone",
    "access_hours",
    "contacts",
)
CSV_REQUIRED_COLUMNS: tuple[str, ...] = ("code", "name", "kind", "time_zone")
#: Cells that hold JSON (an array), as the API's fields of the same name.
JSON_COLUMNS: tuple[str, ...] = ("access_hours", "contacts")


class TooManyRows(DomainError):
    """More rows than one request may import: split the file."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(
            f"The import has more than {limit} sites; send at most {limit} per request."
        )


@dataclass(frozen=True)
class ImportRow:
    """One row: where it is in the file, what it says (what ``clean_site`` takes) and what
    was wrong with it already while reading (a cell that is not JSON, cells past the last
    column)."""

    row: int
    data: Any
    problems: Mapping[str, list[str]] = field(default_factory=dict)


def rows_from_json(document: Any, *, max_rows: int) -> list[ImportRow]:
    """``{"sites": [...]}``, each site the shape ``POST /v1/sites`` takes."""
    if not isinstance(document, Mapping):
        raise ValidationError({"body": [f"Must be an object, not {json_type(document)}."]})
    errors = {
        str(name): [unknown_field_problem(name, ("sites",))] for name in document if name != "sites"
    }
    sites = document.get("sites")
    if "sites" not in document:
        errors["sites"] = ["This field is required."]
    elif not isinstance(sites, list):
        errors["sites"] = [f"Must be an array, not {json_type(sites)}."]
    if errors:
        raise ValidationError(errors)
    if len(sites) > max_rows:
        raise TooManyRows(max_rows)
    return [ImportRow(row=index, data=site) for index, site in enumerate(sites, start=1)]


def rows_from_csv(text: str, *, max_rows: int) -> list[ImportRow]:
    """A CSV file with a header row naming its columns (any order, any case; see
    :data:`CSV_COLUMNS`). Cells are trimmed; an empty cell is a value not given. Blank lines
    are skipped but counted, so row numbers stay those of the file."""
    records = _records(text)
    header = next(records, None)
    if header is None or not any(cell.strip() for cell in header):
        raise ValidationError(
            {"body": ["The file is empty: send a header row naming the columns, then the sites."]}
        )
    columns = _columns(header)
    rows: list[ImportRow] = []
    for number, cells in enumerate(records, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) == max_rows:
            raise TooManyRows(max_rows)
        rows.append(_row(number, columns, cells))
    return rows


def _records(text: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a stray quote, a cell over csv's 128 KiB limit
            raise ValidationError(
                {"body": [f"The file is not valid CSV (line {reader.line_num}): {exc}."]}
            ) from None
        yield cells


def _columns(header: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in header]
    problems = []
    for name in names:
        if name not in CSV_COLUMNS:
            close = difflib.get_close_matches(name, CSV_COLUMNS, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            problems.append(f"Unknown column '{name}'.{hint}")
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"The column '{name}' is named twice.")
    missing = [name for name in CSV_REQUIRED_COLUMNS if name not in names]
    if missing:
        problems.append(f"Missing column(s): {', '.join(missing)}.")
    if problems:
        problems.append(f"The columns are: {', '.join(CSV_COLUMNS)}.")
        raise ValidationError({"header": problems})
    return names


def _row(number: int, columns: list[str], cells: list[str]) -> ImportRow:
    problems: dict[str, list[str]] = {}
    extra = [cell for cell in cells[len(columns) :] if cell.strip()]
    if extra:
        problems["row"] = [f"It has {len(cells)} cells; the header names {len(columns)} columns."]
    data: dict[str, Any] = {}
    address: dict[str, str] = {}
    for name, cell in zip(columns, cells, strict=False):
        value = cell.strip()
        if not value:
            continue  # not given: the rule for a missing value applies
        if name in ADDRESS_PARTS:
            address[name] = value
        elif name in JSON_COLUMNS:
            try:
                data[name] = json.loads(value)
            except ValueError as exc:
                problems[name] = [f"Must be JSON (an array), as in the API: {exc}."]
        else:
            data[name] = value
    if address:
        data["address"] = address
    return ImportRow(row=number, data=data, problems=problems)
