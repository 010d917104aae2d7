"""``helpdesk sandbox`` as a person uses it: the real process, its page in headless Chromium."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.images import tiny_png
from tests.support.net import free_port
from tests.support.process import BotProcess

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium; "
        ".ci/run installs it)",
    ),
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 20_000
LOOKS_LIKE_HTML = '<img src=x onerror="document.title=1"> <b>twice</b>'


@pytest.fixture
async def sandbox_url(tmp_path: Path) -> AsyncIterator[tuple[str, BotProcess]]:
    port = free_port()
    process = BotProcess(
        [sys.executable, "-m", "bot", "sandbox", "--no-browser", "--port", str(port)],
        {"PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        log_path=tmp_path / "sandbox.log",
    )
    await process.start()
    try:
        await process.wait_for_output("Sandbox: http", timeout=60)
        found = re.search(r"Sandbox: (http://\S+)", process.output)
        assert found, process.output
        yield found.group(1), process
    finally:
        if process.running:
            await process.terminate(timeout=15)


async def test_a_customer_message_becomes_a_ticket_and_the_agent_reply_comes_back(
    sandbox_url: tuple[str, BotProcess],
) -> None:
    from playwright.async_api import async_playwright, expect

    url, process = sandbox_url
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            page_errors: list[str] = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            await page.goto(url)
            await expect(page.get_by_test_id("status")).to_have_text("connected")

            customer = page.get_by_test_id("customer-messages")
            agents = page.get_by_test_id("agent-messages")

            # The customer writes; the bot confirms and opens a topic with the ticket card.
            await page.get_by_test_id("customer-input").fill("My card was charged twice")
            await page.get_by_test_id("customer-send").click()
            await expect(customer).to_contain_text("ticket #1", timeout=WAIT_MS)
            topic = page.get_by_test_id("topic").filter(has_text="#1 · billing")
            await expect(topic).to_be_visible(timeout=WAIT_MS)

            # A photo from the customer lands in the same topic; markup in a text stays text.
            await page.locator("#customer-form input[type=file]").set_input_files(
                {"name": "statement.png", "mimeType": "image/png", "buffer": tiny_png()}
            )
            await page.get_by_test_id("customer-input").fill(LOOKS_LIKE_HTML)
            await page.get_by_test_id("customer-send").click()

            await topic.click()
            card = agents.get_by_test_id("message").filter(has_text="🎫")
            await expect(card).to_contain_text("#1", timeout=WAIT_MS)
            await expect(card).to_contain_text("Category: billing")
            await expect(card).to_contain_text("Status: New")
            await expect(card.locator("b").first).to_have_text("#1")  # the bot's HTML, rendered
            await expect(agents).to_contain_text("My card was charged twice")
            await expect(agents).to_contain_text(LOOKS_LIKE_HTML, timeout=WAIT_MS)
            await expect(agents.locator("img")).to_have_count(1, timeout=WAIT_MS)

            # A card button: the card is edited in place.
            card_id = await card.get_attribute("data-id")
            await card.get_by_test_id("inline-button").filter(has_text="Claim").click()
            await expect(card).to_contain_text("Assignee: Alice Admin", timeout=WAIT_MS)
            await expect(card).to_contain_text("edited")
            assert await card.get_attribute("data-id") == card_id

            # A note stays in the group; a plain message reaches the customer.
            await page.get_by_test_id("agent-input").fill("// refund id 7781")
            await page.get_by_test_id("agent-send").click()
            await expect(agents).to_contain_text("internal note", timeout=WAIT_MS)
            await page.get_by_test_id("agent-input").fill("Sorry about that, refund is on the way")
            await page.get_by_test_id("agent-send").click()
            await expect(customer).to_contain_text(
                "Sorry about that, refund is on the way", timeout=WAIT_MS
            )
            await expect(customer).not_to_contain_text("7781")
            await expect(card).to_contain_text("Status: Waiting", timeout=WAIT_MS)
            assert page_errors == []
        finally:
            await browser.close()

    assert await process.terminate(timeout=15) == 0, process.output
    assert "Sandbox stopped." in process.output
