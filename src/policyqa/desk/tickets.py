"""转人工 tickets as officers work them: open → claimed → answered → closed.

A ticket is claimed by one officer at a time (a second claim is a 409, decided by a
conditional UPDATE, so two officers pressing at once cannot both win). Only the
claimant replies or closes; a reply moves the ticket to ``answered`` and the
citizen reads it by the ticket's unguessable id, which never shows the transcript.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from policyqa.errors import Conflict, NotFound
from policyqa.roles import Actor
from policyqa.store import Store
from policyqa.store.models import (
    TICKET_STATUSES,
    TICKET_WAITING,
    HandoffTicket,
    TicketReply,
    utcnow,
)

MAX_REPLY = 4000
# Only ids with 64 random bits are served publicly: tickets from before (HT-…-<6 hex>)
# could be guessed, so their replies stay on the officer side.
PUBLIC_ID = re.compile(r"^HT-\d{8}-[0-9a-f]{16}$")


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _summary(t: HandoffTicket, now: datetime, overdue: timedelta) -> dict[str, Any]:
    asked = [x["question"] for x in t.transcript]
    return {"ticket_id": t.id, "status": t.status, "reason": t.reason,
            "created_at": _iso(t.created_at), "claimed_by": t.claimed_by,
            "claimed_at": _iso(t.claimed_at), "first_reply_at": _iso(t.first_reply_at),
            "closed_at": _iso(t.closed_at), "last_question": asked[-1] if asked else "",
            "age_hours": round((now - t.created_at).total_seconds() / 3600, 1),
            "overdue": t.first_reply_at is None and t.status != "closed"
            and now - t.created_at > overdue}


def _reply(r: TicketReply, *, officer: bool) -> dict[str, Any]:
    out = {"body": r.body, "citations": r.citations, "created_at": _iso(r.created_at)}
    return {**out, "officer": r.officer} if officer else out


class TicketRepo:
    def __init__(self, store: Store, overdue_hours: float = 24.0) -> None:
        self.store = store
        self.overdue = timedelta(hours=overdue_hours)

    def list(self, status: str | None = None, older_than_hours: float | None = None,
             limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Oldest first: the longest-waiting citizen is served first."""
        if status is not None and status not in TICKET_STATUSES:
            raise NotFound(f"未知的工单状态：{status}")
        now = utcnow()
        q = select(HandoffTicket)
        if status:
            q = q.where(HandoffTicket.status == status)
        if older_than_hours is not None:
            q = q.where(HandoffTicket.created_at <= now - timedelta(hours=older_than_hours))
        with self.store.reading() as s:
            total = int(s.execute(select(func.count()).select_from(q.subquery())).scalar_one())
            rows = s.scalars(q.order_by(HandoffTicket.created_at, HandoffTicket.id)
                             .limit(limit).offset(offset)).all()
            return {"total": total, "items": [_summary(t, now, self.overdue) for t in rows]}

    def get(self, ticket_id: str) -> dict[str, Any]:
        """The whole ticket for an officer: transcript (with the bot's citations) and replies."""
        with self.store.reading() as s:
            t = self._row(s, ticket_id)
            out = _summary(t, utcnow(), self.overdue)
            out["transcript"] = t.transcript
            out["replies"] = [_reply(r, officer=True) for r in self._replies(s, ticket_id)]
            return out

    def public(self, ticket_id: str) -> dict[str, Any]:
        """What the citizen may see: status and replies, never the transcript."""
        if not PUBLIC_ID.match(ticket_id):
            raise NotFound(f"工单不存在：{ticket_id[:40]}")
        with self.store.reading() as s:
            t = self._row(s, ticket_id)
            return {"ticket_id": t.id, "status": t.status, "created_at": _iso(t.created_at),
                    "replies": [_reply(r, officer=False) for r in self._replies(s, ticket_id)]}

    def claim(self, ticket_id: str, actor: Actor) -> dict[str, Any]:
        now = utcnow()
        with self.store.writing() as s:
            t = self._row(s, ticket_id)
            if t.claimed_by == actor.name and t.status != "closed":
                return _summary(t, now, self.overdue)  # claiming again changes nothing
            res = s.execute(update(HandoffTicket)
                            .where(HandoffTicket.id == ticket_id, HandoffTicket.status == "open")
                            .values(status="claimed", claimed_by=actor.name, claimed_at=now)
                            .execution_options(synchronize_session=False))
            if getattr(res, "rowcount", 0) != 1:
                s.refresh(t)
                raise Conflict(self._taken(t))
            s.refresh(t)
            return _summary(t, now, self.overdue)

    def reply(self, ticket_id: str, actor: Actor, body: str,
              citations: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
        """Add a reply (citations already checked by the caller); claims an open ticket."""
        now = utcnow()
        with self.store.writing() as s:
            t = self._own(s, ticket_id, actor, now)
            s.add(TicketReply(ticket_id=t.id, officer=actor.name, body=body,
                              citations=list(citations), created_at=now))
            t.status = "answered"
            t.first_reply_at = t.first_reply_at or now
            s.flush()
            return self._full(s, t, now)

    def close(self, ticket_id: str, actor: Actor) -> dict[str, Any]:
        now = utcnow()
        with self.store.writing() as s:
            t = self._own(s, ticket_id, actor, now)
            t.status, t.closed_at = "closed", now
            s.flush()
            return self._full(s, t, now)

    def stats(self) -> dict[str, Any]:
        now = utcnow()
        with self.store.reading() as s:
            rows = s.execute(select(HandoffTicket.status, HandoffTicket.created_at,
                                    HandoffTicket.first_reply_at)).all()
        waits = [(r.first_reply_at - r.created_at).total_seconds() / 60 for r in rows
                 if r.first_reply_at is not None]
        by_status = {st: sum(r.status == st for r in rows) for st in TICKET_STATUSES}
        return {"by_status": by_status, "open": sum(by_status[st] for st in TICKET_WAITING),
                "overdue": sum(r.first_reply_at is None and r.status != "closed"
                               and now - r.created_at > self.overdue for r in rows),
                "overdue_after_hours": self.overdue.total_seconds() / 3600,
                "median_minutes_to_first_reply": round(median(waits), 1) if waits else None}

    # ---- internals -------------------------------------------------------------------

    @staticmethod
    def _row(s: Session, ticket_id: str) -> HandoffTicket:
        t = s.get(HandoffTicket, ticket_id) if ticket_id else None
        if t is None:
            raise NotFound(f"工单不存在：{ticket_id[:40]}")
        return t

    @staticmethod
    def _replies(s: Session, ticket_id: str) -> Sequence[TicketReply]:
        return s.scalars(select(TicketReply).where(TicketReply.ticket_id == ticket_id)
                         .order_by(TicketReply.id)).all()

    @staticmethod
    def _taken(t: HandoffTicket) -> str:
        if t.status == "closed":
            return f"工单{t.id}已关闭"
        return f"工单{t.id}已由{t.claimed_by}认领"

    def _own(self, s: Session, ticket_id: str, actor: Actor, now: datetime) -> HandoffTicket:
        """The ticket, claimed by ``actor`` (an open one is claimed now); 409 otherwise.
        Read with a row lock on PostgreSQL (SQLite's write transaction holds the file)."""
        t = s.scalars(select(HandoffTicket).where(HandoffTicket.id == ticket_id)
                      .with_for_update()).first()
        if t is None:
            raise NotFound(f"工单不存在：{ticket_id[:40]}")
        if t.status == "open":
            t.status, t.claimed_by, t.claimed_at = "claimed", actor.name, now
        elif t.status == "closed" or t.claimed_by != actor.name:
            raise Conflict(self._taken(t))
        return t

    def _full(self, s: Session, t: HandoffTicket, now: datetime) -> dict[str, Any]:
        out = _summary(t, now, self.overdue)
        out["replies"] = [_reply(r, officer=True) for r in self._replies(s, t.id)]
        return out
