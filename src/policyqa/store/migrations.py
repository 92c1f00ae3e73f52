"""Versioned schema migrations (Alembic), for SQLite and PostgreSQL.

The steps live in ``alembic/versions``; each is frozen once released and creates or
alters exactly the tables of its version (own definitions, not the ORM models), so a
database made by any older release is brought forward by the same steps in the same
order. Alembic does what is hard to get right by hand: SQLite cannot alter a
constraint, and its batch mode copies the table instead.

``migrate`` runs at start-up in every process. All steps commit together, under a
lock (PostgreSQL: an advisory lock; SQLite: ``BEGIN IMMEDIATE``), so two processes
starting at once apply each step exactly once. A database made before Alembic
(a ``schema_version`` table, versions 1-2) is stamped with its revision first.
"""

from __future__ import annotations

import logging
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, inspect, select, text

from policyqa.errors import ConfigError
from policyqa.store.engine import SQLITE_BEGIN

log = logging.getLogger(__name__)

# Arbitrary but fixed: every policyqa process contends for this advisory lock id.
PG_LOCK_KEY = 0x5051_4D49_4752  # "PQMIGR"
SCRIPT_LOCATION = "policyqa.store:alembic"


def _config(conn: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["connection"] = conn
    return cfg


@cache
def revisions() -> tuple[str, ...]:
    """The revision ids, oldest first ("0001", "0002", …): version N is revision N."""
    script = ScriptDirectory.from_config(_config())
    return tuple(reversed([r.revision for r in script.walk_revisions()]))


def latest() -> int:
    return int(revisions()[-1])


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


def _version(conn: Connection) -> int:
    """The schema version recorded in the database: Alembic's, else the pre-Alembic
    ``schema_version`` table's, else 0 (an empty database)."""
    rev = MigrationContext.configure(conn).get_current_revision()
    if rev is not None:
        return int(rev)
    if inspect(conn).has_table("schema_version"):
        return int(conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar() or 0)
    return 0


def current_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return _version(conn)


def migrate(engine: Engine) -> int:
    """Apply the missing steps in order, in one transaction; return the version now in force.

    Idempotent and safe to call from several processes at once: the second one
    waits for the lock, then finds nothing left to do.
    """
    with engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}).begin() as conn:
        _lock(conn)
        current, newest = _version(conn), latest()
        if current > newest:
            log.warning("database schema v%d is newer than this code (v%d)", current, newest)
            return current
        if current == newest:
            return current
        cfg = _config(conn)
        if current and MigrationContext.configure(conn).get_current_revision() is None:
            command.stamp(cfg, revisions()[current - 1])  # made before Alembic
        log.info("migrating the database schema from v%d to v%d", current, newest)
        command.upgrade(cfg, "head")
        return newest
