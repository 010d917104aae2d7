"""The sandbox's email pane as a person uses it: the real process (``helpdesk sandbox``), its
page in headless Chromium. A customer mails the desk from the pretend mailbox, the agent
answers in the topic, the answer arrives in the mailbox; linked to the customer's Telegram,
the conversation goes on in the chat and back by mail, in one ticket."""

from __future__ import annotations

import pytest

from tests.e2e.test_sandbox_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, sandbox_url
from tests.support.process import BotProcess

__all__ = ["sandbox_url"]  # the fixture, shared with the sandbox's own browser test

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium; "
        ".ci/run installs it)",
    ),
]


@pytest.mark.timeout(240)
async def test_a_mail_from_the_pretend_mailbox_becomes_a_ticket_answered_by_mail(
    sandbox_url: tuple[str, BotProcess],
) -> None:
    from playwright.async_api import async_playwright, expect

    url, _process = sandbox_url
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1500, "height": 1000})
            page_errors: list[str] = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            await page.goto(url)
            await expect(page.get_by_test_id("status")).to_have_text("connected")
            mailbox = page.get_by_test_id("mail-list")
            agents = page.get_by_test_id("agent-messages")
            customer = page.get_by_test_id("customer-messages")

            async def agent_writes(text: str) -> None:
                await page.get_by_test_id("agent-input").fill(text)
                await page.get_by_test_id("agent-send").click()

            # Ann mails the desk: the ticket's number comes back by mail, a topic opens.
            await expect(page.get_by_test_id("mail-persona")).to_have_value("ann@example.com")
            await page.get_by_test_id("mail-subject").fill("Parcel")
            await page.get_by_test_id("mail-text").fill("Where is my parcel?")
            await page.get_by_test_id("mail-send").click()
            await expect(mailbox).to_contain_text("registered as ticket #1", timeout=WAIT_MS)
            topic = page.get_by_test_id("topic").filter(has_text="#1 ·")
            await expect(topic).to_be_visible(timeout=WAIT_MS)
            await topic.click()
            card = agents.get_by_test_id("message").filter(has_text="🎫")
            await expect(card).to_contain_text("email: ann@example.com", timeout=WAIT_MS)

            # The agent's answer in the topic arrives in the mailbox.
            await agent_writes("It ships tomorrow")
            await expect(mailbox).to_contain_text("It ships tomorrow", timeout=WAIT_MS)

            # Ann is in Telegram too: the agent links her address to her there.
            await page.get_by_test_id("customer-input").fill("/start")
            await page.get_by_test_id("customer-send").click()
            await expect(customer.get_by_test_id("message")).not_to_have_count(1, timeout=WAIT_MS)
            await agent_writes("/link @ann_customer")
            await expect(agents).to_contain_text("is linked to Ann Lee", timeout=WAIT_MS)

            # Her Telegram message joins the same ticket; the answer goes to Telegram.
            await page.get_by_test_id("customer-input").fill("Also asking here")
            await page.get_by_test_id("customer-send").click()
            await expect(agents).to_contain_text("Also asking here", timeout=WAIT_MS)
            await expect(card).to_contain_text("via Telegram", timeout=WAIT_MS)
            await agent_writes("Answered in Telegram")
            await expect(customer).to_contain_text("Answered in Telegram", timeout=WAIT_MS)
            await expect(mailbox).not_to_contain_text("Answered in Telegram")

            # She answers the desk's mail: the next answer goes by mail again.
            await page.get_by_test_id("mail-reply").last.click()
            await page.get_by_test_id("mail-text").fill("Thanks, by mail")
            await page.get_by_test_id("mail-send").click()
            await expect(agents).to_contain_text("Thanks, by mail", timeout=WAIT_MS)
            await expect(card).to_contain_text("via email: ann@example.com", timeout=WAIT_MS)
            await agent_writes("Answered by mail")
            await expect(mailbox).to_contain_text("Answered by mail", timeout=WAIT_MS)
            await expect(customer).not_to_contain_text("Answered by mail")
            assert await page.get_by_test_id("topic").filter(has_text="#2").count() == 0
            assert page_errors == []
        finally:
            await browser.close()
