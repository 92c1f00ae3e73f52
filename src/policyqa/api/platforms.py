"""Endpoints for the platforms 政务 teams already run: Dify's / RAGFlow's external
knowledge base (``POST /retrieval``) and the OpenAI chat shape (``GET /v1/models``,
``POST /v1/chat/completions``, streaming included). Both take a platform API key
(``policyqa apikey add``), never an officer's token.

Errors on these paths answer in each protocol's own shape (:func:`error_body`): Dify's
``{"error_code", "error_msg"}`` (403 with 1001 / 1002 for a bad or unknown key, 404 with
2001 for an unknown knowledge id) and OpenAI's ``{"error": {"message", "type", "code"}}``.
Keyed calls are not rate-limited per address: one platform server speaks for many
citizens; revoking its key stops a platform that misbehaves.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from policyqa.api.deps import State, UTF8JSONResponse
from policyqa.api.platform_schemas import (
    ChatCompletionRequest,
    DifyError,
    OpenAIError,
    RetrievalRequest,
    RetrievalResponse,
)
from policyqa.errors import ApiKeyError, NotFound, UnknownKnowledge
from policyqa.platforms import knowledge
from policyqa.platforms import openai_chat as oai
from policyqa.platforms.keys import check_key

router = APIRouter(tags=["platforms"])
_bearer = HTTPBearer(auto_error=False, scheme_name="PlatformKey",
                     description="a platform API key (policyqa apikey add NAME)")


async def platform_key(state: State, cred: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    header = f"{cred.scheme} {cred.credentials}" if cred is not None else None
    return await run_in_threadpool(check_key, state.service().store, header)


PlatformKey = Annotated[str, Depends(platform_key)]
DIFY_ERRORS: dict[int | str, dict[str, Any]] = {
    c: {"model": DifyError, "description": d} for c, d in (
        (403, "error_code 1001: no or a malformed Authorization header; 1002: an unknown "
              "or revoked key"), (404, "error_code 2001: the knowledge does not exist"),
        (422, "a missing or invalid field"), (503, "not ready yet"))}
OPENAI_ERRORS: dict[int | str, dict[str, Any]] = {
    c: {"model": OpenAIError, "description": d} for c, d in (
        (401, "invalid_api_key"), (404, "model_not_found"), (422, "invalid_request"),
        (503, "not ready yet"))}


@router.post("/retrieval", response_model=RetrievalResponse, responses=DIFY_ERRORS)
async def retrieval(body: RetrievalRequest, state: State, key: PlatformKey
                    ) -> RetrievalResponse:
    """Dify's External Knowledge API: the clauses that answer ``query`` in the part of
    the corpus ``knowledge_id`` names, as records (none when the documents do not cover
    it)."""
    svc = state.service()
    cond = body.metadata_condition.model_dump() if body.metadata_condition else None
    recs = await run_in_threadpool(
        knowledge.retrieve, svc.qa, body.knowledge_id, body.query,
        body.retrieval_setting.top_k, body.retrieval_setting.score_threshold, cond)
    return RetrievalResponse.model_validate({"records": recs})


@router.get("/v1/models", responses=OPENAI_ERRORS)
async def models(key: PlatformKey) -> dict[str, Any]:
    """The one model: policyqa's cited answers and refusals."""
    return oai.models(_created())


@router.get("/v1/models/{model}", responses=OPENAI_ERRORS)
async def model(key: PlatformKey, model: Annotated[str, Path(max_length=100)]
                ) -> dict[str, Any]:
    return _model(model)


@router.post("/v1/chat/completions", responses=OPENAI_ERRORS)
async def chat_completions(body: ChatCompletionRequest, state: State, key: PlatformKey
                           ) -> Any:
    """OpenAI chat completions: the last user message is the question, the earlier ones
    the conversation; the reply is the cited answer or refusal (``stream: true``: as
    server-sent events), with the citations in the extra field ``policyqa``."""
    _model(body.model)
    svc = state.service()
    question, history = oai.conversation([m.model_dump() for m in body.messages])
    turn = await run_in_threadpool(svc.chat, question, None, "openai", history)
    if body.stream:
        return StreamingResponse(oai.stream(turn, _created()), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    return UTF8JSONResponse(oai.completion(turn, _created()))


def _model(name: str) -> dict[str, Any]:
    found = [m for m in oai.models(_created())["data"] if m["id"] == name]
    if not found:
        raise NotFound(f"The model `{name}` does not exist; use `{oai.MODEL_ID}`.")
    return found[0]


def _created() -> int:
    return int(time.time())


def error_body(path: str, status: int, detail: str, exc: Exception | None = None
               ) -> tuple[int, dict[str, Any]] | None:
    """(status, body) of an error on a platform path in that protocol's shape; None for
    every other path (the service's own ``{"detail"}``)."""
    if path == "/retrieval":
        if isinstance(exc, ApiKeyError):
            return 403, {"error_code": 1001 if exc.malformed else 1002, "error_msg": detail}
        if isinstance(exc, UnknownKnowledge):
            return 404, {"error_code": 2001, "error_msg": detail}
        return status, {"error_code": status, "error_msg": detail}
    if path.startswith("/v1/"):
        code = ("invalid_api_key" if isinstance(exc, ApiKeyError) else
                "model_not_found" if isinstance(exc, NotFound) else
                {422: "invalid_request", 413: "request_too_large", 429: "rate_limit_exceeded"
                 }.get(status, "server_error" if status >= 500 else "invalid_request"))
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return status, {"error": {"message": detail, "type": kind, "param": None,
                                  "code": code}}
    return None

