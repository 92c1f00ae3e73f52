"""The officer desk over HTTP: 转人工 tickets, 差评 回访, 命中测试 (/api/v1/officer/...),
and the one public route of a ticket: its status and replies, by its unguessable id.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from policyqa.api.deps import (
    FaqWriter,
    FollowupWorker,
    Limited,
    Prober,
    State,
    TicketWorker,
)
from policyqa.api.officer import MAX_INT, CitationIn
from policyqa.api.schemas import MAX_ID, RequestBody, error_responses
from policyqa.desk.followups import MAX_TEXT
from policyqa.desk.tickets import MAX_REPLY
from policyqa.service import MAX_QUESTION_CHARS

router = APIRouter(prefix="/api/v1/officer", tags=["officer desk"],
                   responses=error_responses(401, 403, 404, 409, 413, 422, 503))
public = APIRouter(tags=["转人工"])
TicketId = Annotated[str, Path(max_length=MAX_ID)]
FollowupId = Annotated[int, Path(ge=1, le=MAX_INT)]


class ReplyIn(RequestBody):
    body: str = Field(min_length=1, max_length=MAX_REPLY)
    citations: list[CitationIn] = Field(default_factory=list, max_length=10)


class FollowupIn(RequestBody):
    contacted: bool | None = None
    outcome: str | None = Field(None, max_length=MAX_TEXT)
    fixed: str | None = Field(None, max_length=MAX_TEXT,
                              description="what was fixed, e.g. faq:<entry id> or doc:<doc id>")
    close: bool = False


class ProbeIn(RequestBody):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)


class ReplyOut(BaseModel):
    body: str
    citations: list[dict[str, Any]]
    created_at: str


class TicketPublic(BaseModel):
    ticket_id: str
    status: Literal["open", "claimed", "answered", "closed"]
    created_at: str
    replies: list[ReplyOut]


@public.get("/api/v1/handoff/{ticket_id}", response_model=TicketPublic,
            dependencies=[Limited], responses=error_responses(404, 422, 429, 503))
async def ticket_status(ticket_id: TicketId, state: State) -> Any:
    """The citizen's view of a 转人工 ticket: its status and the officers' replies
    (never the transcript; the id is the key, 64 random bits)."""
    return await run_in_threadpool(state.desk().tickets.public, ticket_id)


@router.get("/tickets")
async def list_tickets(state: State, officer: TicketWorker,
                       status: Literal["open", "claimed", "answered", "closed"] | None = None,
                       older_than_hours: float | None = Query(None, ge=0, le=24 * 366),
                       limit: int = Query(50, ge=1, le=500),
                       offset: int = Query(0, ge=0, le=MAX_INT)) -> dict[str, Any]:
    """Oldest first; ``older_than_hours`` keeps tickets waiting at least that long."""
    out: dict[str, Any] = await run_in_threadpool(
        state.desk().tickets.list, status, older_than_hours, limit, offset)
    return out


@router.get("/tickets/{ticket_id}")
async def get_ticket(ticket_id: TicketId, state: State, officer: TicketWorker
                     ) -> dict[str, Any]:
    out: dict[str, Any] = await run_in_threadpool(state.desk().tickets.get, ticket_id)
    return out


@router.post("/tickets/{ticket_id}/claim")
async def claim_ticket(ticket_id: TicketId, state: State, officer: TicketWorker
                       ) -> dict[str, Any]:
    out: dict[str, Any] = await run_in_threadpool(state.desk().tickets.claim, ticket_id,
                                                  officer)
    return out


@router.post("/tickets/{ticket_id}/replies", status_code=201)
async def reply_ticket(ticket_id: TicketId, body: ReplyIn, state: State,
                       officer: TicketWorker) -> dict[str, Any]:
    cites = [c.model_dump() for c in body.citations]
    out: dict[str, Any] = await run_in_threadpool(state.desk().reply, ticket_id, officer,
                                                  body.body, cites)
    return out


@router.post("/tickets/{ticket_id}/close")
async def close_ticket(ticket_id: TicketId, state: State, officer: TicketWorker
                       ) -> dict[str, Any]:
    out: dict[str, Any] = await run_in_threadpool(state.desk().tickets.close, ticket_id,
                                                  officer)
    return out


@router.post("/tickets/{ticket_id}/faq-draft", status_code=201)
async def ticket_to_draft(ticket_id: TicketId, state: State, officer: FaqWriter
                          ) -> dict[str, Any]:
    """The citizen's last question and the last reply, as a 问答库 draft (origin ticket)."""
    out: dict[str, Any] = await run_in_threadpool(state.desk().ticket_to_draft, ticket_id,
                                                  officer)
    return out


@router.get("/followups")
async def list_followups(state: State, officer: FollowupWorker,
                         status: Literal["open", "closed", "all"] = "open",
                         limit: int = Query(50, ge=1, le=500),
                         offset: int = Query(0, ge=0, le=MAX_INT)) -> dict[str, Any]:
    """差评 回访 items, overdue first, then by due date (15 working days after the rating)."""
    out: dict[str, Any] = await run_in_threadpool(
        state.desk().followups.list, None if status == "all" else status, limit, offset)
    return out


@router.get("/followups/{fid}")
async def get_followup(fid: FollowupId, state: State, officer: FollowupWorker
                       ) -> dict[str, Any]:
    out: dict[str, Any] = await run_in_threadpool(state.desk().followups.get, fid)
    return out


@router.patch("/followups/{fid}")
async def record_followup(fid: FollowupId, body: FollowupIn, state: State,
                          officer: FollowupWorker) -> dict[str, Any]:
    out: dict[str, Any] = await run_in_threadpool(
        state.desk().record_followup, fid, officer, body.model_dump(exclude_unset=True))
    return out


@router.post("/probe")
async def probe(body: ProbeIn, state: State, officer: Prober) -> dict[str, Any]:
    """命中测试: what /chat would answer and why; nothing is logged."""
    out: dict[str, Any] = await run_in_threadpool(state.desk().probe, body.question, officer)
    return out


@router.get("/desk/stats")
async def desk_stats(state: State, officer: TicketWorker) -> dict[str, Any]:
    out: dict[str, Any] = await run_in_threadpool(state.desk().stats)
    return out
