"""The rating pages of "resolved" mails, on the REST API's server under ``/csat/``.

``GET /csat/v1/<token>?score=4`` (the link in the mail) records nothing: it shows the five
scores with the clicked one marked, as a form. Mail scanners and link previews open every
link of a mail on their own, and a GET that recorded would have them rate tickets (the first
link, 1 star, first); the customer's press of a button (``POST /csat/v1/<token>``, the same
token, ``score`` in the form) records the rating, as a Telegram star button does. A repeated
press, or another score later, shows the rating given first: the link is idempotent.

A token this desk did not sign (changed, truncated, made up) gets a ``404`` page saying the link
is not valid, and nothing is looked up. Pages are tiny HTML in the customer's language, never
cached, never framed, and send no referrer (the token is in the URL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.services import csat as use
from bot.services.ports import Clock, Presenter, SystemClock, UowFactory
from models.csat import SCORES, RatingLinks, parse_score

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em}"
    "button{font-size:1.1em;margin:.2em;padding:.4em .8em}button.chosen{font-weight:bold;"
    "outline:3px solid #2a7ae2}"
)


@dataclass
class RatingDeps:
    uow_factory: UowFactory
    presenter: Presenter
    i18n: I18n
    links: RatingLinks
    default_language: str = "en"
    clock: Clock = field(default_factory=SystemClock)
    wake: Callable[[], None] | None = None  # the sender: the card's update goes out now


class RatingPages:
    def __init__(self, deps: RatingDeps) -> None:
        self.deps = deps

    def _page(self, title: str, body: str, status: int = 200) -> web.Response:
        html = (
            '<!doctype html><html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><h1>{escape(title)}</h1>{body}</body></html>"
        )
        return web.Response(
            text=html, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS
        )

    def _language(self, seen: use.LinkRating) -> str:
        locales = self.deps.i18n.available_locales
        return seen.language if seen.language in locales else self.deps.default_language

    def _invalid(self) -> web.Response:
        with self.deps.i18n.context(), self.deps.i18n.use_locale(self.deps.default_language):
            title = _("This rating link is not valid")
            text = _("Please use the link from our mail exactly as it is.")
        return self._page(title, f"<p>{escape(text)}</p>", 404)

    def _answer(self, token: str, seen: use.LinkRating, chosen: int | None) -> web.Response:
        with self.deps.i18n.context(), self.deps.i18n.use_locale(self._language(seen)):
            return self._render(token, seen, chosen)

    def _render(self, token: str, seen: use.LinkRating, chosen: int | None) -> web.Response:
        number, score = seen.number, seen.score
        if seen.outcome is use.Outcome.UNKNOWN:
            return self._invalid()
        if seen.outcome is use.Outcome.RECORDED:
            title = _("Thank you!")
            text = _("Your rating of ticket #{number}: {score} ⭐.").format(
                number=number, score=score
            )
        elif seen.outcome is use.Outcome.ALREADY:
            title = _("Thank you!")
            text = _("Ticket #{number} is rated already: {score} ⭐.").format(
                number=number, score=score
            )
        elif seen.outcome is use.Outcome.NOT_YET:
            title = _("Ticket #{number} is open again").format(number=number)
            text = _("You can rate it when it is resolved.")
        else:
            title = _("How did we do?")
            question = _("Rate the help you got with ticket #{number}:").format(number=number)
            buttons = "".join(
                f'<button name="score" value="{s}"'
                + (' class="chosen" autofocus' if s == chosen else "")
                + f">{s} ⭐</button>"
                for s in SCORES
            )
            form = f'<form method="post" action="{escape(token)}">{buttons}</form>'
            return self._page(title, f"<p>{escape(question)}</p>{form}")
        return self._page(title, f"<p>{escape(text)}</p>")

    async def show(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        ticket_id = self.deps.links.ticket_of(token)
        if ticket_id is None:
            return self._invalid()
        async with self.deps.uow_factory(readonly=True) as uow:
            seen = await use.look(uow, ticket_id)
        return self._answer(token, seen, parse_score(request.query.get("score")))

    async def rate(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        ticket_id = self.deps.links.ticket_of(token)
        if ticket_id is None:
            return self._invalid()
        form = await request.post()
        score = parse_score(str(form.get("score", "")))
        if score is None:
            raise web.HTTPSeeOther(request.path)
        try:
            async with self.deps.uow_factory() as uow:
                seen = await use.rate_by_link(
                    uow, self.deps.presenter, ticket_id, score, self.deps.clock.now()
                )
        except IntegrityError:  # another press recorded one at the same moment
            async with self.deps.uow_factory(readonly=True) as uow:
                seen = await use.look(uow, ticket_id)
        if seen.outcome is use.Outcome.RECORDED and self.deps.wake is not None:
            self.deps.wake()
        return self._answer(token, seen, score)


def make_rating_app(deps: RatingDeps) -> web.Application:
    """The sub-application mounted at ``/csat/``."""
    pages = RatingPages(deps)
    app = web.Application(client_max_size=4096)
    app.router.add_get("/v1/{token}", pages.show)
    app.router.add_post("/v1/{token}", pages.rate)
    return app
