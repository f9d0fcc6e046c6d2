"""Row locks that work the same way on PostgreSQL and SQLite.

Deleting an endpoint races with status workers inserting its deliveries and dispatchers
inserting attempts of them. Each side first *claims* the rows it depends on with a write that
changes nothing: on PostgreSQL that takes the row's lock (and waits for whoever holds it), on
SQLite it takes the database's write lock before anything is read, so a transaction never
acts on what it read before another one committed. The count it returns says whether the
row still exists.
"""

from __future__ import annotations

from django.db.models import F, QuerySet


def claim(rows: QuerySet) -> int:
    """Lock ``rows`` for this transaction (call inside ``transaction.atomic``); how many
    there are."""
    pk = rows.model._meta.pk.name
    return rows.update(**{pk: F(pk)})
