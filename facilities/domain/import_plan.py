"""What an import will do, decided before anything is written: which rows create a site,
which change one, which change nothing and which are refused, and why.

Each row stands alone: a bad row is refused, the others go ahead. A row is refused when its
own fields break a rule (``clean_site``), when its code appears on another row of the file
too (both are refused: which one was meant is unknowable), when its site is archived, or
when its parent cannot take it: unknown, refused itself (and not stored), archived, of a kind
it cannot hang under, or a loop back to the row. Parents are resolved by code, against the
stored sites and the file's other rows, parents before children whatever their order in the
file. A row that changes a stored site's kind is refused if sites stored under it could not
hang under the new kind; its children's rows then fall back to the stored parent, and the
plan is made again until nothing more is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kernel.errors import ValidationError

from .fields import clean_site
from .import_rows import ImportRow
from .kinds import MAX_HOPS, children_problem, cycle_problem, parent_problem

#: The fields an import compares with the stored site to tell a change from none.
COMPARED: tuple[str, ...] = (
    "name",
    "kind",
    "parent_code",
    "address",
    "time_zone",
    "access_hours",
    "contacts",
)


@dataclass(frozen=True)
class StoredSite:
    """A stored site as the plan sees it: ``fields`` holds :data:`COMPARED`."""

    id: str
    code: str
    version: int
    archived: bool
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class PlannedSite:
    """An accepted row: the site's code, its fields (:data:`COMPARED`), the stored site."""

    row: int
    code: str
    fields: Mapping[str, Any]
    stored: StoredSite | None


@dataclass(frozen=True)
class Refusal:
    row: int
    code: str | None
    errors: Mapping[str, list[str]]


@dataclass
class ImportPlan:
    creates: list[PlannedSite] = field(default_factory=list)  # parents before children
    updates: list[PlannedSite] = field(default_factory=list)
    unchanged: list[PlannedSite] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)  # by row


@dataclass
class _Candidate:
    row: int
    code: str
    fields: dict[str, Any]
    parent_field: str  # where the row named its parent: "parent_code" or "parent"


def plan_import(rows: Sequence[ImportRow], stored: Mapping[str, StoredSite]) -> ImportPlan:
    """The plan for ``rows`` against the integrator's ``stored`` sites (by code)."""
    refusals: dict[int, dict[str, list[str]]] = {}
    candidates = _clean_rows(rows, stored, refusals)
    rows_by_code = _rows_by_code(rows)
    _refuse_duplicates(rows_by_code, candidates, refusals)
    forced: dict[int, dict[str, list[str]]] = {}
    while True:
        accepted, refused = _resolve(
            [c for c in candidates if c.row not in forced], stored, rows_by_code
        )
        orphaning = _kind_changes_orphaning(accepted, stored)
        if not orphaning:
            break
        forced.update(orphaning)
    for errors in (refused, forced):
        for row, problems in errors.items():
            _merge(refusals, row, problems)
    return _plan(rows, accepted, stored, refusals)


def _clean_rows(
    rows: Sequence[ImportRow],
    stored: Mapping[str, StoredSite],
    refusals: dict[int, dict[str, list[str]]],
) -> list[_Candidate]:
    codes_by_id = {site.id: site.code for site in stored.values()}
    candidates = []
    for row in rows:
        errors = {name: list(problems) for name, problems in row.problems.items()}
        try:
            cleaned = clean_site(row.data)
        except ValidationError as exc:
            for name, problems in exc.errors.items():
                errors.setdefault(name, []).extend(problems)
            cleaned = None
        if cleaned is not None and not errors:
            parent_field, parent_code = "parent_code", cleaned["parent_code"]
            if cleaned["parent"] is not None:
                parent_field, parent_code = "parent", codes_by_id.get(cleaned["parent"])
                if parent_code is None:
                    errors["parent"] = ["No site of yours has this id."]
            site = stored.get(cleaned["code"])
            if site is not None and site.archived:
                errors["code"] = [
                    f"Your site {cleaned['code']} is archived: restore it before importing it."
                ]
        if errors:
            refusals[row.row] = errors
            continue
        fields = {name: cleaned[name] for name in COMPARED if name != "parent_code"}
        fields["parent_code"] = parent_code
        candidates.append(_Candidate(row.row, cleaned["code"], fields, parent_field))
    return candidates


def _rows_by_code(rows: Sequence[ImportRow]) -> dict[str, list[int]]:
    """The rows that name each code, good or bad."""
    rows_by_code: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if (code := _code_of(row)) is not None:
            rows_by_code[code].append(row.row)
    return rows_by_code


def _refuse_duplicates(
    rows_by_code: Mapping[str, list[int]],
    candidates: list[_Candidate],
    refusals: dict[int, dict[str, list[str]]],
) -> None:
    for code, numbers in rows_by_code.items():
        if len(numbers) < 2:
            continue
        problem = f"{code} is on rows {_some(numbers)}: give each site one row."
        for number in numbers:
            _merge(refusals, number, {"code": [problem]})
    candidates[:] = [c for c in candidates if c.row not in refusals]


#: Rows named in a message; more are counted (a code on 5,000 rows is not 5,000 numbers).
ROWS_NAMED = 5


def _some(numbers: Sequence[int]) -> str:
    if len(numbers) > ROWS_NAMED:
        shown = ", ".join(str(n) for n in numbers[:ROWS_NAMED])
        return f"{shown} and {len(numbers) - ROWS_NAMED} more"
    return ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"


def _resolve(
    candidates: list[_Candidate],
    stored: Mapping[str, StoredSite],
    rows_by_code: Mapping[str, list[int]],
) -> tuple[dict[str, _Candidate], dict[int, dict[str, list[str]]]]:
    """Accept or refuse each candidate, parents first; returns the accepted by code and the
    refused rows' problems."""
    by_code = {c.code: c for c in candidates}
    refused: dict[int, dict[str, list[str]]] = {}
    accepted: dict[str, _Candidate] = {}
    for cycle in _file_cycles(by_code):
        path = " → ".join([*cycle, cycle[0]])
        for code in cycle:
            candidate = by_code[code]
            refused[candidate.row] = {
                candidate.parent_field: [f"The rows' parents go round in a loop: {path}."]
            }

    def final_parent(code: str) -> str | None:
        if code in accepted:
            return accepted[code].fields["parent_code"]
        site = stored.get(code)
        return site.fields["parent_code"] if site is not None else None

    def chain_from(code: str) -> Iterator[str]:
        hops = 0
        current: str | None = code
        while current is not None and hops <= MAX_HOPS + 1:
            yield current
            current = final_parent(current)
            hops += 1

    for candidate in _parents_first(by_code):
        if candidate.row in refused:
            continue
        problem = _parent_problem(candidate, accepted, stored, rows_by_code, chain_from)
        if problem is not None:
            refused[candidate.row] = {candidate.parent_field: [problem]}
        else:
            accepted[candidate.code] = candidate
    return accepted, refused


def _parent_problem(
    candidate: _Candidate,
    accepted: Mapping[str, _Candidate],
    stored: Mapping[str, StoredSite],
    rows_by_code: Mapping[str, list[int]],
    chain_from: Callable[[str], Iterator[str]],
) -> str | None:
    parent = candidate.fields["parent_code"]
    if parent is None:
        return None
    if parent in accepted:
        parent_kind, parent_archived = accepted[parent].fields["kind"], False
    elif parent in stored:
        parent_kind, parent_archived = stored[parent].fields["kind"], stored[parent].archived
    elif parent in rows_by_code:
        rows = rows_by_code[parent]
        where = f"row {rows[0]}" if len(rows) == 1 else f"rows {_some(rows)}"
        return f"Its parent {parent} ({where}) was refused, and no stored site has that code."
    else:
        return f"No site of yours has the code {parent}, and no row of this file brings it."
    if (problem := cycle_problem(candidate.code, chain_from(parent))) is not None:
        return problem
    if parent_archived:
        return f"Its parent {parent} is archived: restore it first."
    return parent_problem(candidate.fields["kind"], parent_kind)


def _file_cycles(by_code: Mapping[str, _Candidate]) -> list[list[str]]:
    """Loops among the file's rows (following each row's parent while it is a row)."""
    done: set[str] = set()
    cycles = []
    for start in by_code:
        path: list[str] = []
        on_path: dict[str, int] = {}
        current: str | None = start
        while current is not None and current in by_code and current not in done:
            if current in on_path:
                cycles.append(path[on_path[current] :])
                break
            on_path[current] = len(path)
            path.append(current)
            current = by_code[current].fields["parent_code"]
        done.update(path)
    return cycles


def _parents_first(by_code: Mapping[str, _Candidate]) -> list[_Candidate]:
    """The candidates ordered so that a row's parent row comes before it (loops, refused
    already, wherever they fall)."""
    depth: dict[str, int] = {}
    for start in by_code:
        path = []
        current: str | None = start
        while current is not None and current in by_code and current not in depth:
            if current in path:
                break  # a loop: its rows are refused
            path.append(current)
            current = by_code[current].fields["parent_code"]
        base = depth.get(current, -1) if current is not None else -1
        for offset, code in enumerate(reversed(path), start=1):
            depth[code] = base + offset
    return sorted(by_code.values(), key=lambda c: (depth[c.code], c.row))


def _kind_changes_orphaning(
    accepted: Mapping[str, _Candidate], stored: Mapping[str, StoredSite]
) -> dict[int, dict[str, list[str]]]:
    """Accepted rows that change a stored site's kind while stored sites staying under it
    (not moved by an accepted row) could not hang under the new kind."""
    changing = {
        code: c
        for code, c in accepted.items()
        if code in stored and stored[code].fields["kind"] != c.fields["kind"]
    }
    if not changing:
        return {}
    staying: dict[str, list[str]] = defaultdict(list)
    for site in stored.values():
        parent = site.fields["parent_code"]
        if parent in changing and site.code not in accepted:
            staying[parent].append(site.fields["kind"])
    orphaning = {}
    for code, candidate in changing.items():
        if (problem := children_problem(candidate.fields["kind"], staying[code])) is not None:
            orphaning[candidate.row] = {"kind": [problem]}
    return orphaning


def _plan(
    rows: Sequence[ImportRow],
    accepted: Mapping[str, _Candidate],
    stored: Mapping[str, StoredSite],
    refusals: Mapping[int, dict[str, list[str]]],
) -> ImportPlan:
    plan = ImportPlan()
    for candidate in _parents_first(dict(accepted)):
        site = stored.get(candidate.code)
        planned = PlannedSite(candidate.row, candidate.code, candidate.fields, site)
        if site is None:
            plan.creates.append(planned)
        elif all(site.fields[name] == candidate.fields[name] for name in COMPARED):
            plan.unchanged.append(planned)
        else:
            plan.updates.append(planned)
    codes = {row.row: _code_of(row) for row in rows}
    plan.refused = [
        Refusal(row, codes.get(row), errors) for row, errors in sorted(refusals.items())
    ]
    return plan


def _code_of(row: ImportRow) -> str | None:
    code = row.data.get("code") if isinstance(row.data, Mapping) else None
    return code if isinstance(code, str) and code else None


def _merge(refusals: dict[int, dict[str, list[str]]], row: int, problems: Mapping) -> None:
    errors = refusals.setdefault(row, {})
    for name, messages in problems.items():
        errors.setdefault(name, []).extend(m for m in messages if m not in errors.get(name, []))
