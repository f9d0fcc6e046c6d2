"""Every stored value a screen shows has words of its own: no slug reaches a person."""

from __future__ import annotations

import re

import pytest

from orders.domain import labels
from orders.domain.model import CATEGORIES, Actor, EventType, Priority, Visibility
from orders.domain.workflow import STATUSES, WORKFLOW, ActorKind

SLUG = re.compile(r"[_.]|^[a-z]")


@pytest.mark.parametrize(
    ("values", "label"),
    [
        (STATUSES, labels.status_label),
        (list(Priority), labels.priority_label),
        (list(EventType), labels.event_label),
        (CATEGORIES, labels.category_label),
    ],
)
def test_every_value_has_a_label_that_reads_as_words(values, label):
    for value in values:
        text = label(value)
        assert text and not SLUG.search(text), (value, text)
    assert len({label(v) for v in values}) == len(values)  # no two read the same


def test_every_move_a_page_offers_is_a_verb():
    targets = {to for spec in WORKFLOW.values() for to in spec.moves}
    verbs = {to: labels.move_verb(to) for to in targets}
    assert verbs["in_progress"] == "Start work" and verbs["cancelled"] == "Cancel order"
    assert all(not SLUG.search(verb) for verb in verbs.values())


def test_labels_are_the_words_people_use():
    assert labels.status_label("in_progress") == "In progress"
    assert labels.status_label("on_hold") == "On hold"
    assert labels.event_label("order.visit_checked_in") == "Checked in"
    assert labels.event_label("status_changed") == "Status changed"  # the timeline's short form
    assert labels.category_label("hvac") == "HVAC"
    assert labels.visibility_label(Visibility.INTERNAL) == "staff only"


def test_a_value_added_later_still_reads_as_words():
    assert labels.status_label("awaiting_parts") == "Awaiting parts"
    assert labels.event_label("order.quote_sent") == "Quote sent"
    assert labels.move_verb("awaiting_parts") == "Move to awaiting parts"


@pytest.mark.parametrize(
    ("actor", "name"),
    [
        (Actor.system("worker:accepted"), "the Accepted worker"),
        (Actor.system("backlog"), "the team assigner"),
        (Actor.staff("maria"), "maria (staff)"),
        (Actor.integrator("acme"), "integrator acme"),
        (Actor(ActorKind.SYSTEM, "sweeper"), "the system (sweeper)"),
    ],
)
def test_who_made_a_change_reads_as_a_subject(actor, name):
    assert labels.actor_name(actor) == name
