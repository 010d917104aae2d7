"""Similar solved tickets in the agents' group: the card's button, a draft, "Send as is"."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.callbacks import SimilarAction, SimilarCb
from bot.context import HandlerContext
from bot.filters import InAgentsGroup
from bot.handlers.common import answer
from bot.services import drafts, similar
from bot.services.auth import require_agent


async def on_show(
    callback: CallbackQuery,
    callback_data: SimilarCb,
    ctx: HandlerContext,
    solved: similar.SimilarTickets,
) -> None:
    """The card's "Similar" button: the similar solved tickets, posted in the topic."""
    await require_agent(ctx.uow, ctx.actor)
    await similar.show_similar(ctx.uow, ctx.presenter, solved, callback_data.t, ctx.now())
    await answer(callback)


async def on_reply(callback: CallbackQuery, callback_data: SimilarCb, ctx: HandlerContext) -> None:
    """A listed ticket's button (its reply, posted in the topic as a draft) or "Send as is"
    under a draft (the reply goes to the customer)."""
    agent = await require_agent(ctx.uow, ctx.actor)
    use = drafts.send_solution if callback_data.a is SimilarAction.SEND else drafts.draft_from
    sent = await use(ctx.uow, ctx.presenter, agent, callback_data.t, callback_data.s, ctx.now())
    await answer(callback, _("Sent.") if sent is not None else None)


def build_router(agent_chat_id: int) -> Router:
    """Similar-ticket buttons, limited to the agents' group."""
    router = Router(name=__name__)
    in_group = InAgentsGroup(agent_chat_id)
    router.callback_query.filter(in_group)
    router.callback_query.register(on_show, SimilarCb.filter(F.a == SimilarAction.SHOW))
    router.callback_query.register(on_reply, SimilarCb.filter())
    return router
