"""Importing many sites at once: every row planned first (``facilities.domain.import_plan``,
against one read of the integrator's stored sites), then written in chunks, each its own
short transaction — one ``bulk_create`` for new sites; for changed ones, only the columns they
change, a statement per column — never one transaction for the whole file that a bad row would
roll back, nor a round trip per row.

New sites are written parents first, then the changed ones. A chunk whose bulk write fails
(a code another request took meanwhile) is written again row by row, and only the rows that
fail are refused. A stored site that changed after the import read it (another request, a
staff edit) is refused rather than overwritten: import it again.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from facilities.domain.import_plan import PlannedSite, Refusal, plan_import
from facilities.domain.import_rows import ImportRow
from facilities.models import ADDRESS_COLUMNS, Site
from facilities.selectors import stored_sites
from facilities.services import take_turn
from integrators.models import Integrator

#: Sites per transaction: big enough that 2,000 rows are a handful of statements, small
#: enough that a transaction (and the integrator's turn) stays short.
CHUNK = 500
#: Sites per UPDATE statement of Django's ``bulk_update`` (a ``CASE`` branch per site).
UPDATE_BATCH = 100
#: A changed column with at most this many different new values is written with one
#: ``UPDATE … WHERE id IN (…)`` per value (a time zone, a country, a parent), cheaper than
#: ``bulk_update``, whose ``CASE`` costs Django about a millisecond per site and column.
FEW_VALUES = 8
#: What an import may change on a stored site: the rules' fields → the model's fields.
FIELD_COLUMNS = {
    "name": "name",
    "kind": "kind",
    "time_zone": "time_zone",
    "access_hours": "access_hours",
    "contacts": "contacts",
}


@dataclass
class ImportReport:
    """What an import did: sites created, changed, found as the file says, and the rows
    refused with why (by row)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)


def import_sites(integrator: Integrator, rows: Sequence[ImportRow]) -> ImportReport:
    """Create or change the integrator's sites by code, each row on its own."""
    stored = stored_sites(integrator)
    plan = plan_import(rows, stored)
    report = ImportReport(unchanged=len(plan.unchanged), refused=list(plan.refused))
    ids = {code: site.id for code, site in stored.items()}
    ids.update({p.code: str(uuid.uuid4()) for p in plan.creates})
    writer = _Writer(integrator, ids, report)
    for chunk in _chunks(plan.creates):
        writer.create(chunk)
    for chunk in _chunks(plan.updates):
        writer.update(chunk)
    report.refused.sort(key=lambda refusal: refusal.row)
    return report


def _chunks(planned: list[PlannedSite]) -> Iterator[list[PlannedSite]]:
    for start in range(0, len(planned), CHUNK):
        yield planned[start : start + CHUNK]


class _Writer:
    """Writes the plan's chunks, refusing what cannot be written after all."""

    def __init__(self, integrator: Integrator, ids: dict[str, str], report: ImportReport):
        self.integrator = integrator
        self.ids = ids
        self.report = report
        #: Codes the plan accepted whose write was refused: their children are refused too.
        self.failed: set[str] = set()

    def create(self, chunk: list[PlannedSite]) -> None:
        chunk = [p for p in chunk if self._parent_written(p)]
        try:
            with transaction.atomic():
                take_turn(self.integrator.pk)
                Site.objects.bulk_create([self._new(p) for p in chunk])
            self.report.created += len(chunk)
        except IntegrityError:
            for planned in chunk:
                self._create_one(planned)

    def _create_one(self, planned: PlannedSite) -> None:
        if not self._parent_written(planned):
            return
        try:
            with transaction.atomic():
                take_turn(self.integrator.pk)
                self._new(planned).save(force_insert=True)
            self.report.created += 1
        except IntegrityError:
            self._refuse(
                planned,
                "code",
                f"Your site {planned.code} was created meanwhile by "
                "another request: import the file again to update it.",
            )

    def update(self, chunk: list[PlannedSite]) -> None:
        """Write only the columns each site changes (a file that renames every site writes
        one column), then move every written site's version on in one statement."""
        chunk = [p for p in chunk if self._parent_written(p)]
        with transaction.atomic():
            take_turn(self.integrator.pk)
            current = dict(
                Site.objects.filter(pk__in=[p.stored.id for p in chunk])
                .filter(archived_at__isnull=True)
                .values_list("pk", "version")
            )
            changes: dict[str, list[tuple[str, Any]]] = defaultdict(list)
            written = []
            for planned in chunk:
                if current.get(uuid.UUID(planned.stored.id)) != planned.stored.version:
                    self._refuse(
                        planned,
                        "code",
                        f"Your site {planned.code} changed while "
                        "the file was imported: import the file again.",
                    )
                    continue
                for column, value in self._changed_columns(planned).items():
                    changes[column].append((planned.stored.id, value))
                written.append(planned.stored.id)
            for column, values in changes.items():
                _write_column(column, values)
            Site.objects.filter(pk__in=written).update(
                version=F("version") + 1, updated_at=timezone.now()
            )
        self.report.updated += len(written)

    def _changed_columns(self, planned: PlannedSite) -> dict[str, Any]:
        """The model's fields the row changes, with their new values."""
        new, old = planned.fields, planned.stored.fields
        columns = {col: new[name] for name, col in FIELD_COLUMNS.items() if new[name] != old[name]}
        for part, column in ADDRESS_COLUMNS.items():
            if new["address"][part] != old["address"][part]:
                columns[column] = new["address"][part]
        if new["parent_code"] != old["parent_code"]:
            columns["parent"] = self._parent_id(planned)
        return columns

    def _parent_written(self, planned: PlannedSite) -> bool:
        parent = planned.fields["parent_code"]
        if parent is not None and parent in self.failed:
            self._refuse(planned, "parent_code", f"Its parent {parent} could not be written.")
            return False
        return True

    def _refuse(self, planned: PlannedSite, name: str, problem: str) -> None:
        self.failed.add(planned.code)
        self.report.refused.append(Refusal(planned.row, planned.code, {name: [problem]}))

    def _parent_id(self, planned: PlannedSite) -> str | None:
        parent = planned.fields["parent_code"]
        return self.ids[parent] if parent is not None else None

    def _new(self, planned: PlannedSite) -> Site:
        now = timezone.now()
        site = Site(
            id=self.ids[planned.code],
            integrator=self.integrator,
            code=planned.code,
            parent_id=self._parent_id(planned),
            created_at=now,
            updated_at=now,
        )
        self._fill(site, planned)
        return site

    @staticmethod
    def _fill(site: Site, planned: PlannedSite) -> None:
        fields = planned.fields
        site.name, site.kind, site.time_zone = fields["name"], fields["kind"], fields["time_zone"]
        site.address = fields["address"]
        site.access_hours, site.contacts = fields["access_hours"], fields["contacts"]


def _write_column(column: str, values: list[tuple[str, Any]]) -> None:
    """Set one column of these sites (``(id, value)``), in as few statements as it takes."""
    attname = Site._meta.get_field(column).attname
    by_value: dict[str, tuple[Any, list[str]]] = {}
    for site_id, value in values:
        key = json.dumps(value, sort_keys=True)
        by_value.setdefault(key, (value, []))[1].append(site_id)
    if len(by_value) <= FEW_VALUES:
        for value, ids in by_value.values():
            Site.objects.filter(pk__in=ids).update(**{attname: value})
        return
    sites = [Site(pk=site_id, **{attname: value}) for site_id, value in values]
    Site.objects.bulk_update(sites, [column], batch_size=UPDATE_BATCH)
