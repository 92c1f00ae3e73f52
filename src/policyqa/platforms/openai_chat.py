"""The OpenAI chat-completions shape over a policyqa chat turn.

The last user message is the question; the earlier user messages are the conversation
(replayed for context: follow-ups work). The reply is policyqa's cited answer or refusal,
word for word, as the assistant message; the structured citations ride in an extra field,
``policyqa``, which clients may ignore. Nothing is generated: a stream is the same text cut
into pieces, sent as the OpenAI chunk format's server-sent events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from policyqa.chat import ChatTurn
from policyqa.errors import InvalidQuestion

MODEL_ID = "policyqa"
OWNER = "policyqa"
PIECE = 24  # characters per streamed piece


def models(created: int) -> dict[str, Any]:
    """``GET /v1/models``: the one model, policyqa's cited answers."""
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model",
                                        "created": created, "owned_by": OWNER}]}


def text_of(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = [p.get("text", "") if isinstance(p, Mapping) else getattr(p, "text", "")
             for p in content]
    return "".join(str(p or "") for p in parts)


def conversation(messages: Sequence[Mapping[str, Any]]) -> tuple[str, list[str]]:
    """(question, the earlier user questions) of a chat's messages; InvalidQuestion
    when no user message has text."""
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    users = [u for u in users if u.strip()]
    if not users:
        raise InvalidQuestion("messages 中没有用户问题（role: user）。")
    return users[-1], users[:-1]


def extra(turn: ChatTurn) -> dict[str, Any]:
    """What policyqa adds to the OpenAI shape: the answer's status and citations, the
    ids for 好差评 and 转人工, 猜你想问."""
    d = asdict(turn)
    return {k: d[k] for k in ("answer_id", "session_id", "status", "source", "reason",
                              "citations", "related_questions", "handoff", "notes")}


def completion(turn: ChatTurn, created: int) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` object of a turn."""
    return {"id": f"chatcmpl-{turn.answer_id}", "object": "chat.completion",
            "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": turn.answer_text}}],
            "policyqa": extra(turn)}


def pieces(text: str, size: int = PIECE) -> list[str]:
    """The answer cut at line ends, then at ``size`` characters (never mid-character)."""
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        out += [line[i:i + size] for i in range(0, len(line), size)]
    return out or [""]


def stream(turn: ChatTurn, created: int) -> Iterator[str]:
    """The server-sent events of a streamed completion: the role, the text in pieces,
    the finish (with policyqa's extra field), then ``[DONE]``."""
    base = {"id": f"chatcmpl-{turn.answer_id}", "object": "chat.completion.chunk",
            "created": created, "model": MODEL_ID}

    def event(delta: dict[str, Any], finish: str | None = None, **more: Any) -> str:
        chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                      "logprobs": None}], **more}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    for piece in pieces(turn.answer_text):
        yield event({"content": piece})
    yield event({}, "stop", policyqa=extra(turn))
    yield "data: [DONE]\n\n"
