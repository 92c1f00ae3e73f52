"""Request and response models of the platform endpoints: Dify's external knowledge API
(``POST /retrieval``) and the OpenAI chat shape (``/v1/models``, ``/v1/chat/completions``),
field for field as those protocols publish them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policyqa.api.schemas import RequestBody
from policyqa.service import MAX_QUESTION_CHARS

Operator = Literal["contains", "not contains", "start with", "end with", "is", "is not",
                   "in", "not in", "empty", "not empty", "null", "not null", "=", "≠", "!=",
                   ">", "<", "≥", "≤", ">=", "<=", "before", "after"]


class RetrievalSetting(RequestBody):
    top_k: int = Field(ge=1, le=100, description="at most this many records")
    score_threshold: float = Field(0.0, ge=0.0, le=1.0,
                                   description="records scoring below are left out")


class Condition(RequestBody):
    name: str | list[str] = Field(description="a metadata field (or a list: any of them)")
    comparison_operator: Operator
    value: str | float | list[str] | None = None


class MetadataCondition(RequestBody):
    logical_operator: Literal["and", "or"] = "and"
    conditions: list[Condition] = Field(max_length=20)


class RetrievalRequest(RequestBody):
    knowledge_id: str = Field(max_length=200, description=(
        "policyqa (the whole corpus), doc:<doc_id>, jurisdiction:<全国|重庆市…>, "
        "level:<法律|行政法规…> or status:<in_force|superseded>"))
    query: str = Field(max_length=MAX_QUESTION_CHARS)
    retrieval_setting: RetrievalSetting
    metadata_condition: MetadataCondition | None = None


class Record(BaseModel):
    content: str = Field(description="the clause's verbatim text")
    score: float = Field(ge=0.0, le=1.0)
    title: str = Field(description="its citation: 《标题》（文号）第X条")
    metadata: dict[str, Any] = Field(description=(
        "doc_id, doc_title, doc_no, article, label, paragraph, item, chunk_id, quote (its "
        "best sentence), citation, url, level, jurisdiction, status, date"))


class RetrievalResponse(BaseModel):
    records: list[Record]


class DifyError(BaseModel):
    error_code: int = Field(description="1001 bad Authorization header, 1002 unknown or "
                                        "revoked key, 2001 unknown knowledge_id")
    error_msg: str


# ---- OpenAI ---------------------------------------------------------------------------

class ContentPart(RequestBody):
    model_config = ConfigDict(extra="allow")
    type: str = Field(max_length=32)
    text: str | None = Field(None, max_length=MAX_QUESTION_CHARS)


class ChatMessage(RequestBody):
    model_config = ConfigDict(extra="allow")  # name, tool_calls …: accepted, not used
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatCompletionRequest(RequestBody):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens …: nothing to tune
    model: str = Field(max_length=100)
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    error: OpenAIErrorBody
