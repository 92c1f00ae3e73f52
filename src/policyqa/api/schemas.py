"""Request and response models of the public API (/api/v1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from policyqa.service import MAX_QUESTION_CHARS
from policyqa.text import is_well_formed

Channel = Literal["web", "app", "wechat", "widget"]
MAX_ID = 64  # session and answer ids are 32 hex digits, ticket ids HT-YYYYMMDD-<16 hex>


def _check_text(value: Any) -> Any:
    if isinstance(value, str) and not is_well_formed(value):
        raise ValueError("含有无效字符（不成对的代理码位）")
    if isinstance(value, list | tuple):
        for v in value:
            _check_text(v)
    return value


class RequestBody(BaseModel):
    """Base of every request body: each text field is well-formed Unicode.

    JSON may carry a lone surrogate ("\\ud800") that no database or page can
    store; refused here as a 422 like any other bad field."""

    @field_validator("*", mode="after")
    @classmethod
    def _well_formed(cls, value: Any) -> Any:
        return _check_text(value)


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error body: a Chinese message to show, and for a 422 what was wrong where
    (an import's row problems have their own keys, hence the free-form items)."""

    detail: str
    errors: list[ErrorItem | dict[str, Any]] | None = None


ERROR_DESCRIPTIONS = {
    401: "没有或无效的工作人员令牌", 403: "无权执行此操作",
    404: "不存在（会话、回答、文件、条款或条目）",
    409: "版本已变化或重复", 413: "请求内容过大", 422: "请求内容不合规（逐项说明）",
    429: "请求过于频繁（见 Retry-After）", 503: "服务正在启动或暂不可用",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of a route, all with the one error body."""
    return {c: {"model": ErrorOut, "description": ERROR_DESCRIPTIONS[c]} for c in codes}


class ChatRequest(RequestBody):
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    session_id: str | None = Field(None, max_length=MAX_ID)
    channel: Channel | None = None


class CitationOut(BaseModel):
    doc_id: str = Field(description="the document's stable id (corpus file name)")
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


class FeedbackRequest(RequestBody):
    answer_id: str = Field(max_length=MAX_ID)
    rating: int = Field(ge=1, le=5, description="好差评: 5 非常满意 … 1 非常不满意")
    comment: str | None = Field(default=None, max_length=1000)


class FeedbackResponse(BaseModel):
    answer_id: str
    rating: int
    is_bad: bool = Field(description="ratings 1–2 count as 差评")


class HandoffRequest(RequestBody):
    session_id: str = Field(max_length=MAX_ID)
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
    chapter: str = Field("", description="its 章 (and 节): 第五章 特别规定 第二节 劳务派遣")


class DatedEvent(BaseModel):
    kind: Literal["adopted", "published", "amended", "effective"]
    date: str


class PolicyOut(BaseModel):
    doc_id: str
    doc_no: str
    title: str
    short_title: str = Field(description="as people cite it: 劳动合同法")
    level: str = Field(description="法律 / 行政法规 / 部门规章 / 地方性法规 / 规范性文件")
    jurisdiction: str = Field(description="全国 / 重庆市 …")
    status: Literal["in_force", "superseded"]
    superseded_by: str
    date: str
    dates: list[DatedEvent]
    issuers: list[str]
    url: str
    articles: list[ArticleRef]


class ItemOut(BaseModel):
    item: int = Field(description="项: （一） = 1")
    text: str


class ParagraphOut(BaseModel):
    paragraph: int = Field(description="款, from 1")
    text: str = Field(description="the 款's own sentences (its lead-in where it has items)")
    items: list[ItemOut]


class ArticleOut(BaseModel):
    doc_id: str
    doc_no: str
    doc_title: str
    article: int
    label: str
    heading: str
    chapter: str = Field("", description="its 章 (and 节), where the document has them")
    text: str
    sentences: list[str]
    paragraphs: list[ParagraphOut]
    url: str
