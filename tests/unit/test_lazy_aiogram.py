"""aiogram's types are built on first use, and behave exactly as when built at import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_types_are_deferred_until_used_then_validate_nested_objects() -> None:
    out = run(
        """
        import bot
        from aiogram.types import Poll, Update
        assert not Poll.__pydantic_complete__
        assert not Update.__pydantic_complete__
        update = Update.model_validate({
            "update_id": 5,
            "message": {
                "message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
                "text": "hi",
                "reply_to_message": {
                    "message_id": 0, "date": 0, "chat": {"id": 1, "type": "private"},
                    "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}],
                },
            },
        })
        assert update.message.reply_to_message.photo[0].width == 1
        print(Update.__pydantic_complete__, Poll.__pydantic_complete__)
        """
    )
    assert out == "True False"


def test_a_bad_object_is_refused_as_before() -> None:
    out = run(
        """
        import bot
        from pydantic import ValidationError
        from aiogram.types import Update
        try:
            Update.model_validate({"update_id": 1, "message": {"message_id": 1, "date": 0,
                "chat": {"id": 1, "type": "private"},
                "poll": {"id": "p", "question": "q", "options": [{"text": "a"}]}}})
        except ValidationError as exc:
            print(sorted({e["loc"][-1] for e in exc.errors()})[:2])
        """
    )
    assert out == "['allows_multiple_answers', 'allows_revoting']"


def test_every_method_s_response_model_builds_with_lazy_types() -> None:
    out = run(
        """
        import bot
        import aiogram.methods
        from aiogram.methods.base import TelegramMethod
        from aiogram.methods.base import Response
        methods = [
            m for m in vars(aiogram.methods).values()
            if isinstance(m, type) and issubclass(m, TelegramMethod) and m is not TelegramMethod
        ]
        for method in methods:
            Response[method.__returning__].model_validate({"ok": False, "description": "x"})
        print(len(methods) > 150)
        """
    )
    assert out == "True"


def test_every_aiogram_model_builds_later() -> None:
    out = run(
        """
        import sys
        import bot
        from pydantic import BaseModel
        models = {
            value
            for name, module in list(sys.modules.items())
            if name.startswith("aiogram.") and module is not None
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, BaseModel)
            and value.__module__.startswith("aiogram.")
        }
        deferred = [m for m in models if not m.__pydantic_complete__]
        for model in deferred:
            model.model_rebuild()
        print(len(deferred) > 400, all(m.__pydantic_complete__ for m in models))
        """
    )
    assert out == "True True"
