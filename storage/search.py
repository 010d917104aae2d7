"""Full-text search over ticket subjects and message texts (SQLite FTS5 / PostgreSQL tsvector).

One hit per ticket: its best-ranked match, the subject or one message. Rank is bm25 on SQLite and
``ts_rank`` on PostgreSQL, turned so that higher is better; a subject match counts
:data:`SUBJECT_WEIGHT` times a message match. Ties go to the newest ticket (the highest id:
ids follow the order tickets are opened in).

Candidate cap (the price of p95 <= 50 ms at a million messages): ranking every match of a common
word means scoring hundreds of thousands of rows. So each source (subjects, messages) contributes
at most :data:`CANDIDATES` matches, the newest ones (highest ids; FTS5 and the primary key both
walk that order without sorting), and only those are ranked. While a query matches fewer rows
than the cap, which is the case for any specific query, the ranking is exact. For a very common
word an old ticket that would have ranked first can be missing; agents narrow such a query with
a second word anyway. ``ticket_ids_filter`` is applied before the cap.

A query that contradicts itself (``card -card``, see
:attr:`models.search.SearchQuery.contradicts_itself`) answers empty without a database trip.

PostgreSQL specifics: the GIN indexes are on stored tsvector columns (storage/fts.py), so ranking
and phrase checks read the vector instead of re-parsing the text. The newest matches are found
window by window of ids, newest first: a first window of :data:`FIRST_WINDOW` rows, then windows
sized from the density of the matches found so far. A common word fills the cap in the first
window (the planner walks the primary key); a rare one costs two or three index scans
restricted to their windows. Without the windows the planner either reads every match of a
common word or walks the primary key checking row after row, seconds for a rare word. Plans are
always custom (see :meth:`TicketSearch.search`).

A phrase is estimated by PostgreSQL like all of its words, so past the first window its rows
come from the index only (rows holding all the words, then checked for the order; see
``_PG_UNORDERED``), and only :data:`PHRASE_CANDIDATES` per source are ranked: each one costs a
heap visit, and a phrase of two common words matches one row in hundreds. Paging a phrase
therefore reaches about a hundred tickets on a big desk. Figures: bench/search.py, README.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import TicketStatus
from models.search import SearchHit, SearchPage, SearchQuery, Term, make_snippet
from storage.fts import MESSAGES_FTS, MESSAGES_TSV, TICKETS_FTS, TICKETS_TSV

SUBJECT_WEIGHT = 2.0
#: Matches ranked per source, per dialect.
CANDIDATES = {"sqlite": 500, "postgresql": 300}
#: PostgreSQL, with a phrase in the query: each candidate costs a heap visit to check the word
#: order, so fewer are ranked.
PHRASE_CANDIDATES = 50
#: PostgreSQL: the first id window has this many rows (a phrase: PHRASE_FIRST_WINDOW). The next
#: one is sized from the matches found so far, at most WINDOW_GROWTH times wider.
FIRST_WINDOW = 20_000
PHRASE_FIRST_WINDOW = 5_000
WINDOW_GROWTH = 8
#: A window sized from the matches so far is this much wider than they predict.
WINDOW_MARGIN = 1.5
MAX_LIMIT = 100


_SQLITE_MESSAGES = f"""
    SELECT f.rowid AS mid, m.ticket_id AS tid, -bm25({MESSAGES_FTS}) AS rank
    FROM {MESSAGES_FTS} AS f JOIN ticket_messages AS m ON m.id = f.rowid
    WHERE {MESSAGES_FTS} MATCH :q {{filter_m}}
    ORDER BY f.rowid DESC LIMIT :cap"""
_SQLITE_SUBJECTS = f"""
    SELECT NULL AS mid, f.rowid AS tid, -bm25({TICKETS_FTS}) * :weight AS rank
    FROM {TICKETS_FTS} AS f
    WHERE {TICKETS_FTS} MATCH :q {{filter_t}}
    ORDER BY f.rowid DESC LIMIT :cap"""

# One id window [lo, hi) of one source, newest first; ts_rank runs on the capped rows only.
_PG_MESSAGES = f"""
    SELECT c.mid, c.tid, ts_rank(c.vector, to_tsquery('simple', :q)) AS rank
    FROM (SELECT m.id AS mid, m.ticket_id AS tid, m.{MESSAGES_TSV} AS vector
          FROM ticket_messages AS m
          WHERE m.{MESSAGES_TSV} @@ to_tsquery('simple', :q) AND m.id >= :lo AND m.id < :hi
                {{filter}}
          ORDER BY m.id{{order}} DESC LIMIT :cap) AS c"""
_PG_SUBJECTS = f"""
    SELECT NULL::integer AS mid, c.tid, ts_rank(c.vector, to_tsquery('simple', :q)) * :weight
    FROM (SELECT t.id AS tid, t.{TICKETS_TSV} AS vector
          FROM tickets AS t
          WHERE t.{TICKETS_TSV} @@ to_tsquery('simple', :q) AND t.id >= :lo AND t.id < :hi
                {{filter}}
          ORDER BY t.id{{order}} DESC LIMIT :cap) AS c"""
#: With a phrase in the query, ``ORDER BY id + 0`` keeps PostgreSQL from walking the primary
#: key: it estimates a phrase like all of its words, so for two common words it expects a match
#: every few rows and reads hundreds of thousands; the index then finds the rows with all the
#: words, and only those are checked for the phrase and sorted.
_PG_UNORDERED = " + 0"
_PG_HITS = """
    SELECT * FROM unnest(CAST(:mids AS integer[]), CAST(:tids AS integer[]),
                         CAST(:ranks AS double precision[])) AS h(mid, tid, rank)"""

# Ranked from the hits alone (ties: the higher ticket id, i.e. the newer ticket), so tickets and
# message texts are read for the page only.
_BEST = """
WITH hits AS ({hits}),
ranked AS (
    SELECT tid, mid, rank,
           row_number() OVER (PARTITION BY tid ORDER BY rank DESC, mid DESC) AS n
    FROM hits
),
page AS (
    SELECT tid, mid, rank FROM ranked WHERE n = 1
    ORDER BY rank DESC, tid DESC LIMIT :limit OFFSET :offset
)
SELECT t.id, t.number, t.subject, t.status, page.mid, page.rank, m.text
FROM page
JOIN tickets AS t ON t.id = page.tid
LEFT JOIN ticket_messages AS m ON m.id = page.mid
ORDER BY page.rank DESC, page.tid DESC
"""

Candidate = tuple[int | None, int, float]


@dataclass(frozen=True)
class _Windows:
    """How PostgreSQL walks one source: candidates wanted, first window, ``ORDER BY`` suffix."""

    cap: int
    first: int
    order: str


def _windows(query: SearchQuery) -> _Windows:
    if query.has_phrase:
        return _Windows(PHRASE_CANDIDATES, PHRASE_FIRST_WINDOW, _PG_UNORDERED)
    return _Windows(CANDIDATES["postgresql"], FIRST_WINDOW, "")


def _next_width(width: int, found: int, scanned: int, how: _Windows) -> int:
    """The next window: as wide as the matches found in the ``scanned`` newest rows predict
    for the rest of the cap (with a margin: each window costs a read of the words' posting
    lists, so a third one for a few stragglers costs more than a wider second one), at least
    the first window and at most WINDOW_GROWTH times the last one."""
    widest = width * WINDOW_GROWTH
    if not found:
        return widest
    wanted = ceil((how.cap - found) * scanned / found * WINDOW_MARGIN)
    return max(how.first, min(widest, wanted))


def _sqlite_statement(*, filtered: bool) -> str:
    filter_m, filter_t = (
        ("AND m.ticket_id IN :ids", "AND f.rowid IN :ids") if filtered else ("", "")
    )
    hits = (
        f"SELECT * FROM ({_SQLITE_MESSAGES.format(filter_m=filter_m)}) "
        f"UNION ALL SELECT * FROM ({_SQLITE_SUBJECTS.format(filter_t=filter_t)})"
    )
    return _BEST.format(hits=hits)


class TicketSearch:
    """Search tickets by words in their subject and messages; see the module docstring."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def search(
        self,
        query: SearchQuery,
        *,
        limit: int = 10,
        offset: int = 0,
        ticket_ids_filter: Collection[int] | None = None,
    ) -> list[SearchHit]:
        """Best hit per ticket, best first; ``ticket_ids_filter`` restricts to those tickets
        (an empty collection finds nothing)."""
        if not 0 < limit <= MAX_LIMIT + 1 or offset < 0:
            raise ValueError(f"limit must be 1..{MAX_LIMIT + 1} and offset >= 0")
        if ticket_ids_filter is not None and not ticket_ids_filter:
            return []
        if query.contradicts_itself:
            return []
        ids = None if ticket_ids_filter is None else sorted(set(ticket_ids_filter))
        dialect = self._dialect()
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if dialect == "sqlite":
            stmt = text(_sqlite_statement(filtered=ids is not None))
            params |= {"q": to_fts5(query), "cap": CANDIDATES[dialect], "weight": SUBJECT_WEIGHT}
        elif dialect == "postgresql":
            # A generic plan (asyncpg prepares statements; PostgreSQL switches to one after five
            # runs) cannot see how common the words are and walks the primary key checking every
            # row: seconds for a rare word.
            await self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            tsquery = to_tsquery(query)
            windows = _windows(query)
            hits = await self._pg_candidates(
                _PG_MESSAGES, "ticket_messages", tsquery, ids, windows
            )
            hits += await self._pg_candidates(_PG_SUBJECTS, "tickets", tsquery, ids, windows)
            if not hits:
                return []
            stmt = text(_BEST.format(hits=_PG_HITS))
            mids, tids, ranks = zip(*hits, strict=True)
            params |= {"mids": list(mids), "tids": list(tids), "ranks": list(ranks)}
        else:
            raise NotImplementedError(f"full-text search on {dialect}")
        if ids is not None and dialect == "sqlite":
            stmt = stmt.bindparams(bindparam("ids", expanding=True))
            params["ids"] = ids
        rows = (await self.session.execute(stmt, params)).all()
        return [_hit(row, query) for row in rows]

    async def _pg_candidates(
        self, statement: str, table: str, tsquery: str, ids: list[int] | None, how: _Windows
    ) -> list[Candidate]:
        """The newest ``how.cap`` matches of one source, ranked, searched window by window from
        the newest ids (a common word is found in the first window; without the windows
        PostgreSQL either reads every match of it or walks the primary key checking rows it has
        no index for)."""
        params: dict[str, Any] = {"q": tsquery, "weight": SUBJECT_WEIGHT}
        if ids is not None:
            column = "m.ticket_id" if table == "ticket_messages" else "t.id"
            stmt = text(statement.format(filter=f"AND {column} IN :ids", order=how.order))
            stmt = stmt.bindparams(bindparam("ids", expanding=True))
            params |= {"ids": ids, "lo": 0, "hi": 2**31 - 1, "cap": how.cap}
            return [tuple(r) for r in await self.session.execute(stmt, params)]  # type: ignore[misc]
        top = (await self.session.execute(text(f"SELECT max(id) FROM {table}"))).scalar()
        if top is None:
            return []
        # The first window is narrow enough for any plan, the primary key walk included.
        stmt = text(statement.format(filter="", order=""))
        found: list[Candidate] = []
        hi, width = top + 1, how.first
        while hi > 0 and len(found) < how.cap:
            lo = max(hi - width, 0)
            params |= {"lo": lo, "hi": hi, "cap": how.cap - len(found)}
            found += [tuple(r) for r in await self.session.execute(stmt, params)]  # type: ignore[misc]
            hi, width = lo, _next_width(width, len(found), top + 1 - lo, how)
            stmt = text(statement.format(filter="", order=how.order))
        return found

    async def page(
        self,
        query: SearchQuery,
        *,
        limit: int = 10,
        offset: int = 0,
        ticket_ids_filter: Collection[int] | None = None,
    ) -> SearchPage:
        """One page of hits and whether another page follows (no total: counting every match
        of a common word costs what the candidate cap saves)."""
        hits = await self.search(
            query, limit=limit + 1, offset=offset, ticket_ids_filter=ticket_ids_filter
        )
        return SearchPage(hits=tuple(hits[:limit]), offset=offset, has_more=len(hits) > limit)


def _hit(row: Sequence[Any], query: SearchQuery) -> SearchHit:
    ticket_id, number, subject, status, message_id, rank, message_text = row
    source = subject if message_id is None else (message_text or "")
    return SearchHit(
        ticket_id=ticket_id,
        ticket_number=number,
        subject=subject,
        status=TicketStatus(status),
        snippet=make_snippet(source, query),
        rank=float(rank),
        message_id=message_id,
    )


# --- rendering for the databases --------------------------------------------------------------


def _fts5_term(term: Term) -> str:
    body = '"' + " ".join(term.tokens).replace('"', '""') + '"'
    return body + " *" if term.prefix else body


def to_fts5(query: SearchQuery) -> str:
    """An SQLite FTS5 MATCH expression: every token inside an FTS5 string literal."""
    groups = ["(" + " OR ".join(_fts5_term(t) for t in g) + ")" for g in query.all_of]
    expr = "(" + " AND ".join(groups) + ")"
    for term in query.none_of:
        expr += " NOT " + _fts5_term(term)
    return expr


def _ts_lexeme(token: str, *, prefix: bool = False) -> str:
    quoted = "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + ":*" if prefix else quoted


def _ts_term(term: Term) -> str:
    last = len(term.tokens) - 1
    parts = [
        _ts_lexeme(tok, prefix=term.prefix and i == last) for i, tok in enumerate(term.tokens)
    ]
    return "(" + " <-> ".join(parts) + ")"


def to_tsquery(query: SearchQuery) -> str:
    """A PostgreSQL ``to_tsquery('simple', ...)`` string: every token a quoted lexeme."""
    groups = ["(" + " | ".join(_ts_term(t) for t in g) + ")" for g in query.all_of]
    groups += ["!" + _ts_term(t) for t in query.none_of]
    return " & ".join(groups)
