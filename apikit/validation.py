"""A request body checked twice, reported once: the serializer states the shape the OpenAPI
document shows, the domain's rules (``rules(data, partial=...)``) everything beyond it. When
the shape is wrong, the rules still look at the fields the shape let through, so a caller
sees every problem of the body in one answer (a time zone of the right shape that no one has,
beside a missing name)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.serializers import Serializer

from kernel.errors import ValidationError

from .problems import flatten


def checked_body(
    serializer_class: type[Serializer],
    data: Any,
    *,
    rules: Callable[..., Any],
    partial: bool = False,
) -> dict[str, Any]:
    """The body as the serializer validates it; :class:`ValidationError` with the
    serializer's problems and the rules' (the serializer's first, field by field)."""
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return serializer.validated_data
    errors = flatten(serializer.errors)
    try:
        rules(data, partial=partial)
    except ValidationError as exc:
        for field, problems in exc.errors.items():
            errors.setdefault(field, problems)
    raise ValidationError(errors)
