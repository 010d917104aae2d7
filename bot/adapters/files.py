"""Files of ticket messages for the REST API: fetched through the Bot API on first request,
kept on disk, the oldest dropped when the cache outgrows its budget.

Telegram keeps the files (the desk stores only their ids); a bot may download at most 20 MB
per file (``getFile``), so larger ones are refused before anything is fetched.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.logs import get_logger

log = get_logger(__name__)

#: What the Bot API lets a bot download (``getFile``).
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024


class FileUnavailable(Exception):
    """Telegram does not give the file (unknown, expired, or too large)."""

    def __init__(self, reason: str, *, too_large: bool = False) -> None:
        super().__init__(reason)
        self.too_large = too_large


@dataclass(frozen=True)
class CachedFile:
    path: Path
    content_type: str


class TelegramFiles:
    def __init__(
        self,
        bot: Bot,
        cache_dir: Path,
        *,
        max_file_bytes: int = TELEGRAM_DOWNLOAD_LIMIT,
        cache_bytes: int = 512 * 1024 * 1024,
    ) -> None:
        self.bot = bot
        self.cache_dir = cache_dir
        self.max_file_bytes = max_file_bytes
        self.cache_bytes = cache_bytes
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, file_id: str) -> CachedFile:
        key = hashlib.sha256(file_id.encode()).hexdigest()[:40]
        if len(self._locks) > 10_000:  # forget old locks (a double fetch is harmless)
            self._locks.clear()
        async with self._locks.setdefault(key, asyncio.Lock()):  # one fetch per file
            found = await asyncio.to_thread(self._cached, key)
            if found is not None:
                return found
            return await self._fetch(file_id, key)

    def _cached(self, key: str) -> CachedFile | None:
        for path in self.cache_dir.glob(key + "*"):
            if path.suffix == ".part":
                continue
            os.utime(path)  # recently used: evicted last
            return CachedFile(path, _content_type(path))
        return None

    async def _fetch(self, file_id: str, key: str) -> CachedFile:
        try:
            file = await self.bot.get_file(file_id)
        except TelegramAPIError as exc:
            too_large = "too big" in exc.message.lower()
            raise FileUnavailable(exc.message, too_large=too_large) from None
        if file.file_size is not None and file.file_size > self.max_file_bytes:
            raise FileUnavailable(f"{file.file_size} bytes", too_large=True)
        if not file.file_path:
            raise FileUnavailable("Telegram gave no file path")
        suffix = Path(file.file_path).suffix
        path = self.cache_dir / (key + suffix)
        part = path.with_name(path.name + ".part")
        await asyncio.to_thread(self.cache_dir.mkdir, parents=True, exist_ok=True)
        try:
            await self.bot.download_file(file.file_path, destination=part)
        except TelegramAPIError as exc:
            raise FileUnavailable(exc.message) from None
        await asyncio.to_thread(os.replace, part, path)
        await asyncio.to_thread(self._evict)
        log.info("file fetched for the API", bytes=file.file_size, path=path.name)
        return CachedFile(path, _content_type(path))

    def _evict(self) -> None:
        files = sorted(
            (p for p in self.cache_dir.iterdir() if p.suffix != ".part"),
            key=lambda p: p.stat().st_mtime,
        )
        total = sum(p.stat().st_size for p in files)
        while files and total > self.cache_bytes:
            oldest = files.pop(0)
            total -= oldest.stat().st_size
            oldest.unlink(missing_ok=True)


def _content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
