"""What staff search finds: the words of an order's title, site and external reference, and
its id, folded (any case, accents ignored), matched from the start of a word.

Both repositories match by these rules; the DynamoDB one keeps an index item per token
(``orders.repository.search_index``), so a search reads only the tokens it asks for.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .model import Order

#: Typed terms shorter than this match whole words only ("3" finds "Depot 3", not "30").
PREFIX_MIN = 3
#: Terms of one search looked up at most; the rest are ignored.
TERMS_MAX = 5
#: Tokens one order is found by at most, and the length a token is cut to.
TOKENS_MAX = 64
TOKEN_CHARS_MAX = 40

_WORD = re.compile(r"\w+")
_EDGE = re.compile(r"^\W+|\W+$")


def fold(text: str) -> str:
    """Lower case with accents dropped: "Café HVAC" and "cafe hvac" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _chunks(text: str) -> list[str]:
    """The text's whitespace-separated pieces without their outer punctuation, and their
    words: "St-Denis (rear)" gives "st-denis", "st", "denis", "rear"."""
    found: list[str] = []
    for piece in fold(text).split():
        whole = _EDGE.sub("", piece)
        if whole:
            found.append(whole)
        found.extend(_WORD.findall(piece))
    return found


def order_tokens(order: Order) -> frozenset[str]:
    """Everything the order can be found by (at most TOKENS_MAX tokens). A token another
    one begins with is left out when a term matches from its start ("wo-1001" is found by
    "wo-1", and "cafe" by "cafe"'s "cafe"): each token is an index item to write."""
    tokens = dict.fromkeys([order.id.lower()])
    for text in (order.title, order.site, order.external_reference or ""):
        tokens.update(dict.fromkeys(t[:TOKEN_CHARS_MAX] for t in _chunks(text)))
    kept = [
        token
        for token in tokens
        if len(token) < PREFIX_MIN
        or not any(other != token and other.startswith(token) for other in tokens)
    ]
    return frozenset(kept[:TOKENS_MAX])


def query_terms(text: str) -> list[str]:
    """The terms a search looks up: its pieces, folded, at most TERMS_MAX."""
    terms = [_EDGE.sub("", piece)[:TOKEN_CHARS_MAX] for piece in fold(text).split()]
    return list(dict.fromkeys(t for t in terms if t))[:TERMS_MAX]


def term_matches(token: str, term: str) -> bool:
    return token.startswith(term) if len(term) >= PREFIX_MIN else token == term


def matches(order: Order, terms: Iterable[str]) -> bool:
    """Every term starts a token of the order (or is one, when short)."""
    tokens = order_tokens(order)
    return all(any(term_matches(token, term) for token in tokens) for term in terms)


def bucket(text: str) -> str:
    """Where a token is kept and a term looked up: their first PREFIX_MIN characters."""
    return text[:PREFIX_MIN]
