"""Answers to an admin's command where it was given, as outbox calls; a secret (a key, a
signing secret) goes to the admin alone when the command was given in a group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from aiogram.types import Message

from models.delivery import OutboundCall


@dataclass(frozen=True)
class AnswerHere:
    chat_id: int
    private: bool
    thread_id: int | None = None
    reply_to: int | None = None

    @classmethod
    def to(cls, message: Message) -> Self:
        """Answers to ``message``: in its chat and topic, replying to it."""
        return cls(
            chat_id=message.chat.id,
            private=message.chat.type == "private",
            thread_id=message.message_thread_id if message.is_topic_message else None,
            reply_to=message.message_id,
        )

    def _here(self, text: str) -> OutboundCall:
        params: dict[str, Any] = {"chat_id": self.chat_id, "text": text}
        if self.thread_id is not None:
            params["message_thread_id"] = self.thread_id
        if self.reply_to is not None:
            params["reply_parameters"] = {
                "message_id": self.reply_to,
                "allow_sending_without_reply": True,
            }
        return OutboundCall(chat_id=self.chat_id, method="sendMessage", params=params)

    def _with_secret(
        self, head: str, secret: str, admin_chat_id: int, sent_privately: str
    ) -> list[OutboundCall]:
        """``head`` here and ``secret`` with it in a private chat; in a group, ``secret`` by
        direct message to the admin and ``sent_privately`` here instead."""
        if self.private:
            return [self._here(head + "\n\n" + secret)]
        to_admin = OutboundCall(
            chat_id=admin_chat_id,
            method="sendMessage",
            params={"chat_id": admin_chat_id, "text": secret},
        )
        return [self._here(head + "\n" + sent_privately), to_admin]
