"""Surge detection: a new ticket joins an open incident, or completes a cluster and opens one.

Every new ticket with words in it is compared (cosine similarity of the hashed n-gram vectors
of :mod:`triage.similar`) with the open incidents' newest tickets: one that is close enough
joins the incident and gets no topic of its own; its customer still gets their ticket number.
Otherwise it is compared with the other recent tickets that are in no incident, and when the
rule of :func:`models.incidents.surge_cluster` finds a cluster, an incident is opened with them,
unless an open incident of the same category was active within the window
(:func:`models.incidents.related`): the cluster joins that one (one outage, told in other words
or in another language).

Several workers may detect the same surge at once. Detection reads without a lock first (the
common case finds nothing); when it finds a cluster it takes the incident lock
(:meth:`storage.incidents.IncidentRepository.lock`) and decides again on what is committed by
then, so a second worker finds the first one's incident and joins it instead of opening its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from bot.services import desk_settings
from bot.services.customers import queue
from bot.services.ports import Presenter
from models import MessageDirection, Ticket
from models.delivery import OutboundCall
from models.incidents import Incident, SurgeRule, clusterable, joins, related, surge_cluster
from storage import AbstractUnitOfWork
from triage.similar import similarity_vectors

#: A new ticket is compared with this many of an open incident's newest tickets.
SAMPLE = 20
#: At most this many recent tickets are candidates of a new cluster (the newest).
CANDIDATES = 300


async def surge_rule(uow: AbstractUnitOfWork) -> SurgeRule | None:
    """The admins' settings as a rule; None when incidents are switched off."""
    size = await desk_settings.get(uow, "incident_size")
    if not size:
        return None
    return SurgeRule(
        window=await desk_settings.get(uow, "incident_window"),
        size=size,
        threshold=await desk_settings.get(uow, "incident_similarity"),
    )


def _similarities(texts: Sequence[str]) -> list[list[float]]:
    return similarity_vectors(texts).gram().tolist()  # type: ignore[no-any-return]


async def _similarity_matrix(texts: Sequence[str]) -> list[list[float]]:
    return await asyncio.to_thread(_similarities, texts)


# -- a new ticket ------------------------------------------------------------------------------


async def place(
    uow: AbstractUnitOfWork, presenter: Presenter, ticket: Ticket, now: datetime
) -> Incident | None:
    """A ticket was just opened (added, not committed): link it to an incident when it is
    part of a surge. Returns that incident (the ticket then gets no topic), or None.

    Queues what the agents see: the incident's topic and card when this ticket completes a
    cluster, a line in the topics of cluster members that have one, the card's new count.
    """
    rule = await surge_rule(uow)
    if rule is None or ticket.id is None or not clusterable(ticket.subject):
        return None
    cluster: list[int] = []
    incident = await _incident_to_join(uow, ticket, rule)
    if incident is None:
        members = await _cluster(uow, ticket, rule, now)
        if members is None:
            return None
        await uow.incidents.lock()
        # Decide again on what is committed now: another worker may have opened it meanwhile.
        incident = await _incident_to_join(uow, ticket, rule)
        if incident is None:
            members = await _cluster(uow, ticket, rule, now)
            if members is None:
                return None
            category = None if ticket.needs_human else ticket.category  # a guess links nothing
            incident = related(await uow.incidents.open(), category, rule.since(now))
            if incident is None:
                return await _open(uow, presenter, ticket, members, now)
            cluster = members  # a cluster of the incident's category, in other words
    # Resolve, split and bulk replies lock the incident too: this ticket joins before or after
    # one of them, never while its list of tickets is being read.
    locked = await uow.incidents.get_for_update(incident.id or 0)
    if locked is None or not locked.is_open:
        return None  # it ended meanwhile: a ticket of its own
    ticket.incident_id = locked.id
    locked.updated_at = now
    calls: list[OutboundCall] = []
    if cluster:
        calls += await _link_members(uow, presenter, cluster[1:], locked)
        calls += presenter.cluster_joined(locked, ticket.subject, len(cluster))
    await queue(uow, calls + presenter.incident_changed(locked), now)
    return locked


async def _incident_to_join(
    uow: AbstractUnitOfWork, ticket: Ticket, rule: SurgeRule
) -> Incident | None:
    """The open incident the ticket is most similar to, if it is similar enough."""
    best: tuple[float, Incident] | None = None
    for incident in await uow.incidents.open():
        subjects = await uow.incidents.member_subjects(incident.id or 0, SAMPLE)
        matrix = await _similarity_matrix([ticket.subject, *subjects])
        score = joins(matrix[0][1:], rule.threshold)
        if score is not None and (best is None or score > best[0]):
            best = (score, incident)
    return best[1] if best is not None else None


async def _cluster(
    uow: AbstractUnitOfWork, ticket: Ticket, rule: SurgeRule, now: datetime
) -> list[int] | None:
    """Ids of the recent tickets (this one first) that form a cluster with it, if any."""
    assert ticket.id is not None
    rows = await uow.incidents.unlinked_since(rule.since(now), exclude=ticket.id, limit=CANDIDATES)
    candidates = [(i, subject) for i, subject in rows if clusterable(subject)]
    if len(candidates) + 1 < rule.size:
        return None
    matrix = await _similarity_matrix([ticket.subject] + [s for _, s in candidates])
    found = surge_cluster(matrix, rule)
    if found is None:
        return None
    ids = [ticket.id] + [i for i, _ in candidates]
    return [ids[k] for k in found]


async def _open(
    uow: AbstractUnitOfWork,
    presenter: Presenter,
    ticket: Ticket,
    members: list[int],
    now: datetime,
) -> Incident:
    """A new incident with the cluster's tickets (called under the lock)."""
    number = await uow.incidents.lock() + 1
    incident = await uow.incidents.add(
        Incident(
            number=number,
            created_at=now,
            updated_at=now,
            category=ticket.category,
            subject=ticket.subject,
        )
    )
    ticket.incident_id = incident.id
    calls = presenter.incident_opened(incident)
    calls += await _link_members(uow, presenter, members[1:], incident)
    await queue(uow, calls, now)
    return incident


async def _link_members(
    uow: AbstractUnitOfWork, presenter: Presenter, member_ids: list[int], incident: Incident
) -> list[OutboundCall]:
    calls: list[OutboundCall] = []
    for member_id in member_ids:
        member = await uow.tickets.get(member_id)
        if member is None:
            continue
        member.incident_id = incident.id
        calls += presenter.linked_to_incident(member, incident)
    return calls


def topicless(ticket: Ticket) -> bool:
    """A ticket worked in its incident: linked, with no topic or card of its own."""
    return (
        ticket.incident_id is not None
        and ticket.agent_thread_id is None
        and ticket.card_message_id is None
    )


async def follow_up(
    uow: AbstractUnitOfWork, presenter: Presenter, ticket: Ticket, now: datetime
) -> list[OutboundCall]:
    """A customer wrote again in a ticket that has no topic of its own: while its incident is
    open, the incident's card counts it (no copy: 300 "any news?" would drown the group);
    once the incident is over, the ticket gets its own topic back."""
    incident = await uow.incidents.get(ticket.incident_id or 0)
    if incident is not None and incident.is_open:
        incident.updated_at = now
        return presenter.incident_changed(incident)
    return await release(uow, presenter, ticket, incident)


async def release(
    uow: AbstractUnitOfWork, presenter: Presenter, ticket: Ticket, incident: Incident | None
) -> list[OutboundCall]:
    """Take a ticket out of its incident: a topic and card of its own (with what its customer
    wrote that the agents have not seen), or a line in the topic it kept."""
    alone = topicless(ticket)
    ticket.incident_id = None
    ticket.incident_detached = True
    if not alone:
        return presenter.left_incident(ticket, incident)
    unseen = [
        m
        for m in await uow.messages.for_ticket(ticket.id or 0)
        if m.direction is MessageDirection.CUSTOMER
        and not m.on_card
        and m.agent_message_id is None
    ]
    return presenter.ticket_topic(ticket) + presenter.unseen_messages(ticket, unseen)
