"""Database records. Only repositories and mappers touch them; the rest sees models/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.fts import create_search_objects

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database.

    SQLite has no time zone type, so values are stored there as naive UTC and re-tagged on the
    way out; PostgreSQL gets ``timestamptz``. Naive datetimes are refused on the way in, because
    guessing their zone is how reports end up an hour off.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CounterRecord(Base):
    """Named counters, bumped with one atomic UPDATE ... RETURNING (ticket numbers)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class CustomerRecord(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(256))
    last_name: Mapped[str | None] = mapped_column(String(256))
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    #: Telegram's language_code as last seen (IETF tags fit in 35 characters).
    language_code: Mapped[str | None] = mapped_column(String(35))
    blocked_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    ban_reason: Mapped[str | None] = mapped_column(String(256))
    last_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wants_new_ticket: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: An email customer's address, lower-case (RFC 5321 allows 254 characters in a path).
    email: Mapped[str | None] = mapped_column(String(320), unique=True, index=True)
    #: A website visitor (the chat widget; see :class:`WidgetVisitorRecord`).
    visitor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: An email customer linked to a Telegram customer: the same person (``/link``).
    linked_to_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    #: The linked address the customer last wrote from: replies go there (None: their chat).
    reply_via_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))


class TeamRecord(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    strategy: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")
    #: The team's own agents' group (None: the main group); several teams may share one.
    group_chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


class AgentRecord(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(256))
    username: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Telegram's language_code as last seen: texts addressed to this agent alone use it.
    language: Mapped[str | None] = mapped_column(String(16))


class AgentTeamRecord(Base):
    __tablename__ = "agent_teams"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )


class CategoryRecord(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(128))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    auto_answer_key: Mapped[str | None] = mapped_column(String(32))
    auto_answer_threshold: Mapped[float | None] = mapped_column(Float)


class CannedAnswerRecord(Base):
    """Canned answers, one row per key and language."""

    __tablename__ = "canned_answers"
    __table_args__ = (UniqueConstraint("key", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketRecord(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_customer_status", "customer_id", "status"),
        Index("ix_tickets_agent_topic", "agent_chat_id", "agent_thread_id"),
        Index("ix_tickets_status", "status"),
        # Lookups off the hot path that scanned the table: a button press finds its ticket by
        # the card, merges by target, a customer's newest ticket, reports by creation time.
        Index("ix_tickets_card", "agent_chat_id", "card_message_id"),
        Index("ix_tickets_merged_into", "merged_into_id"),
        Index("ix_tickets_customer_updated", "customer_id", "updated_at"),
        Index("ix_tickets_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    subject: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triage_confidence: Mapped[float | None] = mapped_column(Float)
    needs_human: Mapped[bool] = mapped_column(Boolean, default=False)
    agent_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    agent_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    moved_from_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    moved_from_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    awaiting_reply_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Space-separated, with a space on each side, so ``LIKE '% tag %'`` finds one tag.
    tags: Mapped[str] = mapped_column(String(400), default="", server_default="")
    suggestions: Mapped[str] = mapped_column(String(64), default="", server_default="")
    auto_answer: Mapped[str | None] = mapped_column(String(32))
    #: No foreign key: adding one would make SQLite rebuild the table (dropping the search
    #: triggers on it); tickets are never deleted, so the reference cannot dangle.
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
    #: No foreign key either (same reason): incidents are never deleted.
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    incident_detached: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SlaNoticeRecord(Base):
    """Warnings and breaches already announced: each fires once, across restarts."""

    __tablename__ = "sla_notices"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "level", "clock_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    level: Mapped[str] = mapped_column(String(16))
    clock_start: Mapped[datetime] = mapped_column(UTCDateTime)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketMessageRecord(Base):
    __tablename__ = "ticket_messages"
    __table_args__ = (
        UniqueConstraint("customer_chat_id", "customer_message_id"),
        UniqueConstraint("agent_chat_id", "agent_message_id"),
        Index("ix_ticket_messages_ticket", "ticket_id", "id"),
        # Flood control counts a customer's recent messages (see migration 0019).
        Index(
            "ix_ticket_messages_customer_sent",
            "customer_chat_id",
            "direction",
            "sent_at",
            sqlite_where=sql_text("customer_chat_id IS NOT NULL"),
            postgresql_where=sql_text("customer_chat_id IS NOT NULL"),
        ),
        # A mail's message, by the mail (threading looks up the tickets of message ids).
        Index("ix_ticket_messages_channel_source", "channel", "customer_message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str | None] = mapped_column(Text)
    media_kind: Mapped[str] = mapped_column(String(16))
    file_id: Mapped[str | None] = mapped_column(String(256))
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    customer_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    customer_message_id: Mapped[int | None] = mapped_column(BigInteger)
    agent_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    agent_message_id: Mapped[int | None] = mapped_column(BigInteger)
    agent_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    author_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_messages.id", ondelete="SET NULL")
    )
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The ticket's card quotes this message instead of a copy of its own in the agents' chat.
    on_card: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The customer chose formatting (bold, a link behind words...) that a plain quote loses.
    formatted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    channel: Mapped[str] = mapped_column(String(16), default="telegram", server_default="telegram")


class TicketEventRecord(Base):
    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    old: Mapped[str | None] = mapped_column(String(256))
    new: Mapped[str | None] = mapped_column(String(256))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


#: Rows every database starts with (inserted by the first migration and by ``create_all``).
SEED_COUNTERS = [{"name": "ticket", "value": 0}, {"name": "incident", "value": 0}]


@event.listens_for(CounterRecord.__table__, "after_create")
def _seed_counters(target: Table, connection: Connection, **_kw: Any) -> None:
    connection.execute(target.insert(), SEED_COUNTERS)


class InboxRecord(Base):
    """Raw Telegram updates, stored before the polling offset moves past them."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_status", "status", "update_id"),
        Index("ix_inbox_received", "received_at"),  # pruning walks the oldest rows
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailRecord(Base):
    """Mails in and out of the email channel, one row per ``Message-ID``.

    An incoming mail is stored (its raw bytes) before it is processed, and marked ``\\Seen`` in
    the mailbox only after the transaction that processed it committed; the unique message id
    makes a mail fetched twice apply once. It belongs to its ticket through its message
    (``ticket_messages.customer_message_id`` is this row's id, so merges carry it along). The
    desk's own mails are recorded, with their ticket, when the SMTP server took them.
    """

    __tablename__ = "mail_messages"
    __table_args__ = (Index("ix_mail_messages_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(512), unique=True)
    outgoing: Mapped[bool] = mapped_column(Boolean, default=False)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: pending, done, skipped (a machine's mail: ``reason`` says why) or parked.
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxRecord(Base):
    """Calls waiting to be made (Telegram, webhooks), written in the same transaction as their
    cause. One ordered queue per channel and recipient (``chat_id``: a chat, an endpoint)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "channel", "chat_id", "lane", "id"),
        Index("ix_outbox_dedupe", "dedupe_key", "status"),
        Index("ix_outbox_created", "created_at"),  # pruning walks the oldest rows
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), server_default="telegram")
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(48))
    params: Mapped[str] = mapped_column(Text)
    lane: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    on_sent: Mapped[str | None] = mapped_column(String(32))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(Text)


class ShownMessageRecord(Base):
    """What a message the bot may edit shows now (digests, see :func:`models.delivery.appearance`),
    so that an edit that would change nothing is not sent. A missing row means "unknown"."""

    __tablename__ = "shown_messages"
    __table_args__ = (Index("ix_shown_messages_updated", "updated_at"),)

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    body: Mapped[str | None] = mapped_column(String(32))
    markup: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LabelledExampleRecord(Base):
    """Training labels from agents' corrections (the classifier's learning loop)."""

    __tablename__ = "labelled_examples"
    __table_args__ = (Index("ix_labelled_examples_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str | None] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeskSettingRecord(Base):
    """Runtime settings and state kept in the database (e.g. the triage queue's topic)."""

    __tablename__ = "desk_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RatingRecord(Base):
    """Customer satisfaction (CSAT): one rating per ticket."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_prompt", "prompt_message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookRecord(Base):
    """Outgoing webhook endpoints. Removed ones stay (inactive): ids are never reused, so a
    delivery still queued for a removed endpoint can never reach a newer one."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[str] = mapped_column(String(512))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKeyRecord(Base):
    """REST API keys: only the key's SHA-256 is stored. Revoked keys stay (the audit trail and
    the ticket history name them); a name is unique among the keys in service only."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(256))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    """One row per ``Idempotency-Key`` a key sent with a POST: written in the transaction that
    does the work (the unique pair makes a concurrent repeat fail instead of working twice),
    then given the response that the repeats get back."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("api_key_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SolutionRecord(Base):
    """Resolved tickets' questions and the replies that solved them: what every worker builds
    its in-memory similar-tickets index from. Ids are never reused (AUTOINCREMENT on SQLite, a
    sequence on PostgreSQL): a worker reads the rows after the last id it has seen."""

    __tablename__ = "solutions"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy's own form)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )
    text: Mapped[str] = mapped_column(Text)
    reply: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentRecord(Base):
    """A surge of similar tickets worked as one (see :mod:`models.incidents`)."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    status: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)


class BulkReplyRecord(Base):
    """An agent's message in an incident topic: a note, or a reply queued to every linked
    customer with its delivery counts. One row per agents'-chat message, so a message processed
    twice is sent once."""

    __tablename__ = "bulk_replies"
    __table_args__ = (
        UniqueConstraint("agent_chat_id", "agent_message_id"),
        Index("ix_bulk_replies_incident", "incident_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    agent_chat_id: Mapped[int] = mapped_column(BigInteger)
    agent_message_id: Mapped[int] = mapped_column(BigInteger)
    author_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str | None] = mapped_column(Text)
    note: Mapped[bool] = mapped_column(Boolean, default=False)
    total: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class WidgetVisitorRecord(Base):
    """A visitor of the website chat widget: the SHA-256 of their token (never the token), and
    the name and address they chose to give. ``last_seq`` numbers their conversation."""

    __tablename__ = "widget_visitors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str | None] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(254))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When their widget last read the conversation (at most every 30 s): away or not.
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WidgetMessageRecord(Base):
    """One row of a visitor's conversation, numbered ``seq`` per visitor in commit order (the
    number is taken by an ``UPDATE … RETURNING`` on the visitor's row, which holds the row
    until the transaction ends). A text from the desk carries the outbox call it came from
    (unique: a call stored twice is stored once); a visitor's message the widget's own id."""

    __tablename__ = "widget_messages"
    __table_args__ = (
        UniqueConstraint("visitor_id", "seq"),
        UniqueConstraint("visitor_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("widget_visitors.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    outbox_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


@event.listens_for(Base.metadata, "after_create")
def _create_search_objects(target: MetaData, connection: Connection, **_kw: Any) -> None:
    # Full-text index objects are not part of the metadata (see storage/fts.py).
    create_search_objects(connection)
