"""Bot API files: file ids and paths, uploads, ``getFile``."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Mapping
from typing import Any

from bot.sandbox.emulator.state import EmulatorState
from bot.sandbox.emulator.validation import _str
from bot.sandbox.emulator.world import FileRecord, UploadedFile, bad_request

_FILE_PREFIX = {
    "photo": "AgAC",
    "video": "BAAC",
    "document": "BQAC",
    "audio": "CQAC",
    "voice": "AwAC",
    "video_note": "DQAC",
    "sticker": "CAAC",
    "animation": "CgAC",
}
_FILE_FOLDER = {
    "photo": ("photos", "jpg"),
    "video": ("videos", "mp4"),
    "document": ("documents", "pdf"),
    "audio": ("music", "mp3"),
    "voice": ("voice", "oga"),
    "video_note": ("video_notes", "mp4"),
    "sticker": ("stickers", "webp"),
    "animation": ("animations", "mp4"),
}
_DEFAULT_META: dict[str, dict[str, Any]] = {
    "video": {"width": 1280, "height": 720, "duration": 5, "mime_type": "video/mp4"},
    "document": {"file_name": "document.pdf", "mime_type": "application/pdf"},
    "audio": {"duration": 30, "mime_type": "audio/mpeg", "file_name": "audio.mp3"},
    "voice": {"duration": 3, "mime_type": "audio/ogg"},
    "video_note": {"length": 240, "duration": 5},
    "sticker": {
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "👍",
    },
    "animation": {
        "width": 320,
        "height": 240,
        "duration": 3,
        "mime_type": "video/mp4",
        "file_name": "animation.mp4",
    },
}
_PHOTO_SIZES = ((320, 240), (1280, 960))
# Kinds Telegram lets you resend under another method: an animation is also a document.
_COMPATIBLE_KINDS = {("document", "animation"), ("animation", "document")}


class FilesApi(EmulatorState):
    """Files: ids and paths like Telegram's, uploads and re-sent ids, getFile."""

    def _new_file(
        self,
        kind: str,
        content: bytes | None,
        meta: Mapping[str, Any] | None = None,
        *,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> FileRecord:
        number = next(self._file_counter)
        if content is None:
            content = f"emulated {kind} #{number}".encode()
        merged = {**_DEFAULT_META.get(kind, {}), **(meta or {})}
        if filename and kind in ("document", "video", "audio", "animation"):
            merged["file_name"] = filename
            guessed = (
                content_type if content_type not in (None, "application/octet-stream") else None
            )
            merged["mime_type"] = (
                guessed
                or mimetypes.guess_type(filename)[0]
                or merged.get("mime_type", "application/octet-stream")
            )
        if kind == "photo":
            width, height = merged.pop("width", None), merged.pop("height", None)
            sizes = [(width, height)] if width and height else list(_PHOTO_SIZES)
            records = [
                self._file_record(kind, number, i, content, {"width": w, "height": h})
                for i, (w, h) in enumerate(sizes)
            ]
            group = [r.file_id for r in records]
            for record in records:
                self._photo_groups[record.file_id] = group
            return records[-1]
        return self._file_record(kind, number, 0, content, merged)

    def _file_record(
        self, kind: str, number: int, variant: int, content: bytes, meta: dict[str, Any]
    ) -> FileRecord:
        digest = hashlib.sha256(f"{self.bot_id}:{kind}:{number}:{variant}".encode()).hexdigest()
        file_id = f"{_FILE_PREFIX[kind]}AgAD{number:06d}{variant}{digest[:24]}"
        unique = f"AQAD{number:06d}{variant}{digest[24:30]}"
        folder, ext = _FILE_FOLDER[kind]
        name = meta.get("file_name")
        if isinstance(name, str) and "." in name:
            ext = name.rsplit(".", 1)[1]
        record = FileRecord(
            file_id, unique, kind, content, f"{folder}/file_{number}_{variant}.{ext}", dict(meta)
        )
        self.files[file_id] = record
        self._files_by_path[record.file_path] = record
        return record

    def _media_content(self, kind: str, record: FileRecord) -> dict[str, Any]:
        if kind == "photo":
            group = self._photo_groups.get(record.file_id, [record.file_id])
            return {"photo": [self.files[fid].as_object() for fid in group]}
        content: dict[str, Any] = {kind: record.as_object()}
        if kind == "animation":
            # Telegram sets document too on animation messages, for old clients.
            content["document"] = {
                k: v
                for k, v in record.as_object().items()
                if k not in ("width", "height", "duration")
            }
        return content

    def _input_file(
        self, kind: str, value: Any, params: Mapping[str, Any], meta: Mapping[str, Any]
    ) -> FileRecord:
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            return self._new_file(
                kind,
                value.content,
                meta,
                filename=value.filename,
                content_type=value.content_type,
            )
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {kind} in the request")
        if value.startswith(("http://", "https://")):
            return self._new_file(kind, value.encode(), meta, filename=value.rsplit("/", 1)[-1])
        record = self.files.get(value)
        if record is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if record.kind != kind and (record.kind, kind) not in _COMPATIBLE_KINDS:
            raise bad_request("type of file mismatch")
        return record

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self.files.get(_str(params, "file_id") or "")
        if record is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": len(record.content),
            "file_path": record.file_path,
        }

    def file_by_path(self, file_path: str) -> bytes | None:
        record = self._files_by_path.get(file_path)
        return record.content if record else None
