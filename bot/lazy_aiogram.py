"""Import aiogram's types without building all ~900 of their pydantic models at once.

aiogram declares its types with ``defer_build=True``, then builds every one of them at import
(``aiogram/types/__init__.py`` calls ``model_rebuild`` on each, to hand them the namespace
their forward references need). That costs ~95 MB of RSS and a second of start-up, for models a
help desk mostly never meets. Here the namespace is stored on each class instead (pydantic
reads ``__pydantic_parent_namespace__`` when it builds a model later), so a model is built on
first use: ``Update`` with what it contains on the first update, ~140 ms once.

The stored namespace is aiogram's own plus every public name of its type modules (some
annotations name aliases such as ``ReactionTypeUnion`` that are not in ``aiogram.types``), and
every aiogram model gets it, the API methods too: a method built later resolves the types it
names like a type does. ``tests/unit/test_lazy_aiogram.py`` builds every model this way.

Behaviour is unchanged: the same models, the same validation, only built later. If aiogram's
types were imported before this runs (or aiogram stops calling ``model_rebuild`` with a
namespace), nothing is deferred and everything still works.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel

_TYPES_MODULE = "aiogram.types"


def import_aiogram_lazily() -> bool:
    """Import ``aiogram.types`` with its models deferred; False if it was imported already."""
    if _TYPES_MODULE in sys.modules:
        return False
    original = BaseModel.__dict__["model_rebuild"].__func__

    def deferred(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        if (
            _types_namespace is not None
            and not force
            and cls.__module__.startswith(_TYPES_MODULE + ".")
        ):
            cls.__pydantic_parent_namespace__ = _types_namespace
            return None
        return original(  # type: ignore[no-any-return]
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,
            _types_namespace=_types_namespace,
        )

    BaseModel.model_rebuild = classmethod(deferred)  # type: ignore[method-assign,assignment]
    try:
        __import__(_TYPES_MODULE)
    finally:
        BaseModel.model_rebuild = classmethod(original)  # type: ignore[method-assign,assignment]
    _share_namespace()
    return True


def _share_namespace() -> None:
    models = [
        value
        for name, module in list(sys.modules.items())
        if name.startswith("aiogram.") and module is not None
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__.startswith("aiogram.")
    ]
    namespace: dict[str, Any] = {}
    for model in models:
        found = model.__dict__.get("__pydantic_parent_namespace__")
        if isinstance(found, dict):
            namespace.update(found)
    for name, module in list(sys.modules.items()):
        if name.startswith(_TYPES_MODULE + ".") and module is not None:
            for key, value in vars(module).items():
                if not key.startswith("_"):
                    namespace.setdefault(key, value)
    # Every model, built or not: a generic such as ``Response`` hands its namespace down to
    # the classes parametrising it creates (``Response[ChatFullInfo]``), which build then.
    for model in models:
        model.__pydantic_parent_namespace__ = namespace
