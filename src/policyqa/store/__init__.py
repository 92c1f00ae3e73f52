"""Persistence of the citizen channel and the officer desk: sessions, turns, 好差评,
转人工 tickets, 回访, officers and the 问答库.

SQLite file by default (embedded, zero set-up); PostgreSQL when
``POLICYQA_DATABASE_URL`` names one. ``Store.open(settings)`` connects and
migrates; everything else goes through :class:`Store`.
"""

from __future__ import annotations

from policyqa.store.engine import default_database_url, make_engine
from policyqa.store.migrations import current_version, latest, migrate
from policyqa.store.repo import InvalidRating, Store

__all__ = [
    "InvalidRating",
    "Store",
    "current_version",
    "default_database_url",
    "latest",
    "make_engine",
    "migrate",
]
