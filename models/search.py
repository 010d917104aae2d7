"""Full-text search: what agents type, parsed once and rendered safely for each database.

The query language (``/search <words>``):

* ``printer jammed``: every word must occur (AND);
* ``"paper jam"``: a phrase, its words next to each other in that order;
* ``-refund``, ``-"gift card"``: the word or phrase must not occur;
* ``refund OR chargeback`` (also ``ИЛИ``): either word; OR binds tighter than AND, so
  ``card refund OR chargeback`` means ``card AND (refund OR chargeback)``;
* ``pay*``: any word starting with ``pay`` (at least :data:`MIN_PREFIX` letters before ``*``).

Words are split into letters and digits the way the databases' tokenizers do: ``e-mail`` is the
phrase ``"e mail"``, and punctuation alone is ignored. Matching is case-insensitive.

User text never reaches a MATCH or a tsquery as syntax: :func:`to_fts5` and :func:`to_tsquery`
render every token as a quoted string literal of the target language, so the only operators in
the output are the ones this module writes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from models.enums import TicketStatus
from models.errors import InvalidInput

MAX_QUERY_CHARS = 200
MAX_TERMS = 16
MIN_PREFIX = 2
OR_WORDS = frozenset({"OR", "ИЛИ"})

#: Around matched words in :attr:`SearchHit.snippet`; the text between them is raw user text.
MARK_START = "«"
MARK_END = "»"
ELLIPSIS = "…"
SNIPPET_WIDTH = 160

_TOKEN = re.compile(r"[^\W_]+")
_FIELD = "query"


@dataclass(frozen=True)
class Term:
    """A word or a phrase: one or more tokens in a row; ``prefix`` applies to the last one."""

    tokens: tuple[str, ...]
    prefix: bool = False

    def __str__(self) -> str:
        body = " ".join(self.tokens)
        star = "*" if self.prefix else ""
        bare = len(self.tokens) == 1 and body not in OR_WORDS
        return f"{body}{star}" if bare else f'"{body}"{star}'


@dataclass(frozen=True)
class SearchQuery:
    """``all_of`` groups must each match (a group matches when any of its terms does), and no
    term of ``none_of`` may match."""

    all_of: tuple[tuple[Term, ...], ...]
    none_of: tuple[Term, ...] = ()

    def __str__(self) -> str:
        parts = [" OR ".join(str(t) for t in group) for group in self.all_of]
        parts += [f"-{t}" for t in self.none_of]
        return " ".join(parts)

    @property
    def positive_terms(self) -> tuple[Term, ...]:
        return tuple(term for group in self.all_of for term in group)

    @property
    def has_phrase(self) -> bool:
        """Whether a term to look for is several words in a row."""
        return any(len(term.tokens) > 1 for term in self.positive_terms)

    @property
    def contradicts_itself(self) -> bool:
        """Whether no text can match: every term of some group contains an excluded term
        (``card -card``, ``"paper jam" -jam``, ``payment -pay*``). Conservative: tokens
        compare equal only where both engines surely agree (ASCII, ignoring case; otherwise
        exactly), so a query reported consistent may still match nothing."""
        return any(
            all(any(_implies(term, excluded) for excluded in self.none_of) for term in group)
            for group in self.all_of
        )


def _same_word(token: str) -> str:
    return token.lower() if token.isascii() else token


def _implies(term: Term, excluded: Term) -> bool:
    """Whether every text matching ``term`` matches ``excluded``: ``excluded``'s tokens occur
    in a row inside ``term``'s (its last one as a prefix, when it is a prefix term)."""
    words = [_same_word(t) for t in term.tokens]
    wanted = [_same_word(t) for t in excluded.tokens]
    last = len(wanted) - 1
    for start in range(len(words) - last):
        window = words[start : start + last + 1]
        if window[:last] != wanted[:last]:
            continue
        open_end = term.prefix and start + last == len(words) - 1
        if excluded.prefix:
            if window[last].startswith(wanted[last]):
                return True
        elif window[last] == wanted[last] and not open_end:
            return True
    return False


@dataclass(frozen=True)
class SearchHit:
    """One ticket found: its best-ranked match (the subject, or one of its messages)."""

    ticket_id: int
    ticket_number: int
    subject: str
    status: TicketStatus
    #: Plain text (not HTML-escaped) with matched words between MARK_START and MARK_END.
    snippet: str
    #: Higher is better; comparable within one result list only.
    rank: float
    #: The message that matched, or None when the subject did.
    message_id: int | None


@dataclass(frozen=True)
class SearchPage:
    hits: tuple[SearchHit, ...]
    offset: int
    has_more: bool


# --- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lexeme:
    kind: str  # "term" | "or"
    term: Term | None = None
    excluded: bool = False
    raw: str = ""


def tokenize(text: str) -> list[str]:
    """Letters-and-digits runs of ``text`` (what a word is, for both engines).

    Case is kept: each engine folds it with its own rules (lower-casing here would turn ``İ``
    into ``i`` plus a combining dot, which SQLite then reads as two words).
    """
    return _TOKEN.findall(unicodedata.normalize("NFC", text))


def _fail(text: str, reason: str) -> InvalidInput:
    return InvalidInput(_FIELD, text, reason)


def _term(raw: str, *, prefix: bool) -> Term | None:
    tokens = tuple(tokenize(raw))
    if not tokens:
        return None
    return Term(tokens, prefix=prefix)


def _lex(text: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        excluded = False
        if ch == "-" and i + 1 < n and text[i + 1] == '"':
            excluded, i = True, i + 1
            ch = '"'
        if ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise _fail(text, 'has a " without its closing pair')
            raw = text[i + 1 : end]
            i = end + 1
            prefix = i < n and text[i] == "*"
            while i < n and text[i] == "*":
                i += 1
            out.append(_Lexeme("term", _term(raw, prefix=prefix), excluded, raw))
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != '"':
            i += 1
        word = text[start:i]
        if word in OR_WORDS:
            out.append(_Lexeme("or", raw=word))
            continue
        if word.startswith("-") and len(word) > 1:
            excluded, word = True, word[1:]
        prefix = word.endswith("*")
        out.append(_Lexeme("term", _term(word.rstrip("*"), prefix=prefix), excluded, word))
    return out


def parse_query(text: str) -> SearchQuery:
    """Parse what an agent typed; raise :class:`InvalidInput` saying what is wrong with it."""
    if not text or not text.strip():
        raise _fail(text, "is empty: type the words to look for")
    if len(text) > MAX_QUERY_CHARS:
        raise _fail(text[:40] + ELLIPSIS, f"is longer than {MAX_QUERY_CHARS} characters")
    lexemes = _lex(text)
    # Terms without letters or digits (punctuation only) are dropped before OR is read, but an
    # OR next to one still needs a word on that side.
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    prev_was_term = False
    for lx in lexemes:
        if lx.kind == "or":
            if not prev_was_term or pending_or:
                raise _fail(text, "uses OR without a word on each side (write: word OR word)")
            pending_or, prev_was_term = True, False
            continue
        term = lx.term
        if lx.excluded:
            if pending_or:
                raise _fail(text, "combines OR with an -excluded word; exclude it separately")
            if term is not None:
                excluded.append(term)
            prev_was_term = False
            continue
        if term is None:
            if pending_or:
                raise _fail(text, "uses OR without a word on each side (write: word OR word)")
            prev_was_term = False
            continue
        if term.prefix and len(term.tokens[-1]) < MIN_PREFIX:
            raise _fail(text, f"needs at least {MIN_PREFIX} letters before *")
        if pending_or:
            groups[-1].append(term)
        else:
            groups.append([term])
        pending_or, prev_was_term = False, True
    if pending_or:
        raise _fail(text, "uses OR without a word on each side (write: word OR word)")
    if sum(len(g) for g in groups) + len(excluded) > MAX_TERMS:
        raise _fail(text, f"has more than {MAX_TERMS} words and phrases")
    if not groups:
        if excluded:
            raise _fail(text, "only excludes words: add at least one word to look for")
        raise _fail(text, "has no letters or digits to look for")
    return SearchQuery(
        all_of=tuple(tuple(dict.fromkeys(g)) for g in groups),
        none_of=tuple(dict.fromkeys(excluded)),
    )


# --- snippets ---------------------------------------------------------------------------------


def _fold(word: str) -> str:
    """Lower case without diacritics (as SQLite's ``remove_diacritics``): ``Ёлка`` -> ``елка``."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def make_snippet(text: str, query: SearchQuery, width: int = SNIPPET_WIDTH) -> str:
    """About ``width`` characters of ``text`` around its first match, matched words marked.

    Whitespace is collapsed to single spaces; a cut end gets an ellipsis. Words are marked when
    they equal a token of the query's positive terms (or start with a prefix term's last token),
    ignoring case and diacritics; phrases are marked word by word.
    """
    flat = " ".join(text.split())
    exact: set[str] = set()
    prefixes: list[str] = []
    for term in query.positive_terms:
        folded = [_fold(t) for t in term.tokens]
        if term.prefix:
            prefixes.append(folded[-1])
            folded = folded[:-1]
        exact.update(folded)

    spans = [
        m.span()
        for m in _TOKEN.finditer(flat)
        if (w := _fold(m.group())) in exact or any(w.startswith(p) for p in prefixes)
    ]
    start = 0
    if spans and spans[0][0] > width // 4:
        # Start a little before the first match, at a word boundary.
        start = flat.rfind(" ", 0, spans[0][0] - width // 4) + 1
    end = min(len(flat), start + width)
    if end < len(flat):
        cut = flat.rfind(" ", start, end)
        end = cut if cut > start else end
    pieces: list[str] = [ELLIPSIS] if start > 0 else []
    pos = start
    for s, e in spans:
        if s < start or e > end:
            continue
        pieces += [flat[pos:s], MARK_START, flat[s:e], MARK_END]
        pos = e
    pieces.append(flat[pos:end])
    if end < len(flat):
        pieces.append(ELLIPSIS)
    return "".join(pieces)
