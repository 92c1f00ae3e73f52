"""Endpoints of the public channel: 智能问答, 猜你想问, 热点问题, 好差评, 转人工, 查看原文."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool

from policyqa import messages as msg
from policyqa.api import texts
from policyqa.api.deps import AppState, Limited, State, UTF8JSONResponse
from policyqa.api.schemas import (
    ArticleOut,
    ArticleRef,
    ChatRequest,
    ChatResponse,
    DatedEvent,
    ErrorOut,
    FeedbackRequest,
    FeedbackResponse,
    HandoffRequest,
    HandoffResponse,
    HotQuestions,
    ItemOut,
    ParagraphOut,
    PolicyOut,
    error_responses,
)
from policyqa.errors import NotFound
from policyqa.faq.model import find_policy

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": ErrorOut}})
def readyz(state: State) -> Response:
    """200 when answers are served: ``status`` ok, or degraded with the corpus files
    that stop a new build (the last good index is served meanwhile); 503 before."""
    if state.chat is None:
        detail = texts.UNAVAILABLE if state.error else texts.LOADING
        return UTF8JSONResponse({"ready": False, "detail": detail}, status_code=503)
    manifest = state.chat.qa.index.manifest
    return UTF8JSONResponse({"ready": True, **state.status(), "encoder": manifest["encoder"],
                             "counts": manifest["counts"], "built_at": manifest["built_at"]})


@router.post("/api/v1/chat", response_model=ChatResponse, dependencies=[Limited],
             responses=error_responses(404, 413, 422, 429, 503))
async def chat(body: ChatRequest, state: State) -> Any:
    svc = state.service()
    turn = await run_in_threadpool(svc.chat, body.question, body.session_id, body.channel)
    return ChatResponse.model_validate(turn, from_attributes=True)


@router.get("/api/v1/hot-questions", response_model=HotQuestions,
            responses=error_responses(422, 503))
async def hot_questions(state: State, limit: Annotated[int, Query(ge=1, le=20)] = 8
                        ) -> HotQuestions:
    svc = state.service()
    qs = await run_in_threadpool(svc.hot_questions, limit)
    return HotQuestions(questions=qs)


@router.post("/api/v1/feedback", response_model=FeedbackResponse, dependencies=[Limited],
             responses=error_responses(404, 413, 422, 429, 503))
async def feedback(body: FeedbackRequest, state: State) -> FeedbackResponse:
    svc = state.service()
    await run_in_threadpool(svc.store.add_feedback, body.answer_id, body.rating, body.comment)
    return FeedbackResponse(answer_id=body.answer_id, rating=body.rating, is_bad=body.rating <= 2)


@router.post("/api/v1/handoff", response_model=HandoffResponse, dependencies=[Limited],
             responses=error_responses(404, 413, 422, 429, 503))
async def handoff(body: HandoffRequest, state: State) -> HandoffResponse:
    svc = state.service()
    t = await run_in_threadpool(svc.store.create_handoff, body.session_id, body.reason)
    text = msg.HANDOFF_TICKET.format(ticket=t["ticket_id"])
    return HandoffResponse(ticket_id=t["ticket_id"], session_id=body.session_id,
                           hotline=msg.HOTLINE, text=text, created_at=t["created_at"],
                           transcript=t["transcript"])


def _policy(state: AppState, doc: str) -> Any:
    if p := find_policy(state.service().qa.index.policies, doc):
        return p
    raise NotFound(texts.NO_DOCUMENT.format(doc=doc))


@router.get("/api/v1/policies", response_model=list[PolicyOut],
            responses=error_responses(503))
def policies(state: State) -> list[PolicyOut]:
    return [PolicyOut(doc_id=p.doc_id, doc_no=p.doc_no, title=p.title,
                      short_title=p.short_title, level=p.level, jurisdiction=p.jurisdiction,
                      status=p.status, superseded_by=p.superseded_by, date=p.date,
                      dates=[DatedEvent(kind=k, date=d) for k, d in p.dates],
                      issuers=list(p.issuers), url=p.source_url,
                      articles=[ArticleRef(article=a.ordinal, label=a.cite_label,
                                           heading=a.heading, chapter=a.chapter)
                                for a in p.articles])
            for p in state.service().qa.index.policies.values()]


@router.get("/api/v1/policies/{doc}/articles/{n}", response_model=ArticleOut,
            responses=error_responses(404, 422, 503))
def article(doc: Annotated[str, Path(max_length=100)], n: Annotated[int, Path(ge=0, le=10_000)],
            state: State) -> ArticleOut:
    p = _policy(state, doc)
    try:
        a = p.article(n)
    except KeyError:
        raise NotFound(texts.NO_ARTICLE.format(title=p.title, n=n)) from None
    return ArticleOut(doc_id=p.doc_id, doc_no=p.doc_no, doc_title=p.title, article=a.ordinal,
                      label=a.cite_label, heading=a.heading, chapter=a.chapter, text=a.text,
                      sentences=[s.text for s in a.sentences], paragraphs=_paragraphs(a),
                      url=p.source_url)


def _paragraphs(a: Any) -> list[ParagraphOut]:
    """The article's 款, each with its 项, in order."""
    out: list[ParagraphOut] = []
    for paragraph, item, text in a.parts():
        if not out or out[-1].paragraph != paragraph:
            out.append(ParagraphOut(paragraph=paragraph, text="", items=[]))
        if item:
            out[-1].items.append(ItemOut(item=item, text=text))
        else:
            out[-1].text += text
    return out
