"""What every route depends on: the app's state, the rate limit, the officer and their role.

Routes, the officer API and the widget import these from here, never from ``app``
(which imports them all to assemble the application).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from policyqa.api import texts
from policyqa.api.ratelimit import RateLimiter
from policyqa.errors import PolicyQAError
from policyqa.faq.officers import Unauthorized, authenticate
from policyqa.roles import Actor
from policyqa.settings import Settings

_bearer = HTTPBearer(auto_error=False)


class UTF8JSONResponse(JSONResponse):
    """JSON with Chinese as UTF-8 text, not \\u escapes (readable logs, smaller bodies)."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        # "replace": a lone surrogate echoed from a request can never make a 500 here.
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "replace")


class NotReady(PolicyQAError):
    """The index is still loading (or failed to load)."""


@dataclass
class AppState:
    settings: Settings
    limiter: RateLimiter
    chat: Any = None  # ChatService once loaded
    faq: Any = None  # FaqService (officer side) once loaded
    error: str = ""  # why loading failed (logged; never shown to the public)
    problems: tuple[dict[str, str], ...] = ()
    ready: threading.Event = field(default_factory=threading.Event)
    _desk: Any = None
    _documents: Any = None
    swap_lock: threading.Lock = field(default_factory=threading.Lock)  # one switch at a time

    def service(self) -> Any:
        if self.chat is None:
            raise NotReady(texts.UNAVAILABLE if self.error else texts.LOADING)
        return self.chat

    def desk(self) -> Any:
        """The officer desk on the chat in service (rebuilt when a new index swaps in)."""
        chat = self.service()
        if self._desk is None or self._desk.chat is not chat:
            from policyqa.desk import DeskService

            self._desk = DeskService(chat, self.faq, self.settings.ticket_overdue_hours)
        return self._desk

    def documents(self) -> Any:
        """The corpus through the desk; a change rebuilds the index and switches to it."""
        self.service()
        if self._documents is None:
            from policyqa.desk.documents import DocumentDesk

            self._documents = DocumentDesk(self.settings.corpus_dir, self._rebuild,
                                           self.settings.max_document_bytes)
        return self._documents

    def _rebuild(self) -> str:
        from policyqa.api.reload import swap_if_new
        from policyqa.service import build_index, make_tokenizer

        qa = self.service().qa
        tokenizer, sig = make_tokenizer()
        build_index(qa.settings, qa.encoder, tokenizer, sig)
        swap_if_new(self)
        return str(self.service().qa.index.build_name)

    def status(self) -> dict[str, Any]:
        """ok, or degraded with each corpus file that stops a new build and why."""
        return {"status": "degraded" if self.problems else "ok",
                "problems": list(self.problems)}


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


async def current_officer(state: State, cred: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Actor:
    if cred is None or cred.scheme.lower() != "bearer":
        raise Unauthorized("需要工作人员令牌（Authorization: Bearer …）")
    store = state.service().store
    return await run_in_threadpool(authenticate, store, cred.credentials)


Officer = Annotated[Actor, Depends(current_officer)]


def role(action: str) -> Callable[..., Any]:
    """A dependency: the officer, who must hold a role that may do ``action`` (403 otherwise)."""
    async def check(officer: Officer) -> Actor:
        return officer.require(action)
    return check


# The officer of a route, checked for the role its action needs (policyqa.roles.NEEDS).
FaqReader = Annotated[Actor, Depends(role("faq.read"))]
FaqWriter = Annotated[Actor, Depends(role("faq.write"))]
TicketWorker = Annotated[Actor, Depends(role("desk.tickets"))]
FollowupWorker = Annotated[Actor, Depends(role("desk.followups"))]
Prober = Annotated[Actor, Depends(role("desk.probe"))]
Admin = Annotated[Actor, Depends(role("documents"))]
OfficerAdmin = Annotated[Actor, Depends(role("officers"))]
