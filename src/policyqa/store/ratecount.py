"""A storage for the ``limits`` library in the channel's own database (SQLite or PostgreSQL).

``limits`` does the limiting (rate strings, fixed windows, window stats) but stores its
counters only in memory, Redis, Memcached, MongoDB or etcd. Every worker and replica
already shares one database, so the counters live there instead of in a new server to
run: one atomic upsert per hit (``INSERT … ON CONFLICT DO UPDATE … RETURNING``), which
both SQLite (≥ 3.35) and PostgreSQL execute as one statement, so two workers counting
the same citizen at once never lose a hit. Only the fixed-window methods are provided.
"""

from __future__ import annotations

import time
from typing import Any, cast

from limits.storage import Storage
from sqlalchemy import Table, case, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from policyqa.store.engine import upsert_insert
from policyqa.store.models import RateHit

T = cast(Table, RateHit.__table__)
SWEEP_EVERY = 1000  # hits between deletions of windows that have ended


class SqlCounterStorage(Storage):
    STORAGE_SCHEME = ["policyqa-sql"]  # noqa: RUF012 (limits declares it a plain list)

    def __init__(self, engine: Engine, clock: Any = time.time) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock
        self._insert = upsert_insert(engine)
        self._hits = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """The window's count after this hit; a window that has ended starts again."""
        now = self.clock()
        t = T
        ins = self._insert(t).values(key=key, count=amount, expires_at=now + expiry)
        ended = t.c.expires_at <= now
        stmt = ins.on_conflict_do_update(index_elements=[t.c.key], set_={
            "count": case((ended, amount), else_=t.c.count + amount),
            "expires_at": case((ended, now + expiry), else_=t.c.expires_at),
        }).returning(t.c.count)
        with self.engine.begin() as conn:
            count = int(conn.execute(stmt).scalar_one())
            self._hits += 1
            if self._hits % SWEEP_EVERY == 0:
                conn.execute(delete(t).where(t.c.expires_at <= now))
        return count

    def _row(self, key: str) -> tuple[int, float] | None:
        t = T
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.count, t.c.expires_at).where(t.c.key == key)).first()
        if row is None or row[1] <= self.clock():
            return None
        return int(row[0]), float(row[1])

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row else float(self.clock())

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return int(conn.execute(delete(T)).rowcount)

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(T).where(T.c.key == key))
