"""Command words and button data are parsed at the edge into typed values: the use cases never
see a word; a missing or malformed argument is explained before anything is looked up."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.callbacks import CardAction, TicketCb
from bot.handlers.admin.agents import agent_request, capacity, role
from bot.handlers.admin.bans import ban_request
from bot.handlers.admin.canned import auto_answer_request, canned_request
from bot.handlers.admin.settings import text_request
from bot.handlers.admin.sla import holiday_change, sla_change
from bot.handlers.admin.teams import category_request, team_request
from bot.handlers.ticket_commands import TICKET_COMMANDS, card_press
from bot.services import desk
from bot.services.ports import TelegramUser
from models import InvalidInput, Priority, Role, TicketStatus
from models.sla import SlaTargets


class TestTicketCommands:
    @pytest.mark.parametrize(
        ("name", "arg", "parsed"),
        [
            ("close", "", desk.ChangeStatus(TicketStatus.CLOSED)),
            ("reopen", "", desk.ChangeStatus(TicketStatus.OPEN)),
            ("status", "on hold", desk.ChangeStatus(TicketStatus.ON_HOLD)),
            ("priority", "URGENT", desk.ChangePriority(Priority.URGENT)),
            ("assign", "", desk.Assign(me=True)),
            ("assign", "nobody", desk.Assign()),
            ("assign", "@greg", desk.Assign(who="@greg")),
            ("team", "none", desk.MoveToTeam(None)),
            ("team", "Night shift", desk.MoveToTeam("Night shift")),
            ("note", "call back", desk.WriteNote("call back")),
            ("untag", "vip", desk.ChangeTags("vip", remove=True)),
            ("history", "", desk.ShowHistory()),
            ("c", "refund", desk.SendCanned("refund")),
        ],
    )
    def test_words_become_typed_values(self, name: str, arg: str, parsed: object) -> None:
        assert TICKET_COMMANDS[name](arg) == parsed

    @pytest.mark.parametrize(
        ("name", "explained"),
        [("note", "write the note"), ("status", "give a status"), ("team", "'none'")],
    )
    def test_a_missing_argument_is_explained(self, name: str, explained: str) -> None:
        with pytest.raises(InvalidInput, match=explained):
            TICKET_COMMANDS[name]("")

    @pytest.mark.parametrize(
        ("name", "arg", "reason"),
        [
            ("priority", "", "give a priority"),
            ("priority", "asap", "expected one of"),
            ("status", "done-ish", "status"),
            ("c", "", "usage: /c <key>"),
        ],
    )
    def test_a_malformed_argument_is_refused(self, name: str, arg: str, reason: str) -> None:
        with pytest.raises(InvalidInput, match=reason):
            TICKET_COMMANDS[name](arg)

    def test_only_these_words_are_ticket_commands(self) -> None:
        # The handler is registered for these words only: any other command never reaches
        # the use case.
        assert set(TICKET_COMMANDS) == {
            "note",
            "status",
            "assign",
            "team",
            "priority",
            "category",
            "close",
            "reopen",
            "resolve",
            "history",
            "tag",
            "untag",
            "merge",
            "c",
        }


class TestCardButtons:
    def test_action_and_value_become_typed_values(self) -> None:
        assert card_press(CardAction.STATUS, "resolved") == desk.ChangeStatus(
            TicketStatus.RESOLVED
        )
        assert card_press(CardAction.TEAM, "0") == desk.PickTeam(None)
        assert card_press(CardAction.TEAM, "7") == desk.PickTeam(7)
        assert card_press(CardAction.CLAIM, "") == desk.Claim()

    def test_a_forged_id_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="no such category"):
            card_press(CardAction.CATEGORY, "x")

    def test_data_naming_no_action_is_not_a_card_button(self) -> None:
        # Such data fails to unpack, so the card's handler never sees it (aiogram's
        # CallbackDataFilter answers False on a ValueError).
        assert TicketCb.unpack("t1:cl:3:") == TicketCb(a=CardAction.CLAIM, t=3)
        with pytest.raises(ValueError, match="Input should be 'cl'"):
            TicketCb.unpack("t1:x:3:")


class TestAdminCommands:
    def test_sla(self) -> None:
        assert sla_change("") is None
        assert sla_change("escalate off") is False
        hour = timedelta(hours=1)
        assert sla_change("high 1h 1h 1h") == (Priority.HIGH, SlaTargets(hour, hour, hour))
        with pytest.raises(InvalidInput, match="duration"):
            sla_change("high soon 1h 1h")

    @pytest.mark.parametrize(
        ("args", "reason"),
        [
            ("urgent 10m 30m", "usage: /sla"),
            ("asap 1h 2h 3h", "usage: /sla"),
            ("urgent 1x 2h 3h", "duration"),
            ("escalate maybe", "usage: /sla"),
        ],
    )
    def test_bad_sla_targets_are_refused(self, args: str, reason: str) -> None:
        with pytest.raises(InvalidInput, match=reason):
            sla_change(args)

    def test_holiday(self) -> None:
        christmas = date(2026, 12, 25)
        assert holiday_change("add 2026-12-25") == (christmas, True)
        assert holiday_change("del 2026-12-25") == (christmas, False)
        with pytest.raises(InvalidInput, match="a date like"):
            holiday_change("add christmas")
        with pytest.raises(InvalidInput, match="usage: /holiday"):
            holiday_change("move 2026-12-25")

    def test_agent(self) -> None:
        mona = TelegramUser(id=42, first_name="Mona")
        assert agent_request("add supervisor", mona) == ("add", 42, "supervisor")
        assert agent_request("role 7 admin", mona) == ("role", 7, "admin")
        assert capacity("none") is None
        with pytest.raises(InvalidInput, match="usage: /agent"):
            agent_request("fire 7", None)

    def test_agent_by_reply_or_id(self) -> None:
        mona = TelegramUser(id=42, first_name="Mona")
        assert agent_request("add", mona) == ("add", 42, "")
        assert agent_request("capacity 7 3", mona) == ("capacity", 7, "3")
        for args in ("", "add", "remove"):
            with pytest.raises(InvalidInput, match="usage: /agent"):
                agent_request(args, None)

    def test_role_and_capacity(self) -> None:
        assert role("Supervisor") is Role.SUPERVISOR
        with pytest.raises(InvalidInput, match="expected agent, supervisor or admin"):
            role("boss")
        assert (capacity("1"), capacity("1000"), capacity("off")) == (1, 1000, None)
        for value in ("0", "1001", "-3", "many"):
            with pytest.raises(InvalidInput, match="from 1 to 1000"):
                capacity(value)

    def test_ban(self) -> None:
        assert ban_request(" spam and abuse ") == (None, "spam and abuse")
        assert ban_request("999 spam") == (999, "spam")
        assert ban_request("501") == (501, "")
        assert ban_request("") == (None, "")

    def test_canned(self) -> None:
        assert canned_request("list", "quoted") == ("list", [], "")
        assert canned_request("add refund\nOn its way.", None) == (
            "add",
            ["refund"],
            "On its way.",
        )
        # The text on the next lines, else the message the command replies to.
        assert canned_request("add refund de billing\nKommt.", "Sent.") == (
            "add",
            ["refund", "de", "billing"],
            "Kommt.",
        )
        assert canned_request("add refund en", "Sent.") == ("add", ["refund", "en"], "Sent.")
        assert canned_request("add refund\n ", None) == ("add", ["refund"], "")
        assert canned_request("Remove refund de", "Sent.") == ("del", ["refund", "de"], "")

    @pytest.mark.parametrize("args", ["", "add", "del", "rename refund", "add\nHi"])
    def test_canned_without_a_subcommand_and_key_is_refused(self, args: str) -> None:
        with pytest.raises(InvalidInput, match="usage: /canned"):
            canned_request(args, "Sent.")

    def test_autoanswer_and_text(self) -> None:
        assert auto_answer_request("billing off") == ("billing", None, 0.9)
        assert auto_answer_request("billing refund 0.8") == ("billing", "refund", 0.8)
        assert auto_answer_request("billing refund") == ("billing", "refund", 0.9)
        with pytest.raises(InvalidInput, match="usage: /autoanswer"):
            auto_answer_request("billing")
        with pytest.raises(InvalidInput, match="a confidence from"):
            auto_answer_request("billing refund sure")
        assert text_request("welcome RU\nПривет") == ("welcome", "ru", "Привет")
        assert text_request("registered en reset") == ("registered", "en", None)

    @pytest.mark.parametrize(
        ("args", "reason"),
        [("goodbye en\nBye", "usage: /text"), ("welcome fr\nSalut", "expected one of: en, ru")],
    )
    def test_an_unknown_text_or_language_is_refused(self, args: str, reason: str) -> None:
        with pytest.raises(InvalidInput, match=reason):
            text_request(args)


class TestTeamsAndCategories:
    def test_teams(self) -> None:
        assert team_request("") == ("list", "")
        assert team_request("JOIN Card Support @bob ") == ("join", "Card Support @bob")
        assert team_request("group Cards off") == ("group", "Cards off")
        with pytest.raises(InvalidInput, match="usage: /teams"):
            team_request("explode")

    def test_categories(self) -> None:
        assert category_request("") == ("list", "", "")
        assert category_request("add refunds") == ("add", "refunds", None)
        assert category_request("add refunds Card Support") == ("add", "refunds", "Card Support")
        assert category_request("team refunds none") == ("team", "refunds", None)
        assert category_request("team refunds -") == ("team", "refunds", None)
        assert category_request("team refunds Billing") == ("team", "refunds", "Billing")
        assert category_request("title refunds Money back") == ("title", "refunds", "Money back")
        assert category_request("Remove refunds") == ("remove", "refunds", "")

    @pytest.mark.parametrize("args", ["explode", "team refunds", "rename refunds x"])
    def test_a_category_command_without_its_words_is_refused(self, args: str) -> None:
        with pytest.raises(InvalidInput, match="usage: /categories"):
            category_request(args)
