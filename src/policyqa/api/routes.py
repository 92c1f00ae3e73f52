"""Endpoints of the public channel: 智能问答, 猜你想问, 热点问题, 好差评, 转人工, 查看原文."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from policyqa import messages as msg
from policyqa.api.app import AppState, UTF8JSONResponse
from policyqa.api.schemas import (
    ArticleOut,
    ArticleRef,
    ChatRequest,
    ChatResponse,
    FeedbackRequest,
    FeedbackResponse,
    HandoffRequest,
    HandoffResponse,
    HotQuestions,
    PolicyOut,
)
from policyqa.errors import NotFound

router = APIRouter()


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.policyqa
    return state


State = Annotated[AppState, Depends(get_state)]


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limited(request: Request, state: State) -> None:
    wait = state.limiter.check(client_key(request))
    if wait > 0:
        raise RateLimited(wait)


class RateLimited(Exception):
    def __init__(self, wait: float) -> None:
        self.wait = wait


Limited = Depends(rate_limited)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(state: State) -> Response:
    if state.chat is None:
        body = {"ready": False, "detail": state.error or "loading index"}
        return UTF8JSONResponse(body, status_code=503)
    manifest = state.chat.qa.index.manifest
    return UTF8JSONResponse({"ready": True, "encoder": manifest["encoder"],
                         "counts": manifest["counts"], "built_at": manifest["built_at"]})


@router.post("/api/v1/chat", response_model=ChatResponse, dependencies=[Limited])
async def chat(body: ChatRequest, state: State) -> Any:
    svc = state.service()
    turn = await run_in_threadpool(svc.chat, body.question, body.session_id, body.channel)
    return ChatResponse.model_validate(turn, from_attributes=True)


@router.get("/api/v1/hot-questions", response_model=HotQuestions)
async def hot_questions(state: State, limit: int = 8) -> HotQuestions:
    svc = state.service()
    qs = await run_in_threadpool(svc.hot_questions, max(1, min(limit, 20)))
    return HotQuestions(questions=qs)


@router.post("/api/v1/feedback", response_model=FeedbackResponse, dependencies=[Limited])
async def feedback(body: FeedbackRequest, state: State) -> FeedbackResponse:
    svc = state.service()
    await run_in_threadpool(svc.store.add_feedback, body.answer_id, body.rating, body.comment)
    return FeedbackResponse(answer_id=body.answer_id, rating=body.rating, is_bad=body.rating <= 2)


@router.post("/api/v1/handoff", response_model=HandoffResponse, dependencies=[Limited])
async def handoff(body: HandoffRequest, state: State) -> HandoffResponse:
    svc = state.service()
    t = await run_in_threadpool(svc.store.create_handoff, body.session_id, body.reason)
    text = msg.HANDOFF_TICKET.format(ticket=t["ticket_id"])
    return HandoffResponse(ticket_id=t["ticket_id"], session_id=body.session_id,
                           hotline=msg.HOTLINE, text=text, created_at=t["created_at"],
                           transcript=t["transcript"])


def _policy(state: AppState, doc: str) -> Any:
    for p in state.service().qa.index.policies.values():
        if doc in (p.doc_id, p.doc_no):
            return p
    raise NotFound(f"没有找到文件：{doc}")


@router.get("/api/v1/policies", response_model=list[PolicyOut])
def policies(state: State) -> list[PolicyOut]:
    return [PolicyOut(doc_id=p.doc_id, doc_no=p.doc_no, title=p.title, date=p.date,
                      issuers=list(p.issuers), url=p.source_url,
                      articles=[ArticleRef(article=a.ordinal, label=a.cite_label,
                                           heading=a.heading) for a in p.articles])
            for p in state.service().qa.index.policies.values()]


@router.get("/api/v1/policies/{doc}/articles/{n}", response_model=ArticleOut)
def article(doc: str, n: int, state: State) -> ArticleOut:
    p = _policy(state, doc)
    try:
        a = p.article(n)
    except KeyError:
        raise NotFound(f"《{p.title}》没有第{n}条") from None
    return ArticleOut(doc_id=p.doc_id, doc_no=p.doc_no, doc_title=p.title, article=a.ordinal,
                      label=a.cite_label, heading=a.heading, text=a.text,
                      sentences=[s.text for s in a.sentences], url=p.source_url)
