"""A Telegram Bot API emulator: the world the tests and ``helpdesk sandbox`` run the bot in.

``BotApiEmulator`` keeps a small, consistent world (users, chats, forum topics, messages,
files, pending updates) and answers Bot API methods over HTTP (``start()``) or in-process
(``handle()`` / ``process()``). Tests act as people through ``user_sends_*`` and friends, which
queue complete ``Update`` objects for the bot, and they can inject faults (429, 5xx, HTML
bodies, slow or dropped responses) that aiogram maps to its exceptions exactly as it does
for Telegram (see ``/work/shared/TELEGRAM.md`` §1.2).

Typical end-to-end use::

    async with BotApiEmulator() as emulator:
        alice = emulator.add_user("Alice")
        agents = emulator.add_supergroup("Agents")          # a forum, bot is admin
        ...start the bot with HELPDESK_TELEGRAM_API_URL=emulator.base_url...
        emulator.user_sends_text(alice, "/start")
        reply = await emulator.wait_for_message(alice["id"])

Run standalone with ``python -m bot.sandbox.emulator --port 8081 --token 123:ABC``.

Error descriptions follow Telegram's wording where it is known. Descriptions not verified
against Telegram are marked ``# unverified`` next to their constant.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import sys
from collections.abc import Sequence

from bot.sandbox.emulator.actors import ActorsMixin
from bot.sandbox.emulator.api_chats import ChatsApi
from bot.sandbox.emulator.api_edits import EditsApi
from bot.sandbox.emulator.api_files import FilesApi
from bot.sandbox.emulator.api_messages import MessagesApi
from bot.sandbox.emulator.api_topics import TopicsApi
from bot.sandbox.emulator.api_updates import UpdatesApi
from bot.sandbox.emulator.dispatch import DispatchMixin
from bot.sandbox.emulator.faults import FaultsMixin
from bot.sandbox.emulator.http import HttpMixin
from bot.sandbox.emulator.state import ApiMethod, EmulatorState
from bot.sandbox.emulator.validation import ValidationMixin
from bot.sandbox.emulator.waits import WaitsMixin
from bot.sandbox.emulator.world import _SEND_METHODS, DEFAULT_TOKEN


class BotApiEmulator(
    HttpMixin,
    DispatchMixin,
    FaultsMixin,
    WaitsMixin,
    ActorsMixin,
    MessagesApi,
    TopicsApi,
    EditsApi,
    ChatsApi,
    UpdatesApi,
    FilesApi,
    ValidationMixin,
    EmulatorState,
):
    """A Telegram Bot API world with an optional HTTP front end.

    One mixin per concern, all on ``EmulatorState`` (the world's state): ``http`` serves,
    ``dispatch`` and ``faults`` decide how a call is answered, ``waits`` and ``actors`` are
    what tests use, ``api_*`` answer the Bot API methods. A new Bot API method goes into the
    ``api_*`` module of its group and is named in ``_api_methods()`` below.
    """

    def _api_methods(self) -> dict[str, ApiMethod]:
        """The Bot API methods by lowercase name, each answered by a mixin's method."""
        methods: dict[str, ApiMethod] = {
            "getme": self._get_me,
            "logout": self._ok,
            "close": self._ok,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "copymessage": self._copy_message,
            "copymessages": self._copy_messages,
            "forwardmessage": self._forward_message,
            "forwardmessages": self._forward_messages,
            **{
                name: functools.partial(self._send_media, kind=kind)
                for name, kind in _SEND_METHODS.items()
            },
            "sendlocation": self._send_location,
            "sendcontact": self._send_contact,
            "sendmediagroup": self._send_media_group,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "deletemessages": self._delete_messages,
            "answercallbackquery": self._answer_callback_query,
            "createforumtopic": self._create_forum_topic,
            "editforumtopic": self._edit_forum_topic,
            "closeforumtopic": self._close_forum_topic,
            "reopenforumtopic": self._reopen_forum_topic,
            "deleteforumtopic": self._delete_forum_topic,
            "pinchatmessage": self._pin_chat_message,
            "unpinchatmessage": self._unpin_chat_message,
            "unpinallchatmessages": self._unpin_all_chat_messages,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "sendchataction": self._send_chat_action,
            "setmessagereaction": self._set_message_reaction,
            "getfile": self._get_file,
        }
        return methods


async def _serve_forever(args: argparse.Namespace) -> None:
    emulator = BotApiEmulator(args.token, bot_username=args.bot_username)
    if args.demo:
        customer = emulator.add_user("Alice", "alice")
        group = emulator.add_supergroup("Agents")
        sys.stdout.write(f"demo: customer id {customer['id']}, agents chat id {group['id']}\n")
    url = await emulator.start(args.host, args.port)
    sys.stdout.write(
        f"Bot API emulator on {url} (token {args.token}); state at {url}/_emulator/state\n"
    )
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Telegram Bot API emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default="helpdesk_test_bot")
    parser.add_argument("--demo", action="store_true", help="create a customer and agents group")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args))


if __name__ == "__main__":
    main()
