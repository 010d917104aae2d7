"""Persistence adapters: SQLAlchemy 2 async records, repositories and the unit of work."""

from storage.db import is_sqlite, make_engine, make_session_factory
from storage.ports import AbstractUnitOfWork
from storage.uow import SqlAlchemyUnitOfWork, uow_factory

__all__ = [
    "AbstractUnitOfWork",
    "SqlAlchemyUnitOfWork",
    "is_sqlite",
    "make_engine",
    "make_session_factory",
    "uow_factory",
]
