"""chat_sessions, turns, feedback, handoff_tickets (frozen: released steps are never edited).

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from policyqa.store.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


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


def upgrade() -> None:
    _v1(op.get_bind())


def downgrade() -> None:
    raise NotImplementedError("policyqa migrates forward only")
