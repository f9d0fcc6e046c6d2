"""The shapes of text several contexts accept alike: an integrator's own reference (an order's
``external_reference``, a site's ``code``) and an email address. One rule each, so that a
store id an integrator uses for a site is also a valid reference on its orders."""

from __future__ import annotations

import re

#: Longest reference an integrator may give (an order's external reference, a site's code).
REFERENCE_MAX = 100
# \Z, not $: "$" also matches before a trailing newline.
REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*\Z")
REFERENCE_PROBLEM = (
    f"Use 1 to {REFERENCE_MAX} letters, digits or . _ : / - (starting with a letter or digit; "
    "no spaces or line breaks)."
)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")


def reference_problem(value: str) -> str | None:
    """Why ``value`` is not a reference (``None`` if it is)."""
    if not value or len(value) > REFERENCE_MAX or not REFERENCE_PATTERN.match(value):
        return REFERENCE_PROBLEM
    return None
