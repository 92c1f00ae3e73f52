"""Persistence of the citizen channel: sessions, turns, 好差评, 转人工 tickets.

SQLite file by default (embedded, zero set-up); PostgreSQL when
``POLICYQA_DATABASE_URL`` names one. ``Store.open(settings)`` connects and
migrates; everything else goes through :class:`Store`.
"""

from __future__ import annotations

from policyqa.store.migrations import (
    LATEST,
    MIGRATIONS,
    current_version,
    default_database_url,
    make_engine,
    migrate,
)
from policyqa.store.repo import InvalidRating, Store

__all__ = [
    "LATEST",
    "MIGRATIONS",
    "InvalidRating",
    "Store",
    "current_version",
    "default_database_url",
    "make_engine",
    "migrate",
]
