"""officers, faq_entries, faq_audit (frozen: released steps are never edited).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from policyqa.store.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


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


def upgrade() -> None:
    _v2(op.get_bind())


def downgrade() -> None:
    raise NotImplementedError("policyqa migrates forward only")
