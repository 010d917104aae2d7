"""Full-text search over ticket subjects and message texts (SQLite FTS5 / PostgreSQL tsvector).

One hit per ticket: its best-ranked match, the subject or one message. Rank is bm25 on SQLite and
``ts_rank`` on PostgreSQL, turned so that higher is better; a subject match counts
:data:`SUBJECT_WEIGHT` times a message match. Ties go to the newest ticket.

Candidate cap (the price of p95 <= 50 ms at a million messages): ranking every match of a common
word means scoring hundreds of thousands of rows. So each source (subjects, messages) contributes
at most :data:`CANDIDATES` matches, the newest ones (highest ids; FTS5 and the primary key both
walk that order without sorting), and only those are ranked. While a query matches fewer rows
than the cap, which is the case for any specific query, the ranking is exact. For a very common
word an old ticket that would have ranked first can be missing; agents narrow such a query with
a second word anyway. ``ticket_ids_filter`` is applied before the cap.

PostgreSQL specifics: the GIN indexes are expression indexes, so every candidate that is ranked
or checked re-parses its text (about 30 us a message); hence a smaller cap there, and phrases and
exclusions are checked on the newest ``CANDIDATES * EXACT_POOL`` rows that contain all the
positive words (an older phrase match behind more than that many rows with the same words is
missed). The planner may walk the primary key backwards re-parsing rows until it has the cap,
which is slow for words of middling frequency; see bench/search.py for the figures. A stored
tsvector column would remove the re-parsing (the PostgreSQL manual's "faster" option).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import TicketStatus
from models.search import (
    SearchHit,
    SearchPage,
    SearchQuery,
    make_snippet,
    to_fts5,
    to_tsquery,
    to_tsquery_loose,
)
from storage.fts import (
    MESSAGES_FTS,
    TICKETS_FTS,
    pg_message_vector,
    pg_subject_vector,
)

SUBJECT_WEIGHT = 2.0
#: Matches ranked per source, per dialect. PostgreSQL re-parses each candidate's text to rank it
#: (an expression index stores no tsvector; about 30 us per message), so it ranks fewer.
CANDIDATES = {"sqlite": 1000, "postgresql": 200}
#: PostgreSQL with phrases or exclusions: the exact query is checked on this many times
#: CANDIDATES of the newest rows that contain the positive words.
EXACT_POOL = 2
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

# The LIMIT sits in a subquery so ts_rank (which re-parses the text) runs on the capped rows
# only. The index is searched with the loose query (phrases as plain AND: GIN answers it without
# re-parsing every row); with phrases in the query, the exact one then filters the candidates.
_PG_MESSAGES = f"""
    SELECT c.mid, c.tid,
           ts_rank({pg_message_vector("c.text")}, to_tsquery('simple', :q)) AS rank
    FROM (SELECT m.id AS mid, m.ticket_id AS tid, m.text
          FROM ticket_messages AS m
          WHERE {pg_message_vector("m.text")} @@ to_tsquery('simple', :loose) {{filter_m}}
          ORDER BY m.id DESC LIMIT :pool) AS c
    {{exact_m}}"""
_PG_SUBJECTS = f"""
    SELECT NULL::integer AS mid, c.tid,
           ts_rank({pg_subject_vector("c.subject")}, to_tsquery('simple', :q))
           * :weight AS rank
    FROM (SELECT t.id AS tid, t.subject
          FROM tickets AS t
          WHERE {pg_subject_vector("t.subject")} @@ to_tsquery('simple', :loose) {{filter_t}}
          ORDER BY t.id DESC LIMIT :pool) AS c
    {{exact_t}}"""
_PG_EXACT_M = f"WHERE {pg_message_vector('c.text')} @@ to_tsquery('simple', :q)"
_PG_EXACT_T = f"WHERE {pg_subject_vector('c.subject')} @@ to_tsquery('simple', :q)"

_BEST = """
WITH message_hits AS ({messages}),
subject_hits AS ({subjects}),
hits AS (SELECT * FROM message_hits UNION ALL SELECT * FROM subject_hits),
best AS (
    SELECT tid, mid, rank,
           row_number() OVER (PARTITION BY tid ORDER BY rank DESC, mid DESC) AS n
    FROM hits
)
SELECT t.id, t.number, t.subject, t.status, best.mid, best.rank, m.text
FROM best
JOIN tickets AS t ON t.id = best.tid
LEFT JOIN ticket_messages AS m ON m.id = best.mid
WHERE best.n = 1
ORDER BY best.rank DESC, t.created_at DESC, t.id DESC
LIMIT :limit OFFSET :offset
"""


def _statement(dialect: str, *, filtered: bool, exact: bool = False) -> str:
    if dialect == "sqlite":
        messages, subjects = _SQLITE_MESSAGES, _SQLITE_SUBJECTS
        filter_m, filter_t = "AND m.ticket_id IN :ids", "AND f.rowid IN :ids"
    elif dialect == "postgresql":
        messages, subjects = _PG_MESSAGES, _PG_SUBJECTS
        filter_m, filter_t = "AND m.ticket_id IN :ids", "AND t.id IN :ids"
    else:
        raise NotImplementedError(f"full-text search on {dialect}")
    if not filtered:
        filter_m = filter_t = ""
    return _BEST.format(
        messages=messages.format(filter_m=filter_m, exact_m=_PG_EXACT_M if exact else ""),
        subjects=subjects.format(filter_t=filter_t, exact_t=_PG_EXACT_T if exact else ""),
    )


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
        dialect = self._dialect()
        filtered = ticket_ids_filter is not None
        cap = CANDIDATES.get(dialect, 0)
        params: dict[str, Any] = {"cap": cap, "pool": cap}
        if dialect == "sqlite":
            params["q"] = to_fts5(query)
        else:
            params["q"], params["loose"] = to_tsquery(query), to_tsquery_loose(query)
        exact = params["q"] != params.get("loose", params["q"])
        if exact:
            params["pool"] = cap * EXACT_POOL
        stmt = text(_statement(dialect, filtered=filtered, exact=exact))
        params |= {
            "weight": SUBJECT_WEIGHT,
            "limit": limit,
            "offset": offset,
        }
        if filtered:
            assert ticket_ids_filter is not None
            stmt = stmt.bindparams(bindparam("ids", expanding=True))
            params["ids"] = sorted(set(ticket_ids_filter))
        rows = (await self.session.execute(stmt, params)).all()
        return [_hit(row, query) for row in rows]

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
