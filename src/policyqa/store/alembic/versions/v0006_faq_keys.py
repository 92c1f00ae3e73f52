"""The 问答库's question keys in a table of their own, indexed: a create checks its
wordings for duplicates by index instead of normalising every wording of the base.
Existing entries get their keys here.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from policyqa.faq.model import question_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    keys = op.create_table(
        "faq_keys",
        sa.Column("entry_id", sa.String(32),
                  sa.ForeignKey("faq_entries.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Index("ix_faq_keys_key", "key"))
    entries = sa.table("faq_entries", sa.column("id", sa.String), sa.column("question", sa.Text),
                       sa.column("paraphrases", sa.JSON))
    conn = op.get_bind()
    rows = []
    for eid, question, paras in conn.execute(sa.select(entries.c.id, entries.c.question,
                                                       entries.c.paraphrases)):
        rows += [{"entry_id": eid, "key": k}
                 for k in dict.fromkeys(map(question_key, [question, *(paras or [])]))]
    for i in range(0, len(rows), 1000):
        op.bulk_insert(keys, rows[i:i + 1000])


def downgrade() -> None:
    op.drop_table("faq_keys")
