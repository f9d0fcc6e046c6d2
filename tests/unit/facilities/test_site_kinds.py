"""Where each kind of site may hang, and no site its own ancestor (facilities.domain.kinds)."""

from __future__ import annotations

import pytest

from facilities.domain.kinds import (
    ALLOWED_PARENTS,
    KIND_LABELS,
    KINDS,
    children_problem,
    cycle_problem,
    parent_problem,
)


@pytest.mark.parametrize(
    ("kind", "parent"),
    [("site", "region"), ("building", "site"), ("floor", "building"), ("floor", "site")],
)
def test_a_kind_hangs_under_the_kinds_one_rank_up(kind, parent):
    assert parent_problem(kind, parent) is None


@pytest.mark.parametrize(
    ("kind", "parent", "said"),
    [
        ("region", "region", "A region stands at the top: it has no parent."),
        ("site", "site", "A site may only be under a region. This parent is a site."),
        ("building", "region", "A building may only be under a site."),
        ("floor", "floor", "A floor may only be under a site or a building."),
        ("site", "building", "This parent is a building."),
    ],
)
def test_any_other_parent_is_refused_in_words(kind, parent, said):
    assert said in parent_problem(kind, parent)


def test_every_kind_has_a_label_and_its_parents_rank_above_it():
    assert set(KIND_LABELS) == set(KINDS) == set(ALLOWED_PARENTS)
    for kind, parents in ALLOWED_PARENTS.items():
        assert all(KINDS.index(parent) < KINDS.index(kind) for parent in parents)


def test_a_kind_change_must_keep_the_sites_under_it():
    assert children_problem("site", ["building", "floor"]) is None
    assert children_problem("building", ["floor"]) is None
    said = children_problem("region", ["building", "floor", "site"])
    assert said == (
        "It has buildings, floors under it, which cannot be under a region: move them first."
    )


def test_a_site_cannot_be_its_own_ancestor():
    assert cycle_problem("A", ["A"]) is not None  # itself as its parent
    assert "own ancestor" in cycle_problem("A", ["C", "B", "A"])
    assert cycle_problem("A", ["C", "B"]) is None


def test_a_chain_that_never_ends_is_refused_not_walked_forever():
    def forever():
        while True:
            yield "X"

    assert "too long" in cycle_problem("A", forever())
