"""The mode the desk runs in follows from the agents' group and the bot's rights there."""

from __future__ import annotations

import pytest

from bot.services.agent_chat import AgentChatCheck, Shortfall, assess

ALL = {"can_manage_topics", "can_pin_messages"}


@pytest.mark.parametrize(
    ("is_forum", "status", "rights", "expected"),
    [
        (True, "administrator", ALL, AgentChatCheck(forum=True)),
        (True, "creator", set(), AgentChatCheck(forum=True)),
        (False, "administrator", ALL, AgentChatCheck(False, (Shortfall.NO_TOPICS,))),
        (True, "member", set(), AgentChatCheck(False, (Shortfall.NOT_ADMIN,))),
        (
            False,
            "member",
            set(),
            AgentChatCheck(False, (Shortfall.NOT_ADMIN, Shortfall.NO_TOPICS)),
        ),
        (
            True,
            "administrator",
            {"can_pin_messages"},
            AgentChatCheck(False, (Shortfall.CANNOT_MANAGE_TOPICS,)),
        ),
        (
            True,
            "administrator",
            {"can_manage_topics"},
            AgentChatCheck(True, (Shortfall.CANNOT_PIN,)),
        ),
        # Cards are pinned only in topics: the plain group does not miss that right.
        (False, "administrator", set(), AgentChatCheck(False, (Shortfall.NO_TOPICS,))),
    ],
)
def test_mode_and_shortfalls(
    is_forum: bool, status: str, rights: set[str], expected: AgentChatCheck
) -> None:
    assert assess(is_forum=is_forum, status=status, rights=rights) == expected


def test_mode_names_the_fallback() -> None:
    assert AgentChatCheck(forum=False).mode == "plain group"
    assert AgentChatCheck(forum=True).mode == "topics"
