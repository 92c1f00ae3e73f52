"""差评 回访: every answer rated 1-2 is followed up and fixed within 15 working days.

The store opens the item when the rating arrives (same transaction); here officers
list them (overdue first, then by due date), record the follow-up (contacted or
not, the outcome, what was fixed: a 问答库 entry or a document) and close them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from policyqa.errors import Conflict, NotFound
from policyqa.roles import Actor
from policyqa.store import Store
from policyqa.store.models import Followup, Turn, utcnow
from policyqa.workdays import beijing_date

FOLLOWUP_STATUSES = ("open", "closed")
MAX_TEXT = 2000


def _dict(f: Followup, t: Turn | None, today: date) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f.id, "answer_id": f.answer_id, "rating": f.rating, "comment": f.comment,
        "status": f.status, "due_on": f.due_on.isoformat(),
        "overdue": f.status == "open" and f.due_on < today,
        "contacted": f.contacted, "outcome": f.outcome, "fixed": f.fixed,
        "officer": f.officer, "created_at": f.created_at.isoformat(),
        "closed_at": f.closed_at.isoformat() if f.closed_at else None}
    if t is not None:
        out.update(question=t.question, answer_text=t.answer_text, citations=t.citations,
                   answer_status=t.status)
    return out


class FollowupRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self, status: str | None = "open", limit: int = 50, offset: int = 0
             ) -> dict[str, Any]:
        """Overdue first, then the nearest due date."""
        if status is not None and status not in FOLLOWUP_STATUSES:
            raise NotFound(f"未知的回访状态：{status}")
        today = beijing_date()
        q = select(Followup, Turn).join(Turn, Turn.id == Followup.answer_id)
        if status:
            q = q.where(Followup.status == status)
        late = case((Followup.status == "open", case((Followup.due_on < today, 0), else_=1)),
                    else_=2)
        with self.store.reading() as s:
            total = int(s.execute(select(func.count()).select_from(q.subquery())).scalar_one())
            rows = s.execute(q.order_by(late, Followup.due_on, Followup.id)
                             .limit(limit).offset(offset)).all()
            return {"total": total, "items": [_dict(f, t, today) for f, t in rows]}

    def get(self, fid: int) -> dict[str, Any]:
        with self.store.reading() as s:
            f = self._row(s, fid)
            return _dict(f, s.get(Turn, f.answer_id), beijing_date())

    def record(self, fid: int, actor: Actor, *, contacted: bool | None = None,
               outcome: str | None = None, fixed: str | None = None, close: bool = False
               ) -> dict[str, Any]:
        """Write down what was done; ``close`` ends the item (a closed one is read-only)."""
        now = utcnow()
        with self.store.writing() as s:
            f = self._row(s, fid)
            if f.status == "closed":
                raise Conflict(f"回访{fid}已关闭")
            if contacted is not None:
                f.contacted = contacted
            if outcome is not None:
                f.outcome = outcome
            if fixed is not None:
                f.fixed = fixed
            f.officer = actor.name
            if close:
                f.status, f.closed_at = "closed", now
            s.flush()
            return _dict(f, s.get(Turn, f.answer_id), beijing_date(now))

    def stats(self) -> dict[str, Any]:
        """差评 count, share closed by their due date (of those closed or already due), overdue."""
        today = beijing_date()
        with self.store.reading() as s:
            rows = s.execute(select(Followup.status, Followup.due_on, Followup.closed_at)).all()
        in_time = sum(r.status == "closed" and r.closed_at is not None
                      and beijing_date(r.closed_at) <= r.due_on for r in rows)
        judged = sum(r.status == "closed" or r.due_on < today for r in rows)
        return {"bad_ratings": len(rows),
                "open": sum(r.status == "open" for r in rows),
                "overdue": sum(r.status == "open" and r.due_on < today for r in rows),
                "followed_up_in_time": round(in_time / judged, 3) if judged else None}

    @staticmethod
    def _row(s: Session, fid: int) -> Followup:
        f = s.get(Followup, fid)
        if f is None:
            raise NotFound(f"回访不存在：{fid}")
        return f
