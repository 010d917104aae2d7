"""Small helpers shared by the handler modules: Telegram objects -> use-case inputs."""

from __future__ import annotations

import contextlib
from datetime import UTC

from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.services.conversation import Incoming
from bot.services.ports import Retyped, TelegramUser
from bot.texts import entities_after, pick_language, use_language, utf16_len
from models import MediaKind

# Message attribute -> media kind; the first one present wins (a photo's caption is its text).
_MEDIA = [
    ("photo", MediaKind.PHOTO),
    ("video", MediaKind.VIDEO),
    ("animation", MediaKind.ANIMATION),
    ("document", MediaKind.DOCUMENT),
    ("audio", MediaKind.AUDIO),
    ("voice", MediaKind.VOICE),
    ("video_note", MediaKind.VIDEO_NOTE),
    ("sticker", MediaKind.STICKER),
    ("location", MediaKind.LOCATION),
    ("contact", MediaKind.CONTACT),
]


def written_by_a_person(message: Message) -> bool:
    """A message a person wrote in their own name: text or one of the media kinds above.

    Not a service message (a pin, a topic closed or renamed in Telegram's interface, someone
    joining), and not a post in the name of a chat (a channel, an anonymous admin: their
    ``from_user`` is a placeholder bot and ``sender_chat`` is set).
    """
    if message.from_user is None or message.from_user.is_bot or message.sender_chat is not None:
        return False
    return message.text is not None or any(getattr(message, a) is not None for a, _k in _MEDIA)


def telegram_user(user: User) -> TelegramUser:
    return TelegramUser(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


def replied_person(message: Message) -> TelegramUser | None:
    """The person a command replies to (not a bot, not a topic's opening service message)."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.is_bot:
        return None
    if replied.forum_topic_created:
        return None
    return telegram_user(replied.from_user)


def media_of(message: Message) -> tuple[MediaKind, str | None]:
    for attr, kind in _MEDIA:
        value = getattr(message, attr, None)
        if value is None:
            continue
        if attr == "photo":
            return kind, value[-1].file_id  # the largest size
        return kind, getattr(value, "file_id", None)
    if message.text is not None:
        return MediaKind.TEXT, None
    return MediaKind.OTHER, None


#: Entities Telegram finds in any plain text again (links, @names, #tags, commands...): a quote
#: of the text keeps them. Every other kind is formatting the sender chose.
DETECTED_ENTITIES = frozenset(
    {"mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number"}
)


def command_argument(message: Message, command: CommandObject) -> Retyped:
    """What follows ``/command`` in the message's text (or caption), with its formatting."""
    whole = message.text or message.caption
    entities = message.entities if message.text else message.caption_entities
    args = command.args or ""
    assert whole is not None
    assert whole.endswith(args), "aiogram splits off the command and the spaces after it only"
    start = utf16_len(whole) - utf16_len(args)
    found = [entity.model_dump(mode="json", exclude_none=True) for entity in entities or []]
    return Retyped(args, entities_after(found, start, utf16_len(args)))


def incoming(message: Message, *, retyped: Retyped | None = None) -> Incoming:
    """The use-case view of a message; ``retyped`` replaces its text (a command's argument)."""
    assert message.from_user is not None
    kind, file_id = media_of(message)
    body = retyped.text if retyped is not None else (message.text or message.caption)
    reply = message.reply_to_message
    # In forum topics Telegram marks every message as a reply to the topic's first message;
    # that is not a reply the agent chose.
    reply_id = None
    if reply is not None and not (message.is_topic_message and reply.forum_topic_created):
        reply_id = reply.message_id
    return Incoming(
        user=telegram_user(message.from_user),
        chat_id=message.chat.id,
        message_id=message.message_id,
        sent_at=message.date.astimezone(UTC),
        text=body,
        media_kind=kind,
        file_id=file_id,
        media_group_id=message.media_group_id,
        thread_id=message.message_thread_id if message.is_topic_message else None,
        reply_to_message_id=reply_id,
        retyped=retyped,
        formatted=_formatted(message, retyped),
    )


def _formatted(message: Message, retyped: Retyped | None) -> bool:
    """Whether the text carries formatting of its own (not only what Telegram detects)."""
    kinds = (
        [str(e.get("type")) for e in retyped.entities]
        if retyped is not None
        else [e.type for e in message.entities or message.caption_entities or []]
    )
    return any(kind not in DETECTED_ENTITIES for kind in kinds)


async def answer(callback: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """Stop the button's spinner. Best effort: the change itself is already committed."""
    with contextlib.suppress(TelegramAPIError):
        await callback.answer(text, show_alert=alert)


async def on_stale_button(callback: CallbackQuery, settings: Settings) -> None:
    """A button no handler understands (old bot version, forged data): say so, in the presser's
    language, and change nothing."""
    language = pick_language(callback.from_user.language_code, settings.default_language)
    with use_language(language):
        text = _("This button no longer works.")
    await answer(callback, text, alert=True)
