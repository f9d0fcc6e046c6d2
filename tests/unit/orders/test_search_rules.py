"""What staff search finds an order by: words of its title, site and reference, and its id,
folded, each term matching the start of a word."""

from __future__ import annotations

from datetime import UTC, datetime

from orders.domain import rules, search
from orders.domain.model import Actor
from orders.domain.rules import OrderInput


def order(**fields):
    data = {"title": "Replace HVAC filter", "category": "hvac", "site": "Depot 3", **fields}
    created, _ = rules.create_order(
        OrderInput(**data),
        order_id="3f2a9c1e-0000-4000-8000-000000000001",
        integrator="acme",
        actor=Actor.integrator("acme"),
        now=datetime(2026, 5, 1, tzinfo=UTC),
    )
    return created


def test_tokens_are_folded_words_and_pieces_of_title_site_and_reference_and_the_id():
    tokens = search.order_tokens(
        order(title="Café's HVAC", site="St-Denis (rear)", external_reference="WO-1001")
    )
    assert {"cafe's", "s", "hvac", "st-denis", "st", "denis", "rear"} <= tokens
    assert {"wo-1001", "wo", "1001", "3f2a9c1e-0000-4000-8000-000000000001"} <= tokens
    assert "cafe" not in tokens  # "cafe's" begins with it: a term "caf" finds both


def test_leaving_out_tokens_another_begins_with_finds_the_same_orders():
    """A token left out is the start of one kept, and only terms of PREFIX_MIN or more
    letters match by their start: every term finds the order as before."""
    found = order(title="Café's café HVAC-unit hvac", site="Depot-3 depot", external_reference="ab")
    words = ["cafe", "cafe's", "caf", "hvac", "hvac-unit", "hva", "unit", "depot", "depot-3"]
    kept = search.order_tokens(found)
    for term in [*words, "3", "ab", "s"]:
        assert search.matches(found, [term]), term
        assert any(search.term_matches(token, term) for token in kept), term
    for term in ("dep0", "ca", "de"):  # not a word's start; short terms match whole words
        assert not search.matches(found, [term]), term
        assert not any(search.term_matches(token, term) for token in kept), term


def test_terms_are_the_folded_pieces_of_what_was_typed_at_most_five():
    assert search.query_terms("  hVaC,  Café  (rear) ") == ["hvac", "cafe", "rear"]
    assert search.query_terms("a b c d e f g") == ["a", "b", "c", "d", "e"]
    assert search.query_terms("hvac HVAC") == ["hvac"]
    assert search.query_terms(" -- ") == []


def test_a_term_matches_the_start_of_a_word_and_a_short_term_a_whole_word():
    found = order(title="Service the boiler", site="Depot 30")
    assert search.matches(found, ["boi", "dep"])
    assert search.matches(found, ["30"]) and not search.matches(found, ["3"])
    assert not search.matches(found, ["oiler"])  # not the middle of a word
    assert search.matches(found, ["3f2a9c1e"])  # the id's first characters
    assert not search.matches(found, ["boiler", "plumbing"])  # every term


def test_one_order_has_a_bounded_number_of_tokens_of_bounded_length():
    words = [a + b for a in "abcdefghij" for b in "klmnopq"][:66]  # 66 words in 197 chars
    many = order(title=" ".join(words), site="x" * 150)
    tokens = search.order_tokens(many)
    assert len(tokens) <= search.TOKENS_MAX
    assert max(len(t) for t in tokens) <= search.TOKEN_CHARS_MAX


def test_a_token_and_each_term_that_starts_it_share_their_bucket():
    for token in ("boiler", "3", "30", "wo-1001"):
        terms = [token[:n] for n in range(search.PREFIX_MIN, len(token) + 1)] or [token]
        assert {search.bucket(t) for t in terms} == {search.bucket(token)}
