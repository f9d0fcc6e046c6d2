"""What a log line is about: the request, order, event and queue being handled right now.

Values live in context variables, so threads (gunicorn gthread, Celery's thread pool) and
nested calls each see their own. ``bind`` sets them for a block; ``portal.logs`` adds them to
every record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

FIELDS = ("request_id", "order_id", "event_id", "queue")

_context: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"log_{name}", default=None) for name in FIELDS
}


def current() -> dict[str, str]:
    return {name: value for name, var in _context.items() if (value := var.get()) is not None}


_bound: ContextVar[bool] = ContextVar("log_bound", default=False)


def set_field(name: str, value: str | None) -> None:
    """Set one field until the surrounding ``bind`` block ends (e.g. a new order's id).
    Outside any block it does nothing, so nothing lingers on a thread after its work."""
    if _bound.get():
        _context[name].set(value)


@contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Attach fields to every log line written inside the block; restored afterwards."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown log fields: {sorted(unknown)}")
    tokens = {name: _context[name].set(value) for name, value in fields.items()}
    bound = _bound.set(True)
    # Fields set inside the block with set_field are restored too.
    snapshot = {name: var.get() for name, var in _context.items() if name not in fields}
    try:
        yield
    finally:
        for name, value in snapshot.items():
            _context[name].set(value)
        for name, token in tokens.items():
            _context[name].reset(token)
        _bound.reset(bound)
