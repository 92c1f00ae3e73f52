"""The conversation record: what was asked, what was answered, what citizens thought of it.

One :class:`Store` per process, shared by all threads: every method opens its own
short transaction and returns plain dicts/strings (never ORM objects), so callers
hold no database state between calls and a web worker never keeps a lock while
computing an answer.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from policyqa.errors import NotFound, PolicyQAError
from policyqa.privacy import mask_pii
from policyqa.settings import Settings
from policyqa.store.engine import SQLITE_BEGIN, default_database_url, make_engine
from policyqa.store.migrations import migrate
from policyqa.store.models import (
    SOURCES,
    STATUSES,
    TICKET_WAITING,
    ChatSession,
    Feedback,
    Followup,
    HandoffTicket,
    Turn,
    utcnow,
)
from policyqa.workdays import WorkCalendar, beijing_date

BAD_RATING = 2  # 差评: a latest rating of 1 or 2


class InvalidRating(PolicyQAError):
    """好差评 uses a five-point scale: 1 非常不满意 … 5 非常满意."""

    http_status = 422


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def _turn_dict(t: Turn) -> dict[str, Any]:
    return {"answer_id": t.id, "question": t.question, "answer_text": t.answer_text,
            "status": t.status, "source": t.source, "citations": t.citations,
            "created_at": _iso(t.created_at)}


class Store:
    """Repository over a SQLAlchemy engine; thread-safe, one instance per process."""

    def __init__(self, engine: Engine, calendar: WorkCalendar | None = None,
                 followup_days: int = 15) -> None:
        self.engine = engine
        # 差评 回访: due this many working days after the rating, on this calendar
        self.calendar = calendar or WorkCalendar()
        self.followup_days = followup_days
        self._read = sessionmaker(engine, expire_on_commit=False)
        # On SQLite a writer takes the write lock up front (BEGIN IMMEDIATE), so two
        # writers wait for each other instead of failing on a read->write upgrade.
        # The option is ignored by PostgreSQL.
        self._write = sessionmaker(engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}),
                                   expire_on_commit=False)

    @classmethod
    def open(cls, target: Settings | str) -> Store:
        """Connect and migrate. ``target``: settings (``database_url`` or the SQLite
        file in ``data_dir``), or a SQLAlchemy URL."""
        if isinstance(target, Settings):
            url = target.database_url or default_database_url(target.data_dir)
        else:
            url = target
        engine = make_engine(url)
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        if isinstance(target, Settings):
            return cls(engine, WorkCalendar(target.holidays), target.followup_working_days)
        return cls(engine)

    def close(self) -> None:
        """Close pooled connections at shutdown (a later call would simply reconnect)."""
        self.engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A short read transaction (other repositories on this store use it too)."""
        with self._read.begin() as s:
            yield s

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A short write transaction; on SQLite it holds the write lock from the start."""
        with self._write.begin() as s:
            yield s


    @staticmethod
    def _session(s: Session, session_id: str) -> ChatSession:
        sess = s.get(ChatSession, session_id)
        if sess is None:
            raise NotFound(f"会话不存在：{session_id}")
        return sess

    # ---- sessions and turns -----------------------------------------------------------

    @staticmethod
    def new_session_id() -> str:
        return uuid.uuid4().hex

    def new_session(self, channel: str) -> str:
        sid = self.new_session_id()
        now = utcnow()
        with self.writing() as s:
            s.add(ChatSession(id=sid, channel=channel, created_at=now, last_active_at=now))
        return sid

    def session_exists(self, session_id: str) -> bool:
        with self.reading() as s:
            return s.get(ChatSession, session_id) is not None

    def touch_session(self, session_id: str) -> None:
        """Mark the session active now; NotFound if it does not exist."""
        with self.writing() as s:
            res = s.execute(update(ChatSession).where(ChatSession.id == session_id)
                            .values(last_active_at=utcnow()))
            if getattr(res, "rowcount", 0) == 0:
                raise NotFound(f"会话不存在：{session_id}")

    def add_turn(self, session_id: str, question: str, normalized: str, status: str,
                 source: str, answer_text: str, citations: Sequence[Mapping[str, Any]] = (),
                 reason: str = "", latency_ms: float = 0.0, channel: str | None = None,
                 *, create: bool = False) -> str:
        """Record one question and its answer; returns the new answer_id.

        ``channel`` defaults to the session's. Also marks the session active.
        ``create``: the session is new (id from :meth:`new_session_id`) and is
        inserted in the same transaction, so a first question costs one write.
        The question is stored masked (:func:`~policyqa.privacy.mask_pii`): ID, phone and
        card numbers, emails and introduced names never reach the database.
        Unknown status/source is a programming error (ValueError), not the citizen's.
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        answer_id = uuid.uuid4().hex
        now = utcnow()
        turn = {"id": answer_id, "session_id": session_id, "question": mask_pii(question),
                "normalized": mask_pii(normalized), "status": status, "source": source,
                "answer_text": answer_text, "citations": [dict(c) for c in citations],
                "reason": reason or "", "latency_ms": float(latency_ms), "created_at": now}
        # Core statements, not ORM objects: this runs on every chat turn and the
        # unit-of-work bookkeeping was most of its cost.
        with self.writing() as s:
            if create:
                s.execute(insert(ChatSession), {"id": session_id, "channel": channel or "web",
                                                "created_at": now, "last_active_at": now})
                turn["channel"] = channel or "web"
            else:
                own = s.execute(update(ChatSession).where(ChatSession.id == session_id)
                                .values(last_active_at=now).returning(ChatSession.channel)
                                ).scalar_one_or_none()
                if own is None:
                    raise NotFound(f"会话不存在：{session_id}")
                turn["channel"] = channel or own
            s.execute(insert(Turn), turn)  # parameters apart: one cached statement
        return answer_id

    def _transcript(self, s: Session, session_id: str, limit: int) -> list[dict[str, Any]]:
        rows = s.scalars(select(Turn).where(Turn.session_id == session_id)
                         .order_by(Turn.created_at.desc(), Turn.id.desc())
                         .limit(max(0, limit))).all()
        return [_turn_dict(t) for t in reversed(rows)]

    def transcript(self, session_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The last ``limit`` turns, oldest first; NotFound for an unknown session."""
        with self.reading() as s:
            self._session(s, session_id)
            return self._transcript(s, session_id, limit)

    def last_answered(self, session_id: str) -> dict[str, Any] | None:
        """The session's latest answered turn (the context of a follow-up), or None;
        NotFound for an unknown session. One read instead of a whole transcript."""
        with self.reading() as s:
            self._session(s, session_id)
            row = s.scalars(select(Turn).where(Turn.session_id == session_id,
                                               Turn.status == "answered")
                            .order_by(Turn.created_at.desc(), Turn.id.desc()).limit(1)).first()
            return _turn_dict(row) if row is not None else None

    def recent_questions(self, session_id: str, n: int) -> list[str]:
        """The last ``n`` questions, oldest first ([] for an unknown session: context only)."""
        with self.reading() as s:
            rows = s.scalars(select(Turn.question).where(Turn.session_id == session_id)
                             .order_by(Turn.created_at.desc(), Turn.id.desc())
                             .limit(max(0, n))).all()
        return list(reversed(rows))

    # ---- 好差评 and 转人工 ------------------------------------------------------------

    def add_feedback(self, answer_id: str, rating: int, comment: str | None = None
                     ) -> dict[str, Any]:
        """Record a rating; an answer may be rated again, the latest rating counts.
        The comment is stored masked, like questions. A 差评 (1-2) opens the answer's
        回访 item in the same transaction (or reopens a closed one, with a new due
        date); a later rating does not close it: an officer does."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidRating(f"评分须为1到5的整数，收到：{rating!r}")
        with self.writing() as s:
            if s.get(Turn, answer_id) is None:
                raise NotFound(f"回答不存在：{answer_id}")
            fb = Feedback(answer_id=answer_id, rating=rating, comment=mask_pii(comment or ""),
                          created_at=utcnow())
            s.add(fb)
            s.flush()
            if rating <= BAD_RATING:
                self._open_followup(s, answer_id, rating, fb.comment, fb.created_at)
            return {"id": fb.id, "answer_id": answer_id, "rating": rating,
                    "comment": fb.comment, "is_bad": rating <= BAD_RATING,
                    "created_at": _iso(fb.created_at)}

    def _open_followup(self, s: Session, answer_id: str, rating: int, comment: str,
                       at: datetime) -> None:
        due = self.calendar.add(beijing_date(at), self.followup_days)
        row = s.scalars(select(Followup).where(Followup.answer_id == answer_id)).first()
        if row is None:
            s.add(Followup(answer_id=answer_id, rating=rating, comment=comment, status="open",
                           due_on=due, contacted=None, outcome="", fixed="", officer=None,
                           created_at=at, closed_at=None))
        elif row.status == "open":
            row.rating, row.comment = rating, comment or row.comment
        else:
            row.rating, row.comment, row.status, row.due_on = rating, comment, "open", due
            row.created_at, row.closed_at = at, None

    def create_handoff(self, session_id: str, reason: str | None = None) -> dict[str, Any]:
        """Open a 转人工 ticket carrying a snapshot of the conversation so far (its
        questions already masked); the reason is stored masked too."""
        reason = mask_pii(reason or "")
        for attempt in range(3):  # 64 random bits: unguessable, so the id is the citizen's
            now = utcnow()       # key to the ticket's replies; a collision is retried
            ticket_id = f"HT-{now:%Y%m%d}-{secrets.token_hex(8)}"
            try:
                with self.writing() as s:
                    self._session(s, session_id)
                    turns = self._transcript(s, session_id, 50)
                    s.add(HandoffTicket(id=ticket_id, session_id=session_id,
                                        reason=reason or "", status="open",
                                        transcript=turns, created_at=now))
            except IntegrityError:
                if attempt == 2:
                    raise
                continue
            return {"ticket_id": ticket_id, "session_id": session_id, "reason": reason or "",
                    "status": "open", "created_at": _iso(now), "transcript": turns}
        raise AssertionError("unreachable")

    # ---- for officers ----------------------------------------------------------------

    def bad_ratings(self, limit: int = 50) -> list[dict[str, Any]]:
        """差评 for officers: answers whose latest rating is 1–2, newest first."""
        latest = (select(func.max(Feedback.id).label("fid"))
                  .group_by(Feedback.answer_id).subquery())
        q = (select(Feedback, Turn).join(latest, Feedback.id == latest.c.fid)
             .join(Turn, Turn.id == Feedback.answer_id)
             .where(Feedback.rating <= BAD_RATING)
             .order_by(Feedback.id.desc()).limit(max(0, limit)))
        with self.reading() as s:
            return [{"answer_id": t.id, "session_id": t.session_id, "rating": fb.rating,
                     "comment": fb.comment, "question": t.question,
                     "answer_text": t.answer_text, "status": t.status,
                     "citations": t.citations, "rated_at": _iso(fb.created_at),
                     "asked_at": _iso(t.created_at)} for fb, t in s.execute(q)]

    def stats(self) -> dict[str, int]:
        """Counts for a dashboard or health page (ratings counted by latest per answer)."""
        latest = (select(func.max(Feedback.id).label("fid"))
                  .group_by(Feedback.answer_id).subquery())
        with self.reading() as s:
            def count(q: Any) -> int:
                return int(s.execute(q).scalar_one())
            return {
                "sessions": count(select(func.count()).select_from(ChatSession)),
                "turns": count(select(func.count()).select_from(Turn)),
                "answered": count(select(func.count()).select_from(Turn)
                                  .where(Turn.status == "answered")),
                "refused": count(select(func.count()).select_from(Turn)
                                 .where(Turn.status == "refused")),
                "rated_answers": count(select(func.count()).select_from(latest)),
                "bad_ratings": count(select(func.count()).select_from(Feedback)
                                     .join(latest, Feedback.id == latest.c.fid)
                                     .where(Feedback.rating <= BAD_RATING)),
                "handoffs": count(select(func.count()).select_from(HandoffTicket)),
                "handoffs_open": count(select(func.count()).select_from(HandoffTicket)
                                       .where(HandoffTicket.status.in_(TICKET_WAITING))),
            }
