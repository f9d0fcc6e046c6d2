"""One rule for an integrator's own references: an order's external reference and a site's
code (kernel.formats)."""

from __future__ import annotations

import pytest

from kernel.formats import REFERENCE_MAX, REFERENCE_PATTERN, REFERENCE_PROBLEM, reference_problem


@pytest.mark.parametrize(
    "value", ["S", "STORE-0012", "PO-2025/03-7", "A1.b_c:d", "x" * REFERENCE_MAX]
)
def test_references(value):
    assert reference_problem(value) is None


@pytest.mark.parametrize(
    "value", ["", " S", "S 1", "-S", "S\n", "réf", "PO#7", "x" * (REFERENCE_MAX + 1)]
)
def test_not_references(value):
    assert reference_problem(value) == REFERENCE_PROBLEM


def test_the_orders_rule_is_the_kernels():
    from orders.domain import rules

    assert rules.REFERENCE_PATTERN is REFERENCE_PATTERN
