"""Canned answers: admins keep them, agents send them with ``/c <key>`` or one tap on the card.

New tickets get up to three suggestions (by category and text similarity); a category can
answer automatically when the classifier is confident enough.
"""

from __future__ import annotations

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


async def list_canned(uow: AbstractUnitOfWork, actor: TelegramUser) -> list[CannedAnswer]:
    """Every canned answer, for agents."""
    await require_agent(uow, actor)
    return await uow.canned.list()


async def save_canned(
    uow: AbstractUnitOfWork,
    actor: TelegramUser,
    key: str,
    options: list[str],
    text: str,
    languages: tuple[str, list[str]],
    now: datetime,
) -> str:
    """An admin adds or replaces the answer ``key`` in a language (``options``: a language,
    else the desk's default, and a category to suggest it for); returns the key.
    ``languages``: the desk's default and the supported ones."""
    admin = await require_agent(uow, actor, Role.ADMIN)
    key = parse_key(key)
    default_language, supported = languages
    language, category = await _options(uow, options, supported)
    text = check_template(text)
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
    return key


async def remove_canned(
    uow: AbstractUnitOfWork,
    actor: TelegramUser,
    key: str,
    options: list[str],
    languages: list[str],
) -> int:
    """An admin deletes the answer ``key`` in one language (``options``), or in all; returns
    how many versions went."""
    await require_agent(uow, actor, Role.ADMIN)
    key = parse_key(key)
    language, _category = await _options(uow, options, languages)
    removed = await uow.canned.remove(key, language)
    if not removed:
        raise InvalidInput("key", key, "no such canned answer")
    await uow.commit()
    audit("canned removed", actor, key=key, language=language)
    return removed


async def _options(
    uow: AbstractUnitOfWork, options: list[str], languages: list[str]
) -> tuple[str | None, str | None]:
    """A language and a category, in any order (each at most once)."""
    language = None
    category = None
    for extra in options:
        if extra.lower() in languages and language is None:
            language = extra.lower()
        elif await uow.categories.by_key(extra) is not None and category is None:
            category = extra.lower()
        else:
            raise InvalidInput(
                "option", extra, f"not a language ({', '.join(languages)}) nor a category"
            )
    return language, category


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
    uow: AbstractUnitOfWork,
    actor: TelegramUser,
    category_key: str,
    answer_key: str | None,
    threshold: float = 0.9,
) -> tuple[str, str | None, float | None]:
    """An admin has a category's new tickets answered with the canned answer ``answer_key``
    when triage is at least ``threshold`` sure (None: not any more)."""
    await require_agent(uow, actor, Role.ADMIN)
    category = await uow.categories.by_key(category_key)
    if category is None:
        keys = ", ".join(c.key for c in await uow.categories.list()) or "none yet"
        raise InvalidInput("category", category_key, f"unknown category; categories: {keys}")
    if answer_key is None:
        category.auto_answer_key = None
        category.auto_answer_threshold = None
    else:
        key = parse_key(answer_key)
        if not await uow.canned.versions(key):
            raise InvalidInput("key", key, "no such canned answer; add it with /canned add")
        if not 0.5 <= threshold <= 1.0:
            raise InvalidInput("threshold", threshold, "a confidence from 0.5 to 1.0")
        category.auto_answer_key = key
        category.auto_answer_threshold = threshold
    await uow.commit()
    audit("auto-answer", actor, category=category.key, key=category.auto_answer_key)
    return category.key, category.auto_answer_key, category.auto_answer_threshold
