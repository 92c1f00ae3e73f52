"""Engines for SQLite and PostgreSQL, set up for many short transactions.

The schema itself is made and upgraded by the Alembic steps (``policyqa.store.migrations``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

SQLITE_BEGIN = "sqlite_begin"  # execution option: DEFERRED (default) | IMMEDIATE
_BEGIN_MODES = {"DEFERRED", "IMMEDIATE", "EXCLUSIVE"}
IN_LIST_MAX = 500  # values bound in one IN (...): far under SQLite's variable limit
T = TypeVar("T")


def in_batches(values: Sequence[T], size: int = IN_LIST_MAX) -> Iterator[Sequence[T]]:
    """``values`` in slices of at most ``size``, for ``column.in_(slice)`` queries: one IN
    list of thousands of values overruns an older SQLite's 999 bound variables and makes
    PostgreSQL plan a huge literal list each time."""
    for i in range(0, len(values), size):
        yield values[i:i + size]


def upsert_insert(engine: Engine) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_*``) for this engine: PostgreSQL's
    or SQLite's; the generic one has no upsert."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


def default_database_url(data_dir: Path) -> str:
    """The embedded default: one SQLite file in the data folder (absolute path)."""
    return f"sqlite:///{(Path(data_dir) / 'policyqa.db').resolve().as_posix()}"


def _dumps(obj: Any) -> str:
    # Chinese stays readable in the JSON columns (SQLite stores this text as-is).
    return json.dumps(obj, ensure_ascii=False)


def _normalize_url(url: str) -> URL:
    """``postgresql://`` / ``postgres://`` mean psycopg 3, the only driver installed."""
    u = make_url(url.replace("postgres://", "postgresql://", 1)
                 if url.startswith("postgres://") else url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return u


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own implicit BEGIN skips DDL and cannot do BEGIN IMMEDIATE; turn it
    # off and let _sqlite_on_begin start every transaction explicitly.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    _ensure_wal(cur)
    cur.execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the app in WAL mode
    cur.close()


def _ensure_wal(cur: Any, wait_s: float = 30.0) -> None:
    """WAL (readers never block the writer), set once per file: the mode is persistent.

    Switching needs a moment alone with the file and SQLite does not wait for it
    (no busy handler), so processes starting together on a new file retry here.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_on_begin(conn: Connection) -> None:
    mode = str(conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")).upper()
    if mode not in _BEGIN_MODES:
        raise ValueError(f"unknown SQLite BEGIN mode: {mode}")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _private_file(path: Path) -> None:
    """Create the SQLite file (and a new parent folder) readable by the service user only.

    The file holds citizens' questions. SQLite gives its -wal/-shm files the mode of
    the database file, so creating that one 0600 up front covers all three; an
    existing file is tightened too. A folder that already exists (e.g. /tmp) is not
    changed.
    """
    if not path.parent.exists():
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        # another process starting at the same moment may have made it: that is fine
        with contextlib.suppress(FileExistsError):
            path.parent.mkdir(mode=0o700)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if extra.exists():
            os.chmod(extra, 0o600)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine configured for this app's access pattern (many short transactions).

    SQLite: shareable across threads, WAL, foreign keys enforced, a 30 s busy wait,
    and real transactions (``BEGIN`` issued by us; writers use ``BEGIN IMMEDIATE``
    so two writers queue on the lock instead of failing on upgrade). The parent
    folder of the file is created. ``sqlite://`` (memory) is one shared connection:
    for single-threaded tests only.
    PostgreSQL: psycopg 3, UTF-8 client encoding, connections checked before use.
    """
    u = _normalize_url(url)
    if u.get_backend_name() == "sqlite":
        memory = u.database in (None, "", ":memory:")
        if not memory and u.database is not None:
            _private_file(Path(u.database).expanduser())
        engine = create_engine(
            u, echo=echo, json_serializer=_dumps,
            connect_args={"check_same_thread": False, "timeout": 30.0},
            **({"poolclass": StaticPool} if memory else {}))
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    connect_args = {"client_encoding": "utf8"} if u.get_backend_name() == "postgresql" else {}
    return create_engine(u, echo=echo, json_serializer=_dumps, pool_pre_ping=True,
                         connect_args=connect_args)
