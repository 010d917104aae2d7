"""Mails in: a stored mail opens a ticket or joins one, through the same use case as a
customer's Telegram message (:func:`bot.services.conversation.customer_message`).

Which ticket a mail joins is :mod:`models.mail`'s rule (its thread, ``[#42]``, else a new
ticket; a flooding sender's newest). The mail's row in the mail log is settled in the
transaction that records its message, so a mail is applied once however often it is fetched
(see :mod:`bot.runtime.mail_intake`).
"""

from __future__ import annotations

from datetime import datetime

from bot.services import desk_settings, similar
from bot.services.conversation import (
    CustomerMessageResult,
    DeskConfig,
    Incoming,
    customer_message,
)
from bot.services.customers import person_of
from bot.services.finality import merge_target
from bot.services.ports import Presenter, TelegramUser
from bot.services.triage_port import Triage
from models import Customer, Ticket
from models.delivery import Channel
from models.mail import (
    NEW_TICKETS_PER_WINDOW,
    InboundMail,
    MailStatus,
    StoredMail,
    bare_subject,
    flooding,
    skipped,
    stand_in_chat_id,
    subject_number,
)
from storage import AbstractUnitOfWork


async def receive(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    triage: Triage,
    config: DeskConfig,
    stored: StoredMail,
    mail: InboundMail,
    desk_address: str,
    now: datetime,
    *,
    solved: similar.SimilarTickets | None = None,
) -> CustomerMessageResult | None:
    """Apply one stored mail; None when a machine sent it (recorded with the reason, no
    ticket, no answer: see :func:`models.mail.skipped`)."""
    headers = mail.headers
    reason = skipped(headers, desk_address)
    if reason is not None:
        await uow.mail.settle(stored.id, MailStatus.SKIPPED, now, reason=str(reason))
        await uow.commit()
        return None
    customer = await _customer(uow, headers.sender, headers.sender_name, config, now)
    # A linked address is one of a Telegram customer's ways in: its mails thread into that
    # person's tickets, and one without thread information joins their current ticket, as a
    # message in their chat would (an address of its own opens a ticket per new subject).
    person = await person_of(uow, customer)
    linked = person is not customer
    window = await desk_settings.get(uow, "reopen_window", config.reopen_window)
    joins = await _thread_ticket(uow, person, mail) or await _held(uow, person, now)
    if joins is not None and not joins.accepts_customer_message(now, window):
        joins = None
    msg = Incoming(
        user=TelegramUser(
            id=customer.telegram_id,
            first_name=customer.first_name,
            last_name=customer.last_name,
            language_code=customer.language_code,
        ),
        chat_id=customer.telegram_id,
        message_id=stored.id,
        sent_at=mail.sent_at,
        # An empty mail still says something: its subject, or that it came.
        text=mail.text or headers.subject or "✉️",
        channel=Channel.EMAIL,
        subject=bare_subject(headers.subject) or None,
        files=mail.files,
    )
    await uow.mail.settle(stored.id, MailStatus.DONE, now)  # committed with the message
    result = await customer_message(
        uow,
        presenter,
        triage,
        config,
        msg,
        customer.language or config.default_language,
        now,
        force_new=joins is None and not linked,
        joins=joins,
        solved=solved,
    )
    if result.duplicate:  # its message was recorded before: only the mail's row was behind
        await uow.commit()
    return result


async def _customer(
    uow: AbstractUnitOfWork, address: str, name: str, config: DeskConfig, now: datetime
) -> Customer:
    """The customer behind an address, registered at their first mail (named as their mail
    client names them, else by the address's local part)."""
    customer = await uow.customers.by_email(address)
    if customer is not None:
        if name:
            customer.first_name, customer.last_name = name, None
        return customer
    customer = Customer(
        telegram_id=stand_in_chat_id(address),
        first_name=name or address.partition("@")[0],
        email=address,
        language=config.default_language,
        created_at=now,
    )
    return await uow.customers.add(customer)


async def _held(uow: AbstractUnitOfWork, customer: Customer, now: datetime) -> Ticket | None:
    """A flooding sender's newest ticket (see :func:`models.mail.flooding`), else None."""
    latest = await uow.tickets.for_customer(customer.id or 0, limit=NEW_TICKETS_PER_WINDOW)
    if not flooding((t.created_at for t in latest), now):
        return None
    return await merge_target(uow, latest[0])


async def _thread_ticket(
    uow: AbstractUnitOfWork, customer: Customer, mail: InboundMail
) -> Ticket | None:
    """The ticket the mail answers: by the message ids it refers to (nearest first), else by
    ``[#42]`` in its subject; only one of the sender's own (a merged one's target)."""
    ids = mail.headers.thread_ids
    found = await uow.mail.tickets_of(ids)
    candidates = [found[i] for i in ids if i in found]
    for ticket_id in candidates:
        ticket = await merge_target(uow, await uow.tickets.get(ticket_id))
        if ticket is not None and ticket.customer_id == customer.id:
            return ticket
    number = subject_number(mail.headers.subject)
    if number is not None:
        ticket = await merge_target(uow, await uow.tickets.by_number(number))
        if ticket is not None and ticket.customer_id == customer.id:
            return ticket
    return None
