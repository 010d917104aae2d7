"""Canned answers: admins keep them, agents send them with ``/c <key>`` or one tap on the card.

New tickets get up to three suggestions (by category and text similarity); a category can
answer automatically when the classifier is confident enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from bot.services.auth import audit, require_agent
from bot.services.customers import queue
from bot.services.ports import Presenter, TelegramUser
from models import (
    CannedAnswer,
    Customer,
    InvalidInput,
    MessageDirection,
    Role,
    Ticket,
    TicketMessage,
)
from models.canned import check_template, parse_key, pick_version
from models.ids import parse_id
from storage import AbstractUnitOfWork
from triage.similarity import TextIndex

SUGGESTIONS = 3
#: A suggestion needs this much text similarity, or the ticket's category.
MIN_SIMILARITY = 0.08
CATEGORY_BONUS = 0.5
CANNED_USAGE = (
    "usage: /canned add <key> [language] [category] (as a reply to the answer's text, or with "
    "the text on the next lines), /canned list, /canned del <key> [language]"
)


@dataclass(frozen=True)
class CannedChange:
    action: str  # "saved" or "removed"
    key: str
    count: int = 1


async def canned_command(
    uow: AbstractUnitOfWork,
    actor: TelegramUser,
    args: str,
    replied_text: str | None,
    default_language: str,
    languages: list[str],
    now: datetime,
) -> CannedChange | list[CannedAnswer]:
    """``/canned add|list|del``: list is for every agent, changes are for admins."""
    first, _, body = args.partition("\n")
    parts = first.split()
    sub = parts[0].lower() if parts else ""
    if sub == "list":
        await require_agent(uow, actor)
        return await uow.canned.list()
    admin = await require_agent(uow, actor, Role.ADMIN)
    if sub not in ("add", "del", "delete", "remove") or len(parts) < 2:
        raise InvalidInput("command", args[:60], CANNED_USAGE)
    key = parse_key(parts[1])
    language = None
    category = None
    for extra in parts[2:]:
        if extra.lower() in languages and language is None:
            language = extra.lower()
        elif await uow.categories.by_key(extra) is not None and category is None:
            category = extra.lower()
        else:
            raise InvalidInput(
                "option", extra, f"not a language ({', '.join(languages)}) nor a category"
            )
    if sub != "add":
        removed = await uow.canned.remove(key, language)
        if not removed:
            raise InvalidInput("key", key, "no such canned answer")
        await uow.commit()
        audit("canned removed", actor, key=key, language=language)
        return CannedChange("removed", key, removed)
    text = check_template(body if body.strip() else (replied_text or ""))
    language = language or default_language
    existing = {v.language: v for v in await uow.canned.versions(key)}
    answer = existing.get(language)
    if answer is None:
        await uow.canned.add(
            CannedAnswer(
                key=key,
                language=language,
                text=text,
                category=category,
                created_by=admin.id,
                created_at=now,
            )
        )
    else:
        answer.text = text
        answer.category = category or answer.category
    await uow.commit()
    audit("canned saved", actor, key=key, language=language)
    return CannedChange("saved", key)


async def answer_for(
    uow: AbstractUnitOfWork, key_or_id: str, customer: Customer, default_language: str
) -> CannedAnswer:
    """The version of an answer (by key, or by id from a button) the customer can read."""
    if (answer_id := parse_id(key_or_id)) is not None:
        found = await uow.canned.get(answer_id)
        if found is None:
            raise InvalidInput("answer", key_or_id, "this canned answer was deleted")
        key = found.key
    else:
        key = parse_key(key_or_id)
    answer = pick_version(await uow.canned.versions(key), customer.language, default_language)
    if answer is None:
        keys = sorted({a.key for a in await uow.canned.list()})
        raise InvalidInput("key", key, "no such canned answer; known: " + (", ".join(keys) or "-"))
    return answer


@lru_cache(maxsize=8)
def text_index(texts: tuple[str, ...]) -> TextIndex:
    """The fitted index of a set of canned texts: fitted once per version of the canned set
    (and language), not once per ticket."""
    return TextIndex(list(texts))


async def suggest(
    uow: AbstractUnitOfWork, ticket: Ticket, text: str | None, language: str | None, default: str
) -> list[int]:
    """Up to three canned answers for a new ticket: same category first, then similar text."""
    answers = await uow.canned.list()
    if not answers:
        return []
    by_key: dict[str, list[CannedAnswer]] = {}
    for a in answers:
        by_key.setdefault(a.key, []).append(a)
    versions = [v for v in (pick_version(vs, language, default) for vs in by_key.values()) if v]
    scores = text_index(tuple(v.text for v in versions)).scores(text or "")
    ranked = []
    for version, score in zip(versions, scores, strict=True):
        if ticket.category and version.category == ticket.category:
            score += CATEGORY_BONUS
        if score >= MIN_SIMILARITY:
            ranked.append((score, version.key, version))
    ranked.sort(key=lambda r: (-r[0], r[1]))
    return [v.id for _, _, v in ranked[:SUGGESTIONS] if v.id is not None]


async def auto_answer(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    default_language: str,
    ticket: Ticket,
    customer: Customer,
    now: datetime,
) -> bool:
    """Answer a new ticket at once when its category asks for it and triage is confident.

    The answer is recorded as a system message; it does not count as an agent's first response,
    so the SLA keeps waiting for a person.
    """
    if ticket.category is None or ticket.needs_human or ticket.triage_confidence is None:
        return False
    category = await uow.categories.by_key(ticket.category)
    if category is None or category.auto_answer_key is None:
        return False
    if ticket.triage_confidence < (category.auto_answer_threshold or 1.0):
        return False
    answer = pick_version(
        await uow.canned.versions(category.auto_answer_key),
        customer.language,
        default_language,
    )
    if answer is None:
        return False
    text = answer.render(name=customer.first_name, ticket=ticket.number, agent="")
    message = await uow.messages.add(
        TicketMessage(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            direction=MessageDirection.SYSTEM,
            sent_at=now,
            text=text,
            customer_chat_id=customer.telegram_id,
        )
    )
    ticket.auto_answered(answer.key, now)
    await queue(uow, presenter.auto_answered(ticket, customer, message), now)
    return True


async def set_auto_answer(
    uow: AbstractUnitOfWork, actor: TelegramUser, args: str
) -> tuple[str, str | None, float | None]:
    """``/autoanswer <category> <key> [threshold]`` or ``/autoanswer <category> off``."""
    await require_agent(uow, actor, Role.ADMIN)
    parts = args.split()
    usage = "usage: /autoanswer <category> <canned key> [threshold 0.5-1.0], or <category> off"
    if len(parts) < 2:
        raise InvalidInput("command", args, usage)
    category = await uow.categories.by_key(parts[0])
    if category is None:
        keys = ", ".join(c.key for c in await uow.categories.list()) or "none yet"
        raise InvalidInput("category", parts[0], f"unknown category; categories: {keys}")
    if parts[1].lower() == "off":
        category.auto_answer_key = None
        category.auto_answer_threshold = None
    else:
        key = parse_key(parts[1])
        if not await uow.canned.versions(key):
            raise InvalidInput("key", key, "no such canned answer; add it with /canned add")
        threshold = 0.9
        if len(parts) > 2:
            try:
                threshold = float(parts[2])
            except ValueError:
                threshold = -1
            if not 0.5 <= threshold <= 1.0:
                raise InvalidInput("threshold", parts[2], "a confidence from 0.5 to 1.0")
        category.auto_answer_key = key
        category.auto_answer_threshold = threshold
    await uow.commit()
    audit("auto-answer", actor, category=category.key, key=category.auto_answer_key)
    return category.key, category.auto_answer_key, category.auto_answer_threshold
