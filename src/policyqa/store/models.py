"""ORM mapping of the current schema (what the code reads and writes).

The tables are *created* by the versioned Alembic steps (``alembic/versions``), never from
this metadata, so that an old database is upgraded step by step instead of being
silently left behind; a test checks that the migrated schema matches this file.
Column types are chosen to behave the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STATUSES = ("answered", "refused")
SOURCES = ("faq", "policy", "none")
TICKET_STATUSES = ("open", "claimed", "answered", "closed")
TICKET_WAITING = ("open", "claimed")  # a citizen still waits for a first reply
ROLES = ("editor", "reviewer", "admin")


def utcnow() -> datetime:
    """The one clock of the store: timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on every backend.

    SQLite has no time zone type and SQLAlchemy drops ``tzinfo`` there, so values
    are normalised to UTC before storing (string order == time order) and tagged
    UTC again when read. PostgreSQL's ``timestamptz`` is converted back to UTC
    whatever the server's ``TimeZone`` is. Naive datetimes are refused: their
    meaning depends on the machine.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store only accepts timezone-aware values")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class ChatSession(Base):
    __tablename__ = "chat_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_active_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Turn(Base):
    """One question and what was answered; ``id`` is the answer_id shown to the citizen."""

    __tablename__ = "turns"
    __table_args__ = (
        CheckConstraint("status IN ('answered', 'refused')", name="ck_turns_status"),
        CheckConstraint("source IN ('faq', 'policy', 'none')", name="ck_turns_source"),
        Index("ix_turns_session_created", "session_id", "created_at"),
        Index("ix_turns_status_normalized", "status", "normalized"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    answer_text: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    latency_ms: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(32))


class Feedback(Base):
    """好差评: several per answer are kept (history); the one with the highest id counts."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_feedback_rating"),
        Index("ix_feedback_answer", "answer_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("turns.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HandoffTicket(Base):
    """转人工: the transcript is a snapshot, so the officer sees what the citizen saw.

    open → claimed (one officer) → answered (a reply was sent) → closed."""

    __tablename__ = "handoff_tickets"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'claimed', 'answered', 'closed')",
                        name="ck_handoff_status"),
        Index("ix_handoff_session", "session_id"),
        Index("ix_handoff_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TicketReply(Base):
    """An officer's answer to a 转人工 ticket; the citizen sees it by the ticket id."""

    __tablename__ = "ticket_replies"
    __table_args__ = (Index("ix_ticket_replies_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("handoff_tickets.id", ondelete="CASCADE"))
    officer: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Followup(Base):
    """差评 回访: one per answer rated 1-2, due 15 working days after the rating."""

    __tablename__ = "followups"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="ck_followups_status"),
        Index("ix_followups_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("turns.id", ondelete="CASCADE"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    contacted: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    outcome: Mapped[str] = mapped_column(Text)
    fixed: Mapped[str] = mapped_column(Text)
    officer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiKey(Base):
    """A platform's key (Dify's external knowledge base, an OpenAI client): a SHA-256 of
    it only, apart from officers' tokens, so a key grants the public answers and nothing
    of the desk."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Officer(Base):
    """An officer of the 问答库; only a SHA-256 of the bearer token is kept."""

    __tablename__ = "officers"
    __table_args__ = (
        CheckConstraint("role IN ('editor', 'reviewer', 'admin')", name="ck_officers_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), server_default="reviewer")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class FaqEntry(Base):
    """A 问答库 entry; ``version`` increases on every change (optimistic locking)."""

    __tablename__ = "faq_entries"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'in_review', 'published', 'retired', 'rejected')",
                        name="ck_faq_status"),
        Index("ix_faq_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    paraphrases: Mapped[list[str]] = mapped_column(JSON)
    answer_text: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    stale: Mapped[bool] = mapped_column(Boolean)
    stale_reason: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FaqAudit(Base):
    """Who changed which entry, when, and what (field -> [old, new])."""

    __tablename__ = "faq_audit"
    __table_args__ = (Index("ix_faq_audit_entry", "entry_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("faq_entries.id", ondelete="CASCADE"))
    officer: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), server_default="")
    action: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class FaqKey(Base):
    """One question key (question or paraphrase, normalised) of a 问答库 entry: what a new
    wording is checked against for duplicates, by index, not by normalising every wording
    of the base on each create (seconds on a base of 15,000 entries)."""

    __tablename__ = "faq_keys"
    __table_args__ = (Index("ix_faq_keys_key", "key"),)

    entry_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("faq_entries.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)


class RateHit(Base):
    """One fixed rate-limit window of one client (limits' key), shared by every worker
    and replica: how many requests it has made and when the window ends (epoch seconds)."""

    __tablename__ = "rate_hits"
    __table_args__ = (Index("ix_rate_hits_expires", "expires_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)


class FaqVector(Base):
    """The query-side embedding of one 问答库 wording, computed once for every worker and
    replica. ``key``: sha256 of the encoder and the exact text it encoded, so a vector is
    never used for another model or another expansion of the wording."""

    __tablename__ = "faq_vectors"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class Job(Base):
    """A background job shared by all processes (e.g. encoding the 问答库's wordings): who
    holds it until when (a lease another process takes over once it ends), and progress."""

    __tablename__ = "jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # pending | running | done | failed
    holder: Mapped[str] = mapped_column(String(64))
    lease_until: Mapped[float] = mapped_column(Float)
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
