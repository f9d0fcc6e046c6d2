"""Business rules: what a valid order is, what each move changes, how teams are chosen.

The API, the admin and the workers all reach these through ``orders.services``. They are
pure functions over ``orders.domain.model``, split by job; callers import them from here
(``rules.create_order``, ``from orders.domain.rules import OrderInput``), not from the
modules, so the split can change without touching them:

- ``validation``: what text can be kept (:func:`text_problem`), what a new order may say
  (:class:`OrderInput`, :func:`validate_input`, metadata included), a move's reason
  (:func:`clean_reason`), and the limits the API and the admin show.
- ``changes``: the one way an order changes (version, history entry, event) and its SLA
  fields kept up to date (:func:`with_sla`); who may make staff-only changes, and the
  statuses in which an order has a team (:data:`STAFFED`).
- ``lifecycle``: creation (:func:`create_order`), status moves (:func:`move`), corrections
  (:func:`edit`) and a change of team (:func:`reassign`).
- ``notes``: notes and attachments, who may add which visibility, clean file names.
- ``field_work``: the technician, the visit booked, check-in and check-out, and what work
  pages may offer now (:func:`open_work`, :func:`check_in_far_from_window`).
- ``dispatch``: the received worker's review and the choice of team
  (:class:`TeamCandidate`, :func:`considered_teams`, :func:`rank_teams`).
"""

from __future__ import annotations

from .changes import STAFFED, with_sla
from .dispatch import TEAMS_CONSIDERED, TeamCandidate, considered_teams, rank_teams, review
from .field_work import (
    CHECK_IN_SLACK,
    VISIT_MAX,
    assign_technician,
    check_in,
    check_in_far_from_window,
    check_out,
    check_window,
    open_work,
    reschedule_visit,
    schedule_visit,
)
from .lifecycle import EDITABLE, create_order, edit, move, reassign
from .notes import (
    FILENAME_MAX,
    NOTE_MAX,
    UNNAMED_FILE,
    VISIBILITIES_BY_ACTOR,
    add_attachment,
    add_note,
    clean_filename,
    visibility_for,
)
from .validation import (
    CONTACT_FIELD_MAX,
    DESCRIPTION_MAX,
    EMAIL_PATTERN,
    METADATA_MAX_BYTES,
    METADATA_MAX_DEPTH,
    METADATA_MAX_KEYS,
    REASON_MAX,
    REFERENCE_MAX,
    REFERENCE_PATTERN,
    REFERENCE_PROBLEM,
    SITE_MAX,
    SITE_REQUIRED,
    TITLE_MAX,
    OrderInput,
    clean_reason,
    text_problem,
    validate_input,
)

__all__ = [
    # validation
    "CONTACT_FIELD_MAX",
    "DESCRIPTION_MAX",
    "EMAIL_PATTERN",
    "METADATA_MAX_BYTES",
    "METADATA_MAX_DEPTH",
    "METADATA_MAX_KEYS",
    "REASON_MAX",
    "REFERENCE_MAX",
    "REFERENCE_PATTERN",
    "REFERENCE_PROBLEM",
    "SITE_MAX",
    "SITE_REQUIRED",
    "TITLE_MAX",
    "OrderInput",
    "clean_reason",
    "text_problem",
    "validate_input",
    # changes
    "STAFFED",
    "with_sla",
    # lifecycle
    "EDITABLE",
    "create_order",
    "edit",
    "move",
    "reassign",
    # notes
    "FILENAME_MAX",
    "NOTE_MAX",
    "UNNAMED_FILE",
    "VISIBILITIES_BY_ACTOR",
    "add_attachment",
    "add_note",
    "clean_filename",
    "visibility_for",
    # field_work
    "CHECK_IN_SLACK",
    "VISIT_MAX",
    "assign_technician",
    "check_in",
    "check_in_far_from_window",
    "check_out",
    "check_window",
    "open_work",
    "reschedule_visit",
    "schedule_visit",
    # dispatch
    "TEAMS_CONSIDERED",
    "TeamCandidate",
    "considered_teams",
    "rank_teams",
    "review",
]
