"""Input validation: what text can be kept, what a new order may say, and a move's reason.

The limits are public because the API's serializers and the admin's forms show the same
ones. Refusals are :class:`~orders.domain.errors.ValidationError` keyed by field, so the
adapters can point at the field to fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kernel.formats import EMAIL_PATTERN, REFERENCE_MAX, REFERENCE_PATTERN, REFERENCE_PROBLEM
from kernel.text import text_problem

from ..errors import ValidationError
from ..model import CATEGORIES, Contact, Priority, TimeWindow

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
SITE_MAX = 300
REASON_MAX = 500
CONTACT_FIELD_MAX = 200
METADATA_MAX_BYTES = 4096
METADATA_MAX_KEYS = 50
#: Levels of objects and arrays in metadata, the metadata object itself being the first.
METADATA_MAX_DEPTH = 10
#: The free-text site is needed only when the order names none of the integrator's places.
SITE_REQUIRED = "This field is required unless site_id or asset_id is given."


@dataclass(frozen=True)
class OrderInput:
    """What a caller may say about a new order (everything else the system decides)."""

    title: str
    category: str
    priority: str = Priority.NORMAL
    site: str = ""
    external_reference: str | None = None
    description: str = ""
    contact: Contact | None = None
    requested_window: TimeWindow | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


def validate_input(data: OrderInput, *, site_default: str | None = None) -> OrderInput:
    """Check every field, collecting all problems so the caller can fix them in one go.

    ``site_default``: what an empty ``site`` becomes, for an order that names a site of the
    integrator's by id (the site's name); ``None``: the free-text site is required."""
    errors: dict[str, list[str]] = {}

    def problem(field_name: str, message: str) -> None:
        errors.setdefault(field_name, []).append(message)

    text_fields = _text_fields(data)
    wrong_type = [name for name, value in text_fields if not isinstance(value, str)]
    if wrong_type:  # the checks below assume strings
        raise ValidationError({name: ["Must be a string."] for name in wrong_type})
    for name, value in text_fields:
        if (reason := text_problem(value)) is not None:
            problem(name, reason)
    title = (data.title or "").strip()
    if not title:
        problem("title", "This field is required.")
    elif len(title) > TITLE_MAX:
        problem("title", f"Ensure this field has no more than {TITLE_MAX} characters.")
    if len(data.description or "") > DESCRIPTION_MAX:
        problem("description", f"Ensure this field has no more than {DESCRIPTION_MAX} characters.")
    if data.category not in CATEGORIES:
        problem(
            "category", f"{data.category!r} is not a category; use one of {', '.join(CATEGORIES)}."
        )
    if data.priority not in Priority.__members__.values():
        problem(
            "priority",
            f"{data.priority!r} is not a priority; use one of {', '.join(Priority)}.",
        )
    site = (data.site or "").strip()
    if not site and site_default is None:
        problem("site", SITE_REQUIRED)
    elif not site:
        site = site_default.strip()
    if len(site) > SITE_MAX:
        problem("site", f"Ensure this field has no more than {SITE_MAX} characters.")
    ref = data.external_reference
    if ref is not None and (
        not ref or len(ref) > REFERENCE_MAX or not REFERENCE_PATTERN.match(ref)
    ):
        problem("external_reference", REFERENCE_PROBLEM)
    if data.contact is not None:
        for name in ("name", "phone", "email"):
            if len(getattr(data.contact, name)) > CONTACT_FIELD_MAX:
                problem(
                    f"contact.{name}",
                    f"Ensure this field has no more than {CONTACT_FIELD_MAX} characters.",
                )
        if data.contact.email and not EMAIL_PATTERN.match(data.contact.email):
            problem("contact.email", "Enter a valid email address.")
    window = data.requested_window
    if window is not None:
        if window.start.tzinfo is None or window.end.tzinfo is None:
            problem("requested_window", "Times must include a time zone offset.")
        elif window.end <= window.start:
            problem("requested_window.end", "Must be after the start.")
    _validate_metadata(data.metadata, problem)
    if errors:
        raise ValidationError(errors)
    return OrderInput(
        title=title,
        category=data.category,
        priority=Priority(data.priority),
        site=site,
        external_reference=ref,
        description=data.description or "",
        contact=data.contact,
        requested_window=window,
        metadata=dict(data.metadata or {}),
    )


def _text_fields(data: OrderInput) -> list[tuple[str, Any]]:
    """The order's own text fields that were given (``None`` means "not given")."""
    fields = [
        ("title", data.title),
        ("site", data.site),
        ("description", data.description),
        ("external_reference", data.external_reference),
    ]
    if data.contact is not None:
        fields += [(f"contact.{n}", getattr(data.contact, n)) for n in ("name", "phone", "email")]
    return [(name, value) for name, value in fields if value is not None]


def _validate_metadata(metadata: Any, problem: Callable[[str, str], None]) -> None:
    """Report through ``problem`` what keeps ``metadata`` from being stored as a small JSON
    object (first the shape, then the size, which is only measured once it is safe to)."""
    if not isinstance(metadata, Mapping):
        problem("metadata", "Must be a JSON object.")
        return
    if len(metadata) > METADATA_MAX_KEYS:
        problem("metadata", f"Use at most {METADATA_MAX_KEYS} keys.")
    content_problems = list(_metadata_content_problems(metadata, "metadata", depth=1))
    for message in content_problems:
        problem("metadata", message)
    if content_problems:
        return  # too deep to measure safely, or text that cannot be encoded
    try:
        size = len(json.dumps(metadata, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError):
        problem("metadata", "Must contain only JSON values.")
        return
    if size > METADATA_MAX_BYTES:
        problem("metadata", f"Must be at most {METADATA_MAX_BYTES} bytes as JSON (is {size}).")


def _metadata_content_problems(value: Any, path: str, *, depth: int) -> Iterable[str]:
    """Nesting beyond :data:`METADATA_MAX_DEPTH` and text that cannot be kept, each with the
    path where it is (``metadata.a[0].b``); stops descending at the depth limit."""
    if isinstance(value, str):
        if (reason := text_problem(value)) is not None:
            yield f"{path}: {reason}"
        return
    if not isinstance(value, Mapping | list | tuple):
        return
    if depth > METADATA_MAX_DEPTH:
        yield f"Nest at most {METADATA_MAX_DEPTH} levels of objects and arrays ({path} is deeper)."
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and (reason := text_problem(key)) is not None:
                yield f"A key in {path}: {reason}"
                continue
            yield from _metadata_content_problems(item, f"{path}.{key}", depth=depth + 1)
    else:
        for index, item in enumerate(value):
            yield from _metadata_content_problems(item, f"{path}[{index}]", depth=depth + 1)


def clean_reason(reason: Any, *, field_name: str = "reason") -> str | None:
    """A move's reason, stripped (``None`` if empty); refused if not text or too long."""
    if reason is not None and not isinstance(reason, str):
        raise ValidationError({field_name: ["Must be a string."]})
    if reason is not None and (problem := text_problem(reason)) is not None:
        raise ValidationError({field_name: [problem]})
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        raise ValidationError(
            {field_name: [f"Ensure this field has no more than {REASON_MAX} characters."]}
        )
    return reason
