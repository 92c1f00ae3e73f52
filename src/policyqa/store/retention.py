"""Retention of the citizen record: what citizens typed is kept for a fixed number of days.

Questions, answers, ratings (and their 回访 items) and 转人工 tickets (and the replies
to them) older than ``retention_days`` are deleted (``policyqa purge``, and once at
every server start). Sessions with no turn left go too. What stays is only what
officers wrote into the 问答库 (entries and their audit).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, exists, select

from policyqa.store.models import (
    ChatSession,
    Feedback,
    Followup,
    HandoffTicket,
    TicketReply,
    Turn,
    utcnow,
)
from policyqa.store.repo import Store


def purge(store: Store, days: int) -> dict[str, int]:
    """Delete citizen data older than ``days`` (>= 1); returns the rows deleted per table."""
    if days < 1:
        raise ValueError("retention must be at least one day")
    cutoff = utcnow() - timedelta(days=days)
    old_turns = select(Turn.id).where(Turn.created_at < cutoff)
    old_tickets = select(HandoffTicket.id).where(HandoffTicket.created_at < cutoff)
    has_turn = exists().where(Turn.session_id == ChatSession.id)
    has_ticket = exists().where(HandoffTicket.session_id == ChatSession.id)
    steps = {  # in this order: what hangs on a turn or a ticket first, sessions last
        "feedback": delete(Feedback).where(Feedback.answer_id.in_(old_turns)),
        "followups": delete(Followup).where(Followup.answer_id.in_(old_turns)),
        "turns": delete(Turn).where(Turn.created_at < cutoff),
        "ticket_replies": delete(TicketReply).where(TicketReply.ticket_id.in_(old_tickets)),
        "handoffs": delete(HandoffTicket).where(HandoffTicket.created_at < cutoff),
        "sessions": delete(ChatSession).where(ChatSession.last_active_at < cutoff,
                                              ~has_turn, ~has_ticket),
    }
    with store.writing() as s:
        return {name: int(getattr(s.execute(stmt), "rowcount", 0) or 0)
                for name, stmt in steps.items()}
