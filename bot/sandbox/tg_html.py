"""Telegram's HTML parse mode: turn marked-up text into plain text plus message entities.

Covers the tags listed under "HTML style" in the Bot API formatting options. Entity offsets
and lengths are in UTF-16 code units, as Telegram counts them.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message mirrors Telegram's wording."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (Telegram's unit for lengths and offsets)."""
    return len(text.encode("utf-16-le")) // 2


class _TelegramHTML(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._line_starts = [0]
        for index, char in enumerate(source):
            if char == "\n":
                self._line_starts.append(index + 1)
        self.parts: list[str] = []
        self.entities: list[dict[str, Any]] = []
        self._offset = 0
        # (tag, entity dict or None when the tag only modifies its parent)
        self._stack: list[tuple[str, dict[str, Any] | None]] = []

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        index = self._line_starts[line - 1] + column
        return len(self._source[:index].encode())

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self._offset += utf16_len(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        entity: dict[str, Any] | None
        if tag in _SIMPLE_TAGS:
            entity = {"type": _SIMPLE_TAGS[tag]}
            css = attributes.get("class") or ""
            inside_pre = bool(self._stack) and self._stack[-1][0] == "pre"
            if tag == "code" and inside_pre and css.startswith("language-"):
                # <pre><code class="language-x"> is one pre entity with a language.
                parent = self._stack[-1][1]
                if parent is not None:
                    parent["language"] = css.removeprefix("language-")
                entity = None
        elif tag == "span" and attributes.get("class") == "tg-spoiler":
            entity = {"type": "spoiler"}
        elif tag == "a":
            entity = {"type": "text_link", "url": attributes.get("href") or ""}
        elif tag == "blockquote":
            kind = "expandable_blockquote" if "expandable" in attributes else "blockquote"
            entity = {"type": kind}
        elif tag == "tg-emoji":
            entity = {"type": "custom_emoji", "custom_emoji_id": attributes.get("emoji-id") or ""}
        else:
            msg = f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}'
            raise EntityParseError(msg)
        if entity is not None:
            entity["offset"] = self._offset
        self._stack.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        msg = f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}'
        raise EntityParseError(msg)

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            msg = f"Unexpected end tag at byte offset {self._byte_offset()}"
            raise EntityParseError(msg)
        open_tag, entity = self._stack.pop()
        if open_tag != tag:
            msg = (
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{open_tag}>", found "</{tag}>"'
            )
            raise EntityParseError(msg)
        if entity is None:
            return
        entity["length"] = self._offset - entity["offset"]
        if entity["length"] > 0:
            self.entities.append(entity)

    def finish(self) -> tuple[str, list[dict[str, Any]]]:
        self.close()
        if self._stack:
            msg = f'Can\'t find end tag corresponding to start tag "{self._stack[-1][0]}"'
            raise EntityParseError(msg)
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), [_ordered_keys(e) for e in ordered]


def _ordered_keys(entity: dict[str, Any]) -> dict[str, Any]:
    head = {"type": entity["type"], "offset": entity["offset"], "length": entity["length"]}
    head.update({k: v for k, v in entity.items() if k not in head})
    return head


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` for Telegram-flavoured HTML, or raise EntityParseError."""
    parser = _TelegramHTML(source)
    parser.feed(source)
    return parser.finish()
