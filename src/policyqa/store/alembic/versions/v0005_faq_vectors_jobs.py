"""The 问答库's wording vectors, encoded once for all processes by a background job, and
the jobs table that job reports its lease and progress in.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from policyqa.store.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_vectors",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("vector", sa.LargeBinary, nullable=False))
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("lease_until", sa.Float, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False))


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("faq_vectors")
