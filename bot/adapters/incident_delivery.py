"""What the delivery adapter does for incidents: their cards completed when sent, and what
their topic, card and bulk replies change once Telegram has them (see ``delivery.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.utils.i18n import I18n

from bot.adapters.incident_card import (
    SAMPLE_SHOWN,
    IncidentView,
    incident_keyboard,
    render_incident_card,
)
from bot.adapters.markup import markup
from bot.adapters.presenter import Presenter
from bot.services import incidents
from models.delivery import OutboundCall, Ref, Unsendable
from models.incidents import Incident
from storage import AbstractUnitOfWork


class IncidentDelivery:
    """Needs the host's ``i18n``, ``presenter`` and ``language``."""

    i18n: I18n
    presenter: Presenter

    @property
    def language(self) -> str:
        return self.presenter.default_language

    async def _incident(self, uow: AbstractUnitOfWork, incident_id: int | None) -> Incident:
        incident = await uow.incidents.get(incident_id) if incident_id is not None else None
        if incident is None:
            raise Unsendable(f"incident {incident_id} is gone")
        return incident

    async def _incident_card(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        incident = await self._incident(uow, ref.id)
        if incident.card_message_id is None:
            raise Unsendable("the incident has no card")
        return incident.card_message_id

    async def _incident_view(self, uow: AbstractUnitOfWork, incident: Incident) -> IncidentView:
        incident_id = incident.id or 0
        linked, active = await uow.incidents.member_counts(incident_id)
        ends = await uow.incidents.first_and_latest(incident_id)
        sample = await uow.incidents.latest_members(incident_id, SAMPLE_SHOWN)
        return IncidentView(
            linked=linked,
            active=active,
            first=ends[0] if ends else None,
            latest=ends[1] if ends else None,
            sample=sample,
            reply=await uow.incidents.latest_reply(incident_id),
        )

    async def _incident_card_text(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        incident = await self._incident(uow, ref.id)
        view = await self._incident_view(uow, incident)
        with self.i18n.use_locale(self.language):
            return render_incident_card(incident, view, self.presenter.local_time)

    async def _incident_card_markup(self, uow: AbstractUnitOfWork, ref: Ref, now: datetime) -> Any:
        incident = await self._incident(uow, ref.id)
        sample = await uow.incidents.latest_members(incident.id or 0, SAMPLE_SHOWN)
        with self.i18n.use_locale(self.language):
            return markup(incident_keyboard(incident, sample))

    async def _incident_topic(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        incident = await self._incident(uow, call.ref_id or 0)
        incident.agent_chat_id = call.chat_id
        incident.thread_id = result["message_thread_id"]

    async def _incident_card_sent(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        incident = await self._incident(uow, call.ref_id or 0)
        incident.agent_chat_id = call.chat_id
        incident.card_message_id = result["message_id"]

    async def _bulk_reply_sent(
        self, uow: AbstractUnitOfWork, call: OutboundCall, params: Any, result: Any, now: datetime
    ) -> None:
        await incidents.delivered(uow, self.presenter, call.ref_id or 0, ok=True, now=now)
