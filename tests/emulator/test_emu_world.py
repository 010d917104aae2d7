"""The emulated world: topics, copies, albums, edits, callbacks and chat lookups."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    ReactionTypeEmoji,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from aiogram.types import KeyboardButton as ReplyButton

from bot.sandbox.emulator import BotApiEmulator
from tests.support.session import make_bot

Api = tuple[BotApiEmulator, Bot]


def keyboard(*datas: str) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(text=d, callback_data=d) for d in datas]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


class TestForumTopics:
    async def test_create_posts_the_service_message_and_threads_messages(self, api: Api) -> None:
        emulator, bot = api
        agents = emulator.add_supergroup("Agents")

        topic = await bot.create_forum_topic(agents["id"], "#12 Refund", icon_color=16766590)
        sent = await bot.send_message(
            agents["id"], "New ticket", message_thread_id=topic.message_thread_id
        )

        assert emulator.topics(agents["id"]) == [
            {
                "message_thread_id": topic.message_thread_id,
                "name": "#12 Refund",
                "icon_color": 16766590,
                "is_closed": False,
            }
        ]
        created = emulator.messages_in(
            agents["id"], topic.message_thread_id, include_service=True
        )[0]
        assert created["message_id"] == topic.message_thread_id
        assert created["forum_topic_created"] == {"name": "#12 Refund", "icon_color": 16766590}
        assert sent.is_topic_message
        assert sent.message_thread_id == topic.message_thread_id
        assert sent.reply_to_message is not None
        assert sent.reply_to_message.forum_topic_created is not None
        assert [
            m["text"] for m in emulator.messages_in(agents["id"], topic.message_thread_id)
        ] == ["New ticket"]

    async def test_close_and_reopen(self, api: Api) -> None:
        emulator, bot = api
        agents = emulator.add_supergroup("Agents")
        thread = (await bot.create_forum_topic(agents["id"], "#1")).message_thread_id

        assert await bot.close_forum_topic(agents["id"], thread)
        assert emulator.topic(agents["id"], thread)["is_closed"]
        with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
            await bot.close_forum_topic(agents["id"], thread)
        assert await bot.reopen_forum_topic(agents["id"], thread)
        assert not emulator.topic(agents["id"], thread)["is_closed"]
        assert await bot.edit_forum_topic(agents["id"], thread, name="#1 [closed]")
        assert emulator.topic(agents["id"], thread)["name"] == "#1 [closed]"
        service = emulator.messages_in(agents["id"], thread, include_service=True)
        assert [next(k for k in m if k.startswith("forum_topic")) for m in service] == [
            "forum_topic_created",
            "forum_topic_closed",
            "forum_topic_reopened",
            "forum_topic_edited",
        ]

    async def test_threads_are_validated(self, api: Api) -> None:
        emulator, bot = api
        agents = emulator.add_supergroup("Agents")
        plain = emulator.add_supergroup("Plain", is_forum=False)
        alice = emulator.add_user("Alice")
        thread = (await bot.create_forum_topic(agents["id"], "#2")).message_thread_id

        for chat_id, thread_id in [
            (agents["id"], 999),
            (agents["id"], 1),
            (plain["id"], 5),
            (alice["id"], thread),
        ]:
            with pytest.raises(TelegramBadRequest, match="message thread not found"):
                await bot.send_message(chat_id, "x", message_thread_id=thread_id)
        with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
            await bot.create_forum_topic(plain["id"], "nope")
        await bot.delete_forum_topic(agents["id"], thread)
        with pytest.raises(TelegramBadRequest, match="message thread not found"):
            await bot.send_message(agents["id"], "x", message_thread_id=thread)
        assert emulator.topics(agents["id"]) == []

    async def test_topic_rights_name_and_colour(self, api: Api) -> None:
        emulator, bot = api
        agents = emulator.add_supergroup("Agents", bot_can_manage_topics=False)
        with pytest.raises(TelegramBadRequest, match="not enough rights to create a topic"):
            await bot.create_forum_topic(agents["id"], "#3")
        emulator.set_bot_rights(agents["id"], can_manage_topics=True)
        with pytest.raises(TelegramBadRequest, match="TOPIC_NAME_INVALID"):
            await bot.create_forum_topic(agents["id"], "x" * 129)
        # 65 emoji are 65 characters but 130 UTF-16 units: Telegram refuses them.
        with pytest.raises(TelegramBadRequest, match="TOPIC_NAME_INVALID"):
            await bot.create_forum_topic(agents["id"], "😀" * 65)
        with pytest.raises(TelegramBadRequest):
            await bot.create_forum_topic(agents["id"], "#3", icon_color=0x123456)
        thread = (await bot.create_forum_topic(agents["id"], "x" * 128)).message_thread_id
        with pytest.raises(TelegramBadRequest, match="TOPIC_NAME_INVALID"):
            await bot.edit_forum_topic(agents["id"], thread, name="😀" * 65)
        await bot.edit_forum_topic(agents["id"], thread, name="😀" * 64)

        await bot.close_forum_topic(agents["id"], thread)
        await bot.send_message(
            agents["id"], "admins may post in closed topics", message_thread_id=thread
        )
        emulator.set_bot_rights(agents["id"], can_manage_topics=False)
        with pytest.raises(TelegramBadRequest, match="TOPIC_CLOSED"):
            await bot.send_message(agents["id"], "x", message_thread_id=thread)

    async def test_agent_reply_in_a_topic(self, api: Api) -> None:
        emulator, bot = api
        agents = emulator.add_supergroup("Agents")
        agent = emulator.add_user("Agent", "agent")
        thread = (await bot.create_forum_topic(agents["id"], "#4")).message_thread_id
        card = await bot.send_message(agents["id"], "Ticket #4", message_thread_id=thread)

        plain = emulator.user_sends_text(agent, "looking", chat_id=agents["id"], thread_id=thread)
        reply = emulator.user_sends_text(
            agent, "answer", chat_id=agents["id"], reply_to=card.message_id
        )

        assert plain["is_topic_message"]
        assert plain["reply_to_message"]["forum_topic_created"]["name"] == "#4"
        assert reply["message_thread_id"] == thread
        assert reply["reply_to_message"]["message_id"] == card.message_id
        assert "reply_to_message" not in reply["reply_to_message"]


MEDIA_SENDERS = [
    "photo",
    "video",
    "document",
    "audio",
    "voice",
    "video_note",
    "sticker",
    "animation",
]


@pytest.fixture
async def local(emulator: BotApiEmulator) -> AsyncIterator[Api]:
    """In-process only: for parametrised tests whose HTTP side one test already covers."""
    bot = make_bot(emulator)
    yield emulator, bot
    await bot.session.close()


class TestCopies:
    async def test_copy_every_media_kind_over_both_transports(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        agents = emulator.add_supergroup("Agents")
        for kind in MEDIA_SENDERS:
            original = emulator.user_sends_media(alice, kind)
            copied = await bot.copy_message(agents["id"], alice["id"], original["message_id"])
            assert emulator.message(agents["id"], copied.message_id)[kind] == original[kind]

    @pytest.mark.parametrize("kind", MEDIA_SENDERS)
    async def test_copy_media_into_a_topic(self, local: Api, kind: str) -> None:
        emulator, bot = local
        alice = emulator.add_user("Alice")
        agents = emulator.add_supergroup("Agents")
        thread = (await bot.create_forum_topic(agents["id"], "#5")).message_thread_id
        caption = None if kind in ("sticker", "video_note") else f"my {kind}"
        original = emulator.user_sends_media(alice, kind, caption=caption)

        copied = await bot.copy_message(
            agents["id"], alice["id"], original["message_id"], message_thread_id=thread
        )

        message = emulator.message(agents["id"], copied.message_id)
        assert message["from"]["id"] == emulator.bot_id
        assert message["message_thread_id"] == thread
        assert message[kind] == original[kind]
        assert message.get("caption") == caption
        assert "forward_origin" not in message

    @pytest.mark.parametrize(
        ("sender", "key"),
        [
            ("user_sends_text", "text"),
            ("user_sends_location", "location"),
            ("user_sends_contact", "contact"),
        ],
    )
    async def test_copy_other_content(self, local: Api, sender: str, key: str) -> None:
        emulator, bot = local
        alice = emulator.add_user("Alice")
        agents = emulator.add_supergroup("Agents")
        args = ("hello",) if key == "text" else ()
        original = getattr(emulator, sender)(alice, *args)
        copied = await bot.copy_message(agents["id"], alice["id"], original["message_id"])
        assert emulator.message(agents["id"], copied.message_id)[key] == original[key]

    async def test_copy_replaces_caption_and_reports_missing_sources(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        agents = emulator.add_supergroup("Agents")
        photo = emulator.user_sends_photo(alice, caption="broken screen")

        copied = await bot.copy_message(
            agents["id"],
            alice["id"],
            photo["message_id"],
            caption="<b>#7</b> broken screen",
            parse_mode="HTML",
        )
        message = emulator.message(agents["id"], copied.message_id)
        assert message["caption"] == "#7 broken screen"
        assert message["caption_entities"] == [{"type": "bold", "offset": 0, "length": 2}]
        with pytest.raises(TelegramBadRequest, match="message to copy not found"):
            await bot.copy_message(agents["id"], alice["id"], 999)
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.copy_message(agents["id"], -100999, photo["message_id"])

    async def test_copy_messages_keeps_albums_together(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        agents = emulator.add_supergroup("Agents")
        album = emulator.user_sends_album(alice, [("photo", "two shots"), "photo", "video"])
        assert len({m["media_group_id"] for m in album}) == 1

        ids = await bot.copy_messages(
            agents["id"], alice["id"], [m["message_id"] for m in album] + [999]
        )

        copies = [emulator.message(agents["id"], i.message_id) for i in ids]
        assert len(copies) == 3
        assert len({m["media_group_id"] for m in copies}) == 1
        assert copies[0]["media_group_id"] != album[0]["media_group_id"]
        assert copies[0]["caption"] == "two shots"

    async def test_forward_keeps_the_origin(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        agents = emulator.add_supergroup("Agents")
        original = emulator.user_sends_text(alice, "forward me")
        forwarded = await bot.forward_message(agents["id"], alice["id"], original["message_id"])
        assert forwarded.text == "forward me"
        assert forwarded.forward_origin is not None
        assert forwarded.forward_origin.sender_user.id == alice["id"]


class TestSending:
    async def test_media_group_upload_and_download(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        existing = emulator.user_sends_document(alice)["document"]["file_id"]

        sent = await bot.send_media_group(
            alice["id"],
            media=[
                InputMediaDocument(
                    media=BufferedInputFile(b"%PDF-1.7 invoice", "invoice.pdf"), caption="Invoice"
                ),
                InputMediaDocument(media=existing),
            ],
        )

        assert len(sent) == 2
        assert sent[0].media_group_id is not None
        assert sent[0].media_group_id == sent[1].media_group_id
        assert sent[0].caption == "Invoice"
        assert sent[0].document.file_name == "invoice.pdf"
        assert sent[1].document.file_id == existing
        file = await bot.get_file(sent[0].document.file_id)
        downloaded = await bot.download_file(file.file_path)
        assert downloaded is not None
        assert downloaded.read() == b"%PDF-1.7 invoice"
        with pytest.raises(TelegramBadRequest):
            await bot.send_media_group(alice["id"], media=[InputMediaPhoto(media=existing)])

    async def test_file_ids_are_checked(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        photo = emulator.user_sends_photo(alice)["photo"][-1]["file_id"]
        with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
            await bot.send_photo(alice["id"], "AgACnonsense")
        with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
            await bot.send_video(alice["id"], photo)
        sent = await bot.send_photo(alice["id"], photo, caption="same photo")
        assert sent.photo[-1].file_id == photo

    async def test_text_limits_and_html(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        await bot.send_message(alice["id"], "x" * 4096)
        with pytest.raises(TelegramBadRequest, match="message is too long"):
            await bot.send_message(alice["id"], "x" * 4097)
        with pytest.raises(TelegramBadRequest, match="message is too long"):
            await bot.send_message(alice["id"], "😀" * 2049)  # 4098 UTF-16 units
        with pytest.raises(TelegramBadRequest, match="message text is empty"):
            await bot.send_message(alice["id"], "   ")
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(alice["id"], "<b>open", parse_mode="HTML")
        sent = await bot.send_message(
            alice["id"],
            '<a href="https://x.org">docs</a> &amp; <code>id</code>',
            parse_mode="HTML",
        )
        assert sent.text == "docs & id"
        assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
            ("text_link", 0, 4),
            ("code", 7, 2),
        ]

    async def test_replies(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        question = emulator.user_sends_text(alice, "where is my order?")
        answer = await bot.send_message(
            alice["id"],
            "on its way",
            reply_parameters=ReplyParameters(message_id=question["message_id"]),
        )
        assert answer.reply_to_message.text == "where is my order?"
        with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
            await bot.send_message(
                alice["id"], "x", reply_parameters=ReplyParameters(message_id=999)
            )
        sent = await bot.send_message(
            alice["id"],
            "x",
            reply_parameters=ReplyParameters(message_id=999, allow_sending_without_reply=True),
        )
        assert sent.reply_to_message is None

    async def test_reply_keyboards_are_tracked(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        stars = ReplyKeyboardMarkup(keyboard=[[ReplyButton(text="★★★★★")]], resize_keyboard=True)
        sent = await bot.send_message(alice["id"], "Rate us", reply_markup=stars)
        assert sent.reply_markup is None
        assert emulator.reply_keyboard(alice["id"])["keyboard"] == [[{"text": "★★★★★"}]]
        assert emulator.sent_reply_markup(alice["id"], sent.message_id)["resize_keyboard"]
        await bot.send_message(alice["id"], "Thanks", reply_markup=ReplyKeyboardRemove())
        assert emulator.reply_keyboard(alice["id"]) is None

    async def test_unknown_unreachable_and_kicked_chats(self, api: Api) -> None:
        emulator, bot = api
        stranger = emulator.add_user("Stranger", started=False)
        gone = emulator.add_user("Gone")
        agents = emulator.add_supergroup("Agents")
        emulator.deactivate_user(gone)
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(424242, "x")
        with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
            await bot.send_message(stranger["id"], "x")
        with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
            await bot.send_message(gone["id"], "x")
        emulator.kick_bot(agents["id"])
        with pytest.raises(TelegramForbiddenError, match="kicked"):
            await bot.send_message(agents["id"], "x")


class TestEdits:
    async def test_edit_text_and_not_modified(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        sent = await bot.send_message(alice["id"], "Status: open", reply_markup=keyboard("close"))

        edited = await bot.edit_message_text(
            "Status: closed",
            chat_id=alice["id"],
            message_id=sent.message_id,
            reply_markup=keyboard("reopen"),
        )
        assert edited.text == "Status: closed"
        assert edited.edit_date is not None
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text(
                "Status: closed",
                chat_id=alice["id"],
                message_id=sent.message_id,
                reply_markup=keyboard("reopen"),
            )
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_reply_markup(
                chat_id=alice["id"], message_id=sent.message_id, reply_markup=keyboard("reopen")
            )
        await bot.edit_message_reply_markup(chat_id=alice["id"], message_id=sent.message_id)
        assert "reply_markup" not in emulator.message(alice["id"], sent.message_id)
        assert [v["text"] for v in emulator.edits_of(alice["id"], sent.message_id)] == [
            "Status: open",
            "Status: closed",
        ]

    async def test_edit_caption_and_wrong_targets(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        photo = emulator.user_sends_photo(alice)["photo"][-1]["file_id"]
        sent = await bot.send_photo(alice["id"], photo, caption="before")
        theirs = emulator.user_sends_text(alice, "mine")

        edited = await bot.edit_message_caption(
            chat_id=alice["id"], message_id=sent.message_id, caption="after"
        )
        assert edited.caption == "after"
        with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
            await bot.edit_message_text("x", chat_id=alice["id"], message_id=sent.message_id)
        with pytest.raises(TelegramBadRequest, match="message can't be edited"):
            await bot.edit_message_text("x", chat_id=alice["id"], message_id=theirs["message_id"])
        with pytest.raises(TelegramBadRequest, match="message to edit not found"):
            await bot.edit_message_text("x", chat_id=alice["id"], message_id=999)

    async def test_user_edit_emits_edited_message(self, emulator: BotApiEmulator) -> None:
        alice = emulator.add_user("Alice")
        message = emulator.user_sends_text(alice, "helo")
        edited = emulator.user_edits(alice, alice["id"], message["message_id"], "hello")
        update = emulator.pending_updates()[-1]
        assert update["edited_message"]["text"] == "hello"
        assert edited["edit_date"] >= message["date"]

    async def test_delete(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        sent = await bot.send_message(alice["id"], "oops")
        assert await bot.delete_message(alice["id"], sent.message_id)
        assert emulator.messages_in(alice["id"]) == []
        assert emulator.is_deleted(alice["id"], sent.message_id)
        with pytest.raises(TelegramBadRequest, match="message to delete not found"):
            await bot.delete_message(alice["id"], sent.message_id)


class TestCallbacks:
    async def test_press_and_answer(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        sent = await bot.send_message(
            alice["id"], "Was this helpful?", reply_markup=keyboard("y", "n")
        )

        query = emulator.user_presses(alice, alice["id"], sent.message_id, "y")
        assert emulator.callback_answer(query["id"]) is None
        assert await bot.answer_callback_query(query["id"], text="Thanks!")
        assert emulator.callback_answer(query["id"])["text"] == "Thanks!"
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(query["id"])
        with pytest.raises(ValueError, match="no button"):
            emulator.user_presses(alice, alice["id"], sent.message_id, "maybe")

    async def test_limits(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        sent = await bot.send_message(alice["id"], "?", reply_markup=keyboard("y"))
        query = emulator.user_presses(alice, alice["id"], sent.message_id, "y")
        with pytest.raises(TelegramBadRequest):
            await bot.answer_callback_query(query["id"], text="x" * 201)
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(alice["id"], "?", reply_markup=keyboard("ж" * 33))


class TestChatInfo:
    async def test_get_chat_member_and_admins(self, api: Api) -> None:
        emulator, bot = api
        agents = emulator.add_supergroup("Agents", username="acme_agents")
        agent = emulator.add_user("Agent")
        emulator.add_member(agents["id"], agent, "administrator", can_manage_topics=False)

        chat = await bot.get_chat(agents["id"])
        assert chat.is_forum
        assert (await bot.get_chat("@acme_agents")).id == agents["id"]
        me = await bot.get_chat_member(agents["id"], bot.id)
        assert me.status == "administrator"
        assert me.can_manage_topics
        admins = await bot.get_chat_administrators(agents["id"])
        assert {a.user.id for a in admins} == {bot.id, agent["id"]}
        stranger = emulator.add_user("Stranger")
        assert (await bot.get_chat_member(agents["id"], stranger["id"])).status == "left"
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.get_chat(-100123)

    async def test_commands_pins_actions_reactions(self, api: Api) -> None:
        emulator, bot = api
        alice = emulator.add_user("Alice")
        await bot.set_my_commands(
            [
                BotCommand(command="start", description="Start"),
                BotCommand(command="new", description="New ticket"),
            ]
        )
        assert [c.command for c in await bot.get_my_commands()] == ["start", "new"]
        await bot.delete_my_commands()
        assert await bot.get_my_commands() == []
        with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand(command="New Ticket", description="x")])

        sent = await bot.send_message(alice["id"], "pin me")
        await bot.pin_chat_message(alice["id"], sent.message_id)
        assert emulator.pinned(alice["id"]) == [sent.message_id]
        assert (await bot.get_chat(alice["id"])).pinned_message.message_id == sent.message_id
        await bot.unpin_chat_message(alice["id"])
        assert emulator.pinned(alice["id"]) == []

        await bot.send_chat_action(alice["id"], "typing")
        assert emulator.chat_actions == [
            {"chat_id": alice["id"], "thread_id": None, "action": "typing"}
        ]
        await bot.set_message_reaction(
            alice["id"], sent.message_id, [ReactionTypeEmoji(emoji="👍")]
        )
        assert emulator.reactions[(alice["id"], sent.message_id)] == [
            {"type": "emoji", "emoji": "👍"}
        ]
        assert await bot.log_out()


class TestReactions:
    async def test_a_bot_sets_one_allowed_emoji_on_an_existing_message(self, api: Api) -> None:
        emulator, bot = api
        agents = emulator.add_supergroup("Agents")
        sent = await bot.send_message(agents["id"], "/close")

        await bot.set_message_reaction(
            agents["id"], sent.message_id, [ReactionTypeEmoji(emoji="👌")]
        )
        assert emulator.reactions[(agents["id"], sent.message_id)] == [
            {"type": "emoji", "emoji": "👌"}
        ]
        await bot.set_message_reaction(agents["id"], sent.message_id, [])
        assert emulator.reactions[(agents["id"], sent.message_id)] == []

    async def test_refuses_what_telegram_refuses(self, api: Api) -> None:
        emulator, bot = api
        agents = emulator.add_supergroup("Agents")
        sent = await bot.send_message(agents["id"], "/close")

        with pytest.raises(TelegramBadRequest, match="REACTION_INVALID"):
            await bot.set_message_reaction(
                agents["id"], sent.message_id, [ReactionTypeEmoji(emoji="✅")]
            )
        with pytest.raises(TelegramBadRequest, match="REACTIONS_TOO_MANY"):
            await bot.set_message_reaction(
                agents["id"],
                sent.message_id,
                [ReactionTypeEmoji(emoji="👍"), ReactionTypeEmoji(emoji="🔥")],
            )
        with pytest.raises(TelegramBadRequest, match="MESSAGE_ID_INVALID"):
            await bot.set_message_reaction(
                agents["id"], sent.message_id + 100, [ReactionTypeEmoji(emoji="👍")]
            )
        assert (agents["id"], sent.message_id) not in emulator.reactions
