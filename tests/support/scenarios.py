"""What tests and benchmarks have people do: distinct problems to write about, and the admin
switching incidents off for runs about delivery."""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator import BotApiEmulator

#: One problem each: unlike one complaint from everybody (an incident), these open tickets.
DISTINCT_PROBLEMS = [
    "My card payment was declined at the shop",
    "How do I change the delivery address of my order?",
    "The app crashes when I open the settings page",
    "I want a refund for order 5521, it arrived broken",
    "Where can I download last month's invoice?",
    "I forgot my password and the reset mail never comes",
    "Can I add a second user to our company account?",
    "The courier left my parcel at the wrong house",
]


async def switch_incidents_off(
    emulator: BotApiEmulator, group_id: int, admin: dict[str, Any], seconds: float = 60
) -> None:
    """Runs about delivery have many customers write near-identical texts ("msg 0 from P1",
    "msg 0 from P2", ...): on a real desk a surge, which becomes an incident with no topic per
    ticket. The admin switches incidents off first and waits for the bot to confirm."""
    emulator.user_sends_text(admin, "/set incident_size off", chat_id=group_id)
    await emulator.wait_for(
        lambda emu: any(
            "incident_size is now off" in (m.get("text") or "")
            for m in emu.messages_in(group_id, from_bot=True)
        ),
        seconds,
        interval=0.2,
        description="incidents switched off",
    )
