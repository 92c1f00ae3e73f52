"""Request and response models of the public API (/api/v1)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Channel = Literal["web", "app", "wechat", "widget"]


class ChatRequest(BaseModel):
    question: str
    session_id: str | None = None
    channel: Channel | None = None


class CitationOut(BaseModel):
    doc_no: str
    doc_title: str
    article: int
    label: str
    heading: str
    quote: str
    url: str
    citation: str = Field(description="《标题》（文号）第十条「heading」")


class Handoff(BaseModel):
    suggested: bool
    hotline: str
    text: str


class ChatResponse(BaseModel):
    answer_id: str
    session_id: str
    status: Literal["answered", "refused"]
    source: Literal["faq", "policy", "none"]
    answer_text: str
    citations: list[CitationOut]
    related_questions: list[str]
    handoff: Handoff
    latency_ms: float


class HotQuestions(BaseModel):
    questions: list[str]


class FeedbackRequest(BaseModel):
    answer_id: str
    rating: int = Field(ge=1, le=5, description="好差评: 5 非常满意 … 1 非常不满意")
    comment: str | None = Field(default=None, max_length=1000)


class FeedbackResponse(BaseModel):
    answer_id: str
    rating: int
    is_bad: bool = Field(description="ratings 1–2 count as 差评")


class HandoffRequest(BaseModel):
    session_id: str
    reason: str | None = Field(default=None, max_length=500)


class TranscriptTurn(BaseModel):
    question: str
    answer_text: str
    status: str
    created_at: str


class HandoffResponse(BaseModel):
    ticket_id: str
    session_id: str
    hotline: str
    text: str
    created_at: str
    transcript: list[TranscriptTurn]


class ArticleRef(BaseModel):
    article: int
    label: str
    heading: str


class PolicyOut(BaseModel):
    doc_id: str
    doc_no: str
    title: str
    date: str
    issuers: list[str]
    url: str
    articles: list[ArticleRef]


class ArticleOut(BaseModel):
    doc_id: str
    doc_no: str
    doc_title: str
    article: int
    label: str
    heading: str
    text: str
    sentences: list[str]
    url: str
