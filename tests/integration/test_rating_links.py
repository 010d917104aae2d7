"""CSAT by email over real HTTP: the "resolved" mail (received by aiosmtpd) carries one link
per score; the link's page (the rating app on a free port, as the API's server mounts it)
records a rating like the Telegram star buttons, once; a tampered token records nothing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.api.csat import RatingDeps, make_rating_app
from tests.bot.test_linking import agents_say, mail_arrives
from tests.support.desk import Desk, card_of, make_desk, press
from tests.support.desk import open_ticket as telegram_customer_writes
from tests.support.mails import ANN, customer_mail, email_settings
from tests.support.mailservers import Outbox

PUBLIC = "https://desk.example"


@pytest.fixture
async def desk(tmp_path: Path, db_url: str, smtp: tuple[Outbox, int]) -> AsyncIterator[Desk]:
    d = await make_desk(
        tmp_path,
        database_url=db_url,
        **email_settings(smtp[1]),
        api_port=8081,  # never listened on here: the test serves the rating app itself
        public_url=PUBLIC,
    )
    yield d
    await d.close()


@pytest.fixture
async def server(desk: Desk) -> AsyncIterator[str]:
    """The rating pages of ``desk`` on a free port; their base URL."""
    links = desk.dp["desk_config"].rating_links
    assert links is not None
    app = web.Application()
    app.add_subapp(
        "/csat/",
        make_rating_app(RatingDeps(desk.uow_factory, desk.presenter, desk.presenter.i18n, links)),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


def mail_text(mail: EmailMessage) -> tuple[str, str]:
    plain = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    return plain.get_content(), html.get_content()


async def resolved_by_mail(desk: Desk, mails: list[EmailMessage]) -> tuple[Any, list[str]]:
    """Ann writes by mail, the admin resolves the ticket; the links of the resolved mail."""
    await mail_arrives(desk, customer_mail("m1@example.com", "Refund", "Where is my refund?"))
    async with desk.uow_factory() as uow:
        customer = await uow.customers.by_email(ANN)
        ticket = await uow.tickets.latest_for_customer(customer.id)
    await press(desk, desk.admin, card_of(desk, ticket), "Resolve")
    plain, html = mail_text(mails[-1])
    assert "is resolved" in plain
    links = re.findall(r'href="([^"]+)"', html)
    assert len(links) == 5, html
    assert all(link.startswith(f"{PUBLIC}/csat/v1/") for link in links)
    assert links[0] in plain.replace("\n", "")  # the text part shows them too
    return ticket, [link.replace("&amp;", "&") for link in links]


async def fetch(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, str, Any]:
    async with http.request(method, url, allow_redirects=False, **kwargs) as response:
        return response.status, await response.text(), response.headers


async def score_of(desk: Desk, ticket: Any) -> int | None:
    async with desk.uow_factory() as uow:
        rating = await uow.ratings.for_ticket(ticket.id)
    return None if rating is None else rating.score


class TestRatingLink:
    async def test_the_link_asks_then_the_button_records_once(
        self, desk: Desk, smtp: tuple[Outbox, int], server: str
    ) -> None:
        ticket, links = await resolved_by_mail(desk, smtp[0].mails)
        url = links[3].replace(PUBLIC, server)  # "4 ⭐"
        async with aiohttp.ClientSession() as http:
            status, page, headers = await fetch(http, "GET", url)
            assert status == 200
            assert headers["Content-Type"].startswith("text/html")
            assert headers["Cache-Control"] == "no-store"
            assert headers["Referrer-Policy"] == "no-referrer"
            assert f"ticket #{ticket.number}" in page
            assert '<button name="score" value="4" class="chosen" autofocus>' in page
            assert await score_of(desk, ticket) is None  # opening the link records nothing
            post = url.split("?")[0]
            status, page, _ = await fetch(http, "POST", post, data={"score": "4"})
            assert status == 200
            assert f"Your rating of ticket #{ticket.number}: 4 ⭐." in page
            assert await score_of(desk, ticket) == 4
            await desk.sender.flush(ignore_delays=True)
            assert (
                "Customer rating: 4/5" in card_of(desk, await desk.ticket(ticket.number))["text"]
            )
            # The same press again, another score later, the link again: the first one stays.
            for score in ("4", "1"):
                status, page, _ = await fetch(http, "POST", post, data={"score": score})
                assert status == 200
                assert f"Ticket #{ticket.number} is rated already: 4 ⭐." in page
            status, page, _ = await fetch(http, "GET", links[0].replace(PUBLIC, server))
            assert (status, "rated already: 4 ⭐" in page) == (200, True)
        assert await score_of(desk, ticket) == 4
        async with desk.uow_factory() as uow:
            assert not await uow.outbox.failed()

    async def test_a_tampered_token_is_refused_and_records_nothing(
        self, desk: Desk, smtp: tuple[Outbox, int], server: str
    ) -> None:
        ticket, links = await resolved_by_mail(desk, smtp[0].mails)
        post = links[4].replace(PUBLIC, server).split("?")[0]
        token = post.rsplit("/", 1)[1]
        other = "B" if token[-1] != "B" else "C"
        tampered = [
            post[:-1] + other,  # one character of the signature
            post.replace(f"/{token}", f"/{ticket.id + 1}-{token.split('-')[1]}"),  # the ticket
            post.replace(f"/{token}", f"/{ticket.id}"),  # the ticket alone
        ]
        async with aiohttp.ClientSession() as http:
            for url in tampered:
                for method in ("GET", "POST"):
                    status, page, _ = await fetch(http, method, url, data={"score": "5"})
                    assert status == 404, (method, url)
                    assert "This rating link is not valid" in page
            status, _page, headers = await fetch(http, "POST", post, data={"score": "9"})
            assert (status, headers["Location"]) == (303, post.removeprefix(server))
        assert await score_of(desk, ticket) is None

    async def test_a_reopened_ticket_waits_for_its_resolution(
        self, desk: Desk, smtp: tuple[Outbox, int], server: str
    ) -> None:
        ticket, links = await resolved_by_mail(desk, smtp[0].mails)
        await mail_arrives(
            desk,
            customer_mail(
                "m2@example.com", "Re: Refund", "still nothing", In_Reply_To="<m1@example.com>"
            ),
        )
        post = links[1].replace(PUBLIC, server).split("?")[0]
        async with aiohttp.ClientSession() as http:
            status, page, _ = await fetch(http, "POST", post, data={"score": "2"})
        assert status == 200
        assert f"Ticket #{ticket.number} is open again" in page
        assert await score_of(desk, ticket) is None


async def test_a_telegram_customer_gets_buttons_not_links(desk: Desk) -> None:
    ann = desk.emulator.add_user("Tom")
    desk.emulator.user_sends_text(ann, "broken")
    await desk.step()
    async with desk.uow_factory() as uow:
        customer = await uow.customers.by_telegram_id(ann["id"])
        ticket = await uow.tickets.latest_for_customer(customer.id)
    await press(desk, desk.admin, card_of(desk, ticket), "Resolve")
    notice = desk.to_user(ann)[-1]
    assert "/csat/" not in str(notice)
    assert "4 ⭐" in str(notice["reply_markup"])


async def test_a_linked_customer_who_last_mailed_gets_the_links(
    desk: Desk, smtp: tuple[Outbox, int], server: str
) -> None:
    ann, ticket = await telegram_customer_writes(desk, "Ann", "My card was charged twice")
    answer = await agents_say(desk, f"/link {ANN}", ticket.agent_thread_id)
    assert f"{ANN} is linked to Ann" in answer
    await mail_arrives(desk, customer_mail("n1@example.com", "Card", "Any news?"))
    await press(desk, desk.admin, card_of(desk, ticket), "Resolve")
    _plain, html = mail_text(smtp[0].mails[-1])
    [five] = re.findall(r'href="([^"]+score=5)"', html)
    post = five.replace(PUBLIC, server).split("?")[0]
    async with aiohttp.ClientSession() as http:
        status, page, _ = await fetch(http, "POST", post, data={"score": "5"})
    assert (status, f"Your rating of ticket #{ticket.number}: 5 ⭐." in page) == (200, True)
    assert await score_of(desk, ticket) == 5
    assert not any("Rate the help" in t for t in desk.texts_to(ann))  # the notice was a mail
