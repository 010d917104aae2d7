"""The website chat widget as a visitor uses it: the real process (``helpdesk sandbox``: the
bot against its Telegram emulator, with the widget on a pretend company site), the page in
headless Chromium.

A visitor writes in the widget; the ticket opens in the agents' group; the agent's reply in
the topic appears in the widget, also after the visitor reloads; another visitor's token
cannot read it.
"""

from __future__ import annotations

import re

import aiohttp
import pytest

from tests.e2e.test_sandbox_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, sandbox_url
from tests.support.process import BotProcess

__all__ = ["sandbox_url"]  # the fixture, shared with the sandbox's own browser test

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium"),
]

LOOKS_LIKE_HTML = '<img src=x onerror="parent.document.title=1"> <b>bold?</b>'


async def test_a_visitor_writes_in_the_widget_and_the_agents_reply_comes_back(
    sandbox_url: tuple[str, BotProcess],
) -> None:
    from playwright.async_api import async_playwright, expect

    url, _process = sandbox_url
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1600, "height": 900})
            page = await context.new_page()
            page_errors: list[str] = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            await page.goto(url)
            await expect(page.get_by_test_id("status")).to_have_text("connected")
            site = page.frame_locator("[data-testid=widget-frame]")
            chat = site.get_by_test_id("hdw-messages")

            # The visitor writes; the desk answers with the ticket number, in the widget.
            await site.get_by_test_id("hdw-name").fill("Vera")
            await site.get_by_test_id("hdw-input").fill("My parcel never arrived")
            await site.get_by_test_id("hdw-send").click()
            await expect(chat).to_contain_text("ticket #1", timeout=WAIT_MS)
            await site.get_by_test_id("hdw-input").fill(LOOKS_LIKE_HTML)
            await site.get_by_test_id("hdw-send").click()
            await expect(chat).to_contain_text(LOOKS_LIKE_HTML, timeout=WAIT_MS)  # as text

            # The ticket's topic in the agents' group, with the card naming the channel.
            agents = page.get_by_test_id("agent-messages")
            topic = page.get_by_test_id("topic").filter(has_text="#1")
            await topic.click(timeout=WAIT_MS)
            await expect(agents).to_contain_text("My parcel never arrived", timeout=WAIT_MS)
            await expect(agents).to_contain_text("website chat")
            await expect(agents).to_contain_text(LOOKS_LIKE_HTML, timeout=WAIT_MS)

            # The agent answers in the topic; the widget shows it.
            await page.get_by_test_id("agent-input").fill("We found it: it ships today")
            await page.get_by_test_id("agent-send").click()
            reply = chat.locator(".hdw-desk").filter(has_text="We found it: it ships today")
            await expect(reply).to_have_count(1, timeout=WAIT_MS)

            # Away and back: a reply written meanwhile is there after a reload, once.
            await page.get_by_test_id("agent-input").fill("Tracking number: 4711")
            await page.get_by_test_id("agent-send").click()
            await expect(agents).to_contain_text("Tracking number: 4711", timeout=WAIT_MS)
            await page.reload()
            site = page.frame_locator("[data-testid=widget-frame]")
            chat = site.get_by_test_id("hdw-messages")
            await expect(chat).to_contain_text("Tracking number: 4711", timeout=WAIT_MS)
            reply = chat.locator(".hdw-desk").filter(has_text="We found it: it ships today")
            await expect(reply).to_have_count(1)
            await expect(chat.locator(".hdw-visitor")).to_have_count(2)
            assert await page.title() == "Help desk sandbox"  # no visitor text ran as HTML

            # Another visitor (another browser) sees none of it, and cannot read the ticket.
            vera_token = (
                await page.frame_locator("[data-testid=widget-frame]")
                .locator("body")
                .evaluate("() => localStorage.getItem(Object.keys(localStorage)[0])")
            )
            stranger = await browser.new_context()
            other = await stranger.new_page()
            await other.goto(url)
            other_chat = other.frame_locator("[data-testid=widget-frame]").get_by_test_id(
                "hdw-messages"
            )
            await expect(other_chat).to_be_visible(timeout=WAIT_MS)
            await expect(other_chat).not_to_contain_text("4711")
            await _stranger_cannot_read(page.url, str(vera_token), await _widget_origin(page))
            assert page_errors == []
        finally:
            await browser.close()


async def _widget_origin(page: object) -> str:
    """Where the page's widget script comes from (the bot's API server)."""
    frame = page.frame_locator("[data-testid=widget-frame]")  # type: ignore[attr-defined]
    src = await frame.locator("script[src*=widget]").get_attribute("src")
    found = re.match(r"(https?://[^/]+)/", str(src))
    assert found, src
    return found.group(1)


async def _stranger_cannot_read(site_url: str, owner_token: str, server: str) -> None:
    """A second visitor's token gets its own (empty) conversation and a 404 for the owner's
    ticket; the owner's token reads it."""
    origin = site_url.rstrip("/")
    api = f"{server}/widget/v1"
    headers = {"Origin": origin}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{api}/visitors", json={}) as response:
            assert response.status == 201
            stranger = (await response.json())["token"]
        as_stranger = {"Authorization": f"Bearer {stranger}"}
        async with http.get(f"{api}/messages", headers=as_stranger) as response:
            assert response.status == 200
            assert (await response.json())["messages"] == []
        async with http.get(f"{api}/tickets/1", headers=as_stranger) as response:
            assert response.status == 404
        as_owner = {"Authorization": f"Bearer {owner_token}"}
        async with http.get(f"{api}/tickets/1", headers=as_owner) as response:
            assert response.status == 200
        async with http.get(f"{api}/messages", headers=as_owner) as response:
            texts = [m["text"] for m in (await response.json())["messages"]]
            assert "Tracking number: 4711" in texts
