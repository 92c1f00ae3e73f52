"""The officer desk: roles, ticket workflow and replies, 差评 follow-ups.

Existing officers become reviewers: they could draft, approve and publish before, and
keep doing all of it except publishing what they wrote themselves (four eyes); admin
powers (officers, documents) are new and given explicitly. The legacy
``schema_version`` table is dropped: Alembic's ``alembic_version`` replaces it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from policyqa.store.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officers") as t:
        t.add_column(sa.Column("role", sa.String(16), nullable=False,
                               server_default="reviewer"))
        t.create_check_constraint("ck_officers_role", "role IN ('editor', 'reviewer', 'admin')")
    with op.batch_alter_table("faq_audit") as t:
        t.add_column(sa.Column("role", sa.String(16), nullable=False, server_default=""))
    with op.batch_alter_table("handoff_tickets") as t:
        t.drop_constraint("ck_handoff_status", type_="check")
        t.create_check_constraint(
            "ck_handoff_status", "status IN ('open', 'claimed', 'answered', 'closed')")
        t.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        t.add_column(sa.Column("claimed_at", UTCDateTime(), nullable=True))
        t.add_column(sa.Column("first_reply_at", UTCDateTime(), nullable=True))
        t.add_column(sa.Column("closed_at", UTCDateTime(), nullable=True))
        t.create_index("ix_handoff_status_created", ["status", "created_at"])
    op.create_table(
        "ticket_replies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(32),
                  sa.ForeignKey("handoff_tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Index("ix_ticket_replies_ticket", "ticket_id", "id"))
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("answer_id", sa.String(32),
                  sa.ForeignKey("turns.id", ondelete="CASCADE"), nullable=False, unique=True),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("contacted", sa.Boolean, nullable=True),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("fixed", sa.Text, nullable=False),
        sa.Column("officer", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_followups_status"),
        sa.Index("ix_followups_status_due", "status", "due_on"))
    op.execute("DROP TABLE IF EXISTS schema_version")


def downgrade() -> None:
    raise NotImplementedError("policyqa migrates forward only")
