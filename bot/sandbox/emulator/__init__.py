"""The Telegram Bot API emulator, a package.

``core`` composes ``BotApiEmulator`` from one mixin per concern (read its docstring first);
``world`` the records and Telegram's words; ``state`` the world's state; ``validation`` what
Telegram refuses; ``api_*`` the Bot API methods by group; ``faults`` and ``dispatch`` how a
call is served; ``waits`` the queries and waits for tests; ``actors`` the scripted people;
``http`` the aiohttp front end. Everything the tests, the sandbox and the benchmarks import
comes from here.
"""

from bot.sandbox.emulator.api_chats import REACTION_EMOJI
from bot.sandbox.emulator.core import BotApiEmulator, main
from bot.sandbox.emulator.faults import BAD_GATEWAY_HTML, FAULT_KINDS
from bot.sandbox.emulator.http import decode_form_value, decode_params
from bot.sandbox.emulator.world import (
    BLOCKED,
    CHANNEL_BOT,
    CONTENT_KEYS,
    DEFAULT_EXCLUDED_UPDATES,
    DEFAULT_TOKEN,
    FORUM_ICON_COLORS,
    GROUP_ANONYMOUS_BOT,
    ICON_COLOR_INVALID,
    MEDIA_GROUP_SIZE,
    MEDIA_KINDS,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    SERVICE_KEYS,
    TOPIC_NAME_INVALID,
    ApiError,
    CallbackState,
    ChatState,
    Fault,
    FileRecord,
    Outcome,
    RateLimits,
    RecordedCall,
    Topic,
    UploadedFile,
    bad_request,
    forbidden,
)

__all__ = [
    "BAD_GATEWAY_HTML",
    "BLOCKED",
    "CHANNEL_BOT",
    "CONTENT_KEYS",
    "DEFAULT_EXCLUDED_UPDATES",
    "DEFAULT_TOKEN",
    "FAULT_KINDS",
    "FORUM_ICON_COLORS",
    "GROUP_ANONYMOUS_BOT",
    "ICON_COLOR_INVALID",
    "MEDIA_GROUP_SIZE",
    "MEDIA_KINDS",
    "NOT_MODIFIED",
    "QUERY_TOO_OLD",
    "REACTION_EMOJI",
    "SERVICE_KEYS",
    "TOPIC_NAME_INVALID",
    "ApiError",
    "BotApiEmulator",
    "CallbackState",
    "ChatState",
    "Fault",
    "FileRecord",
    "Outcome",
    "RateLimits",
    "RecordedCall",
    "Topic",
    "UploadedFile",
    "bad_request",
    "decode_form_value",
    "decode_params",
    "forbidden",
    "main",
]
