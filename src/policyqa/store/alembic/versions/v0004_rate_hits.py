"""Rate-limit windows in the database, so every worker and replica counts one budget
per citizen (they were counted in each process's memory).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_hits",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Index("ix_rate_hits_expires", "expires_at"))


def downgrade() -> None:
    op.drop_table("rate_hits")
