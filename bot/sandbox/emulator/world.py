"""The emulator's records and Telegram's words: constants, errors, the dataclasses of the world."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TOKEN = "123456789:AAEmulatorTestTokenForHelpDesk0000000"

FORUM_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)

# Bot API: an empty allowed_updates list means all types except these three.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

BLOCKED = "bot was blocked by the user"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
TOPIC_NAME_INVALID = "TOPIC_NAME_INVALID"
ICON_COLOR_INVALID = "TOPIC_ICON_COLOR_INVALID"  # unverified
MEDIA_GROUP_SIZE = "media group must contain 2-10 items"  # unverified

MEDIA_KINDS = (
    "photo",
    "video",
    "document",
    "audio",
    "voice",
    "video_note",
    "sticker",
    "animation",
)
CONTENT_KEYS = (
    "text",
    "entities",
    "link_preview_options",
    *MEDIA_KINDS,
    "caption",
    "caption_entities",
    "show_caption_above_media",
    "has_media_spoiler",
    "location",
    "contact",
    "venue",
    "dice",
)
SERVICE_KEYS = frozenset(
    {
        "forum_topic_created",
        "forum_topic_closed",
        "forum_topic_reopened",
        "forum_topic_edited",
        "pinned_message",
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "group_chat_created",
    }
)

# fmt: on
_SEND_METHODS = {
    "sendphoto": "photo",
    "sendvideo": "video",
    "senddocument": "document",
    "sendaudio": "audio",
    "sendvoice": "voice",
    "sendvideonote": "video_note",
    "sendsticker": "sticker",
    "sendanimation": "animation",
}


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


@dataclass(frozen=True)
class UploadedFile:
    """A file that arrived as a multipart upload (or through ``EmulatorSession``)."""

    filename: str
    content: bytes
    content_type: str | None = None


@dataclass
class RecordedCall:
    """One API call as the emulator saw it.

    ``response`` is the JSON the emulator produced: None while pending, and for "drop"
    faults, which do nothing. ``fault`` names the fault served ("rate_limit" for limits).
    """

    method: str
    params: dict[str, Any]
    timestamp: float
    monotonic: float
    transport: str
    fault: str | None = None
    response: dict[str, Any] | None = None
    status: int | None = None
    finished: bool = False

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.get("ok") is True

    @property
    def result(self) -> Any:
        if not self.ok:
            msg = f"{self.method} did not succeed: {self.response}"
            raise AssertionError(msg)
        assert self.response is not None
        return self.response["result"]

    def describe(self) -> str:
        shown = {k: _short(v) for k, v in self.params.items()}
        if self.response is None:
            if not self.finished:
                answer = "pending"
            else:
                answer = "dropped" if self.status is None else f"{self.status} (non-JSON body)"
        elif self.response.get("ok"):
            answer = "ok"
        else:
            answer = f"{self.status} {self.response.get('description')}"
        fault = f" [fault {self.fault}]" if self.fault else ""
        return f"{self.method} {shown} -> {answer}{fault}"


@dataclass
class Fault:
    """A fault waiting to be served; ``times=None`` means until ``clear_faults()``."""

    kind: str
    method: str | None = None
    times: int | None = 1
    retry_after: int = 1
    delay: float = 3.0
    description: str | None = None
    chat_id: int | str | None = None
    hits: int = 0

    def matches(self, method: str, params: Mapping[str, Any]) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is None:
            if method == "getupdates":
                return False
        elif self.method.lower() != method:
            return False
        return self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id)


@dataclass
class Outcome:
    """What the transport must do with a call: answer (maybe late) or drop the connection."""

    status: int
    payload: dict[str, Any] | None = None
    raw_body: str | None = None
    content_type: str = "application/json"
    delay: float = 0.0
    drop: bool = False
    fault: str | None = None

    def body(self) -> str:
        if self.raw_body is not None:
            return self.raw_body
        return json.dumps(self.payload, ensure_ascii=False)


@dataclass
class RateLimits:
    private_per_s: int | None = 1
    group_per_min: int | None = 20
    global_per_s: int | None = 30
    count_edits: bool = True


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    kind: str
    content: bytes
    file_path: str
    meta: dict[str, Any] = field(default_factory=dict)

    def as_object(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            **self.meta,
            "file_size": len(self.content),
        }


@dataclass
class Topic:
    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    creator_id: int | None = None

    def as_object(self) -> dict[str, Any]:
        topic: dict[str, Any] = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass
class ChatState:
    chat: dict[str, Any]
    members: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    topics: dict[int, Topic] = field(default_factory=dict)
    pinned: list[int] = field(default_factory=list)
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    @property
    def is_private(self) -> bool:
        return self.chat["type"] == "private"

    @property
    def is_forum(self) -> bool:
        return bool(self.chat.get("is_forum"))

    def live(self, message_id: int) -> dict[str, Any] | None:
        if message_id in self.deleted:
            return None
        return self.messages.get(message_id)


@dataclass
class CallbackState:
    query: dict[str, Any]
    answered: bool = False
    answer: dict[str, Any] | None = None


@dataclass
class _UserState:
    user: dict[str, Any]
    blocked: bool = False
    started: bool = True
    deactivated: bool = False


#: The placeholder senders of posts made in a chat's name (``sender_chat`` holds the chat).
GROUP_ANONYMOUS_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}


def _short(value: Any, limit: int = 60) -> Any:
    if isinstance(value, UploadedFile):
        return f"<upload {value.filename} {len(value.content)}B>"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _strip_nested(message: dict[str, Any]) -> dict[str, Any]:
    # Telegram nests one level only: a reply's reply_to_message has no reply_to_message itself.
    nested = copy.deepcopy(message)
    nested.pop("reply_to_message", None)
    return nested


def _is_service(message: Mapping[str, Any]) -> bool:
    return any(key in message for key in SERVICE_KEYS)
