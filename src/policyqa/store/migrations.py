"""Engine set-up and versioned schema migrations, for SQLite and PostgreSQL.

Each step is frozen once released: it creates exactly the tables of its version
(own ``MetaData``, not the ORM models), so a database made by any older release is
brought forward by the same steps in the same order. ``migrate`` runs at start-up
in every process; all steps and their ``schema_version`` rows commit together,
under a lock, so two processes starting at once apply each step exactly once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from policyqa.errors import ConfigError
from policyqa.store.models import UTCDateTime, utcnow

log = logging.getLogger(__name__)

# Arbitrary but fixed: every policyqa process contends for this advisory lock id.
PG_LOCK_KEY = 0x5051_4D49_4752  # "PQMIGR"
SQLITE_BEGIN = "sqlite_begin"  # execution option: DEFERRED (default) | IMMEDIATE
_BEGIN_MODES = {"DEFERRED", "IMMEDIATE", "EXCLUSIVE"}


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


# ---- the steps ---------------------------------------------------------------------

_version_md = MetaData()
schema_version = Table(
    "schema_version", _version_md,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UTCDateTime(), nullable=False),
)


def _v1(conn: Connection) -> None:
    """Sessions, turns (question + answer + citations), feedback, handoff tickets."""
    md = MetaData()
    Table("chat_sessions", md,
          Column("id", String(32), primary_key=True),
          Column("channel", String(32), nullable=False),
          Column("created_at", UTCDateTime(), nullable=False),
          Column("last_active_at", UTCDateTime(), nullable=False))
    Table("turns", md,
          Column("id", String(32), primary_key=True),
          Column("session_id", String(32),
                 ForeignKey("chat_sessions.id", ondelete="CASCADE"), nullable=False),
          Column("question", Text, nullable=False),
          Column("normalized", Text, nullable=False),
          Column("status", String(16), nullable=False),
          Column("source", String(16), nullable=False),
          Column("answer_text", Text, nullable=False),
          Column("citations", JSON, nullable=False),
          Column("reason", Text, nullable=False),
          Column("latency_ms", Float, nullable=False),
          Column("created_at", UTCDateTime(), nullable=False),
          Column("channel", String(32), nullable=False),
          CheckConstraint("status IN ('answered', 'refused')", name="ck_turns_status"),
          CheckConstraint("source IN ('faq', 'policy', 'none')", name="ck_turns_source"),
          Index("ix_turns_session_created", "session_id", "created_at"),
          Index("ix_turns_status_normalized", "status", "normalized"))
    Table("feedback", md,
          Column("id", Integer, primary_key=True, autoincrement=True),
          Column("answer_id", String(32),
                 ForeignKey("turns.id", ondelete="CASCADE"), nullable=False),
          Column("rating", Integer, nullable=False),
          Column("comment", Text, nullable=False),
          Column("created_at", UTCDateTime(), nullable=False),
          CheckConstraint("rating BETWEEN 1 AND 5", name="ck_feedback_rating"),
          Index("ix_feedback_answer", "answer_id", "id"))
    Table("handoff_tickets", md,
          Column("id", String(32), primary_key=True),
          Column("session_id", String(32),
                 ForeignKey("chat_sessions.id", ondelete="CASCADE"), nullable=False),
          Column("reason", Text, nullable=False),
          Column("status", String(16), nullable=False),
          Column("transcript", JSON, nullable=False),
          Column("created_at", UTCDateTime(), nullable=False),
          CheckConstraint("status IN ('open', 'closed')", name="ck_handoff_status"),
          Index("ix_handoff_session", "session_id"))
    md.create_all(conn)


def _v2(conn: Connection) -> None:
    """Officers (token hashes only), the 问答库 entries and their audit trail."""
    md = MetaData()
    Table("officers", md,
          Column("id", Integer, primary_key=True, autoincrement=True),
          Column("name", String(64), nullable=False, unique=True),
          Column("token_hash", String(64), nullable=False, unique=True),
          Column("created_at", UTCDateTime(), nullable=False),
          Column("revoked_at", UTCDateTime(), nullable=True))
    Table("faq_entries", md,
          Column("id", String(32), primary_key=True),
          Column("question", Text, nullable=False),
          Column("normalized", Text, nullable=False),
          Column("paraphrases", JSON, nullable=False),
          Column("answer_text", Text, nullable=False),
          Column("citations", JSON, nullable=False),
          Column("status", String(16), nullable=False),
          Column("version", Integer, nullable=False),
          Column("stale", Boolean, nullable=False),
          Column("stale_reason", Text, nullable=False),
          Column("origin", String(16), nullable=False),
          Column("evidence", JSON, nullable=False),
          Column("created_by", String(64), nullable=False),
          Column("updated_by", String(64), nullable=False),
          Column("created_at", UTCDateTime(), nullable=False),
          Column("updated_at", UTCDateTime(), nullable=False),
          CheckConstraint("status IN ('draft', 'in_review', 'published', 'retired', 'rejected')",
                          name="ck_faq_status"),
          Index("ix_faq_status", "status"))
    Table("faq_audit", md,
          Column("id", Integer, primary_key=True, autoincrement=True),
          Column("entry_id", String(32),
                 ForeignKey("faq_entries.id", ondelete="CASCADE"), nullable=False),
          Column("officer", String(64), nullable=False),
          Column("action", String(32), nullable=False),
          Column("version", Integer, nullable=False),
          Column("changes", JSON, nullable=False),
          Column("at", UTCDateTime(), nullable=False),
          Index("ix_faq_audit_entry", "entry_id", "id"))
    md.create_all(conn)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


# Append only; never edit a released step (write a new one that alters the old).
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "chat_sessions, turns, feedback, handoff_tickets", _v1),
    Migration(2, "officers, faq_entries, faq_audit", _v2),
)
LATEST = MIGRATIONS[-1].version


def _lock(conn: Connection) -> None:
    """Serialise migrators. PostgreSQL: advisory lock (released at commit) and a UTF-8 check.

    SQLite needs nothing here: the transaction was opened with ``BEGIN IMMEDIATE``,
    which already holds the database's single write lock.
    """
    if conn.dialect.name != "postgresql":
        return
    conn.execute(select(func.pg_advisory_xact_lock(PG_LOCK_KEY)))
    encoding = conn.execute(text("SHOW server_encoding")).scalar_one()
    if str(encoding).upper() not in ("UTF8", "UTF-8"):
        raise ConfigError(f"数据库编码为 {encoding}，需要 UTF8"
                          "（CREATE DATABASE ... ENCODING 'UTF8'）")


def current_version(engine: Engine) -> int:
    """The schema version recorded in the database (0 for an empty database)."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "schema_version"):
            return 0
        return int(conn.execute(select(func.max(schema_version.c.version))).scalar() or 0)


def migrate(engine: Engine) -> int:
    """Apply the missing steps in order, in one transaction; return the version now in force.

    Idempotent and safe to call from several processes at once: the second one
    waits for the lock, then finds nothing left to do.
    """
    with engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}).begin() as conn:
        _lock(conn)
        schema_version.create(conn, checkfirst=True)
        current = int(conn.execute(select(func.max(schema_version.c.version))).scalar() or 0)
        if current > LATEST:
            log.warning("database schema v%d is newer than this code (v%d)", current, LATEST)
            return current
        for step in MIGRATIONS:
            if step.version <= current:
                continue
            log.info("applying schema migration v%d: %s", step.version, step.description)
            step.apply(conn)
            conn.execute(insert(schema_version).values(version=step.version,
                                                       applied_at=utcnow()))
            current = step.version
        return current
