"""What officers read from the conversation record: their to-do list.

Questions per day, refusal rate, 差评, the most asked unanswered questions, and
the raw turns the FAQ drafter clusters. Read-only queries over :class:`Store`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from policyqa.store.models import Feedback, Turn, utcnow
from policyqa.store.repo import BAD_RATING, Store
from policyqa.workdays import beijing_date


def _since(days: int) -> datetime:
    return utcnow() - timedelta(days=max(1, days))


def questions_per_day(store: Store, days: int = 30) -> list[dict[str, Any]]:
    """Per UTC day: questions, answered, refused (days without questions are omitted)."""
    out: dict[str, dict[str, Any]] = {}
    with store.reading() as s:
        rows = s.execute(select(Turn.created_at, Turn.status)
                         .where(Turn.created_at >= _since(days)))
        for at, status in rows:
            day = at.date().isoformat()
            d = out.setdefault(day, {"day": day, "questions": 0, "answered": 0, "refused": 0})
            d["questions"] += 1
            d[status] += 1
    return [out[k] for k in sorted(out)]


def daily(store: Store, days: int = 30, today: date | None = None) -> list[dict[str, Any]]:
    """Every Beijing day of the last ``days`` (today included, zeros too: a time axis has
    no gaps), oldest first: questions, answered, refused, and the answers rated that day
    (the latest rating of each answer counts, on the day it was given) and of those 差评."""
    last = today or beijing_date()
    first = last - timedelta(days=max(1, days) - 1)
    counts: dict[date, dict[str, int]] = {
        first + timedelta(days=i): {"questions": 0, "answered": 0, "refused": 0, "rated": 0,
                                    "bad": 0} for i in range((last - first).days + 1)}
    since = _since(days + 1)
    latest = (select(func.max(Feedback.id).label("fid")).group_by(Feedback.answer_id)
              .subquery())
    with store.reading() as s:
        for at, status in s.execute(select(Turn.created_at, Turn.status)
                                    .where(Turn.created_at >= since)):
            if d := counts.get(beijing_date(at)):
                d["questions"] += 1
                d[status] += 1
        for at, rating in s.execute(select(Feedback.created_at, Feedback.rating)
                                    .join(latest, Feedback.id == latest.c.fid)
                                    .where(Feedback.created_at >= since)):
            if d := counts.get(beijing_date(at)):
                d["rated"] += 1
                d["bad"] += int(rating <= BAD_RATING)
    return [{"day": k.isoformat(), **counts[k]} for k in sorted(counts)]


def top_unanswered(store: Store, limit: int = 20, days: int = 30) -> list[dict[str, Any]]:
    """Refused questions, most asked first (by normalised text), with an example wording."""
    n = func.count(Turn.id).label("n")
    q = (select(Turn.normalized, n, func.min(Turn.question), func.max(Turn.created_at))
         .where(Turn.status == "refused", Turn.created_at >= _since(days))
         .group_by(Turn.normalized).order_by(n.desc(), Turn.normalized)
         .limit(max(0, limit)))
    with store.reading() as s:
        return [{"question": ex, "normalized": norm, "count": int(cnt),
                 "last_asked": last.isoformat() if last else None}
                for norm, cnt, ex, last in s.execute(q)]


def asked_clauses(store: Store, days: int = 30, limit: int = 20_000
                  ) -> dict[tuple[str, int], int]:
    """How often each clause was the first citation of an answer in the last ``days``
    (the latest ``limit`` answers): how often citizens asked about it, in whatever
    words. Turns recorded before citations carried ``doc_id`` are not counted."""
    q = (select(Turn.citations).where(Turn.status == "answered",
                                      Turn.created_at >= _since(days))
         .order_by(Turn.created_at.desc()).limit(max(0, limit)))
    counts: dict[tuple[str, int], int] = {}
    with store.reading() as s:
        for (cites,) in s.execute(q):
            first = cites[0] if cites else None
            if isinstance(first, dict) and first.get("doc_id"):
                key = (str(first["doc_id"]), int(first.get("article", 0)))
                counts[key] = counts.get(key, 0) + 1
    return counts


def logged_turns(store: Store, days: int = 30, limit: int = 5000
                 ) -> list[tuple[str, str, str, bool]]:
    """(question, normalized, status, rated 差评) of recent turns, for FAQ drafting."""
    latest = (select(Feedback.answer_id, func.max(Feedback.id).label("fid"))
              .group_by(Feedback.answer_id).subquery())
    bad = (select(latest.c.answer_id).join(Feedback, Feedback.id == latest.c.fid)
           .where(Feedback.rating <= BAD_RATING))
    q = (select(Turn.question, Turn.normalized, Turn.status, Turn.id.in_(bad))
         .where(Turn.created_at >= _since(days))
         .order_by(Turn.created_at.desc()).limit(max(0, limit)))
    with store.reading() as s:
        return [(str(a), str(b), str(c), bool(d)) for a, b, c, d in s.execute(q)]


def officer_stats(store: Store, days: int = 30) -> dict[str, Any]:
    totals = store.stats()
    asked = totals["turns"]
    return {
        "totals": totals,
        "refusal_rate": round(totals["refused"] / asked, 4) if asked else 0.0,
        "questions_per_day": questions_per_day(store, days),
        "daily": daily(store, days),  # Beijing days, zeros included (the charts' series)
        "bad_ratings": store.bad_ratings(limit=50),
        "top_unanswered": top_unanswered(store, limit=20, days=days),
    }
