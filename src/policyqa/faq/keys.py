"""The 问答库's question-key index (table ``faq_keys``): one row per wording of an entry.

Two active entries may not share a wording (after normalisation: question_key). Checking a
new or edited entry against the index costs its own wordings, not the size of the base.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from policyqa.faq.model import INACTIVE, question_key
from policyqa.store.engine import in_batches
from policyqa.store.models import FaqEntry, FaqKey


def keys_of(question: str, paraphrases: Sequence[str]) -> set[str]:
    """The keys of an entry's wordings: its question and each paraphrase."""
    return {question_key(question), *map(question_key, paraphrases)}


def active_keys(s: Session, exclude: str | None = None) -> set[str]:
    """Every key of the entries not retired or rejected (other than ``exclude``)."""
    q = (select(FaqKey.key).join(FaqEntry, FaqEntry.id == FaqKey.entry_id)
         .where(FaqEntry.status.notin_(INACTIVE)))
    if exclude is not None:
        q = q.where(FaqKey.entry_id != exclude)
    return set(s.scalars(q))


def taken(s: Session, keys: set[str], exclude: str | None = None) -> set[str]:
    """Which of ``keys`` an active entry (other than ``exclude``) already has."""
    out = set[str]()
    for part in in_batches(sorted(keys)):
        q = (select(FaqKey.key).join(FaqEntry, FaqEntry.id == FaqKey.entry_id)
             .where(FaqKey.key.in_(part), FaqEntry.status.notin_(INACTIVE)))
        if exclude is not None:
            q = q.where(FaqKey.entry_id != exclude)
        out.update(s.scalars(q))
    return out


def write_keys(s: Session, entry_id: str, keys: set[str], *, replace: bool = False) -> None:
    """Record an entry's keys (``replace``: drop its old ones first, after an edit)."""
    if replace:
        s.execute(delete(FaqKey).where(FaqKey.entry_id == entry_id))
    s.add_all(FaqKey(entry_id=entry_id, key=k) for k in sorted(keys))
