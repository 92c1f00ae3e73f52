"""FastAPI application factory: state, start-up loading, error mapping.

The index and model load in a background thread at start-up so that /healthz
answers at once and /readyz tells when answers can be served (503 before).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from policyqa.api.ratelimit import RateLimiter
from policyqa.errors import (
    ConfigError,
    Conflict,
    CorpusError,
    IndexStoreError,
    InvalidQuestion,
    ModelError,
    NotFound,
    PolicyQAError,
)
from policyqa.faq.model import InvalidEntry
from policyqa.faq.officers import OfficerError, Unauthorized
from policyqa.settings import Settings

log = logging.getLogger("policyqa.api")

# The one table from the error hierarchy to HTTP status codes.
ERROR_STATUS: list[tuple[type[PolicyQAError], int]] = [
    (InvalidQuestion, 422),
    (InvalidEntry, 422),
    (Unauthorized, 401),
    (Conflict, 409),
    (OfficerError, 409),
    (NotFound, 404),
    (ModelError, 503),
    (IndexStoreError, 503),
    (CorpusError, 500),
    (ConfigError, 500),
]


def status_for(exc: PolicyQAError) -> int:
    for cls, code in ERROR_STATUS:
        if isinstance(exc, cls):
            return code
    return int(getattr(exc, "http_status", 500))


class UTF8JSONResponse(JSONResponse):
    """JSON with Chinese as UTF-8 text, not \\u escapes (readable logs, smaller bodies)."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class NotReady(PolicyQAError):
    """The index is still loading."""


@dataclass
class AppState:
    settings: Settings
    limiter: RateLimiter
    chat: Any = None  # ChatService once loaded
    faq: Any = None  # FaqService (officer side) once loaded
    error: str = ""
    ready: threading.Event = field(default_factory=threading.Event)

    def service(self) -> Any:
        if self.chat is None:
            raise NotReady(self.error or "服务正在启动，请稍候再试。")
        return self.chat


def _load(state: AppState, loader: Callable[[Settings], Any]) -> None:
    try:
        loaded = loader(state.settings)
        # A loader returns the chat service, or (chat, officer-side FAQ service).
        state.chat, state.faq = loaded if isinstance(loaded, tuple) else (loaded, None)
        state.ready.set()
        log.info("policyqa ready")
    except Exception as e:  # reported on /readyz, the process stays up for /healthz
        log.exception("loading failed")
        state.error = f"服务加载失败：{e}"


def open_store(settings: Settings) -> Any:
    """The database of the channel (SQLite in data_dir unless POLICYQA_DATABASE_URL), migrated."""
    from policyqa.store import Store

    return Store.open(settings)


def default_loader(settings: Settings) -> Any:
    """Open the index (building it if missing), the database, the 问答库 and the chat.

    The 问答库's quotes are checked against the index just opened (it may have been
    rebuilt): entries that no longer hold are flagged stale and not served.
    """
    from policyqa.chat import ChatService
    from policyqa.faq.service import FaqService
    from policyqa.service import PolicyQA

    qa = PolicyQA.open(settings, progress=lambda m: log.info(m))
    store = open_store(settings)
    faq = FaqService(qa, store)
    stale = faq.start()
    if stale:
        log.warning("问答库: %d entries flagged stale after the corpus changed", len(stale))
    return ChatService(qa, store, faq.matcher), faq


def create_app(settings: Settings, loader: Callable[[Settings], Any] = default_loader,
               *, background: bool = True, mount_ui: bool = True) -> FastAPI:
    from policyqa.api.routes import router

    state = AppState(settings, RateLimiter(settings.rate_limit_per_minute))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if background:
            threading.Thread(target=_load, args=(state, loader), daemon=True).start()
        else:
            _load(state, loader)
        yield

    app = FastAPI(title="policyqa 12333 政策问答", version="1", lifespan=lifespan,
                  docs_url="/docs", default_response_class=UTF8JSONResponse)
    app.state.policyqa = state
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["*"])

    @app.exception_handler(PolicyQAError)
    async def _domain_error(request: Request, exc: PolicyQAError) -> JSONResponse:
        code = 503 if isinstance(exc, NotReady) else status_for(exc)
        body: dict[str, Any] = {"detail": str(exc)}
        if isinstance(getattr(exc, "errors", None), list):  # import: every row problem
            body["errors"] = exc.errors  # type: ignore[attr-defined]
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return UTF8JSONResponse(body, status_code=code, headers=headers)

    from policyqa.api.routes import RateLimited

    @app.exception_handler(RateLimited)
    async def _limited(request: Request, exc: RateLimited) -> JSONResponse:
        return UTF8JSONResponse({"detail": "请求过于频繁，请稍后再试。"}, status_code=429,
                            headers={"Retry-After": str(max(1, round(exc.wait + 0.5)))})

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = "、".join(".".join(str(p) for p in e.get("loc", ())[1:]) or "请求体"
                          for e in exc.errors())
        return UTF8JSONResponse({"detail": f"请求格式不正确（{fields}），请检查后重试。",
                             "errors": jsonable_errors(exc)}, status_code=422)

    from policyqa.api.officer import router as officer_router

    app.include_router(router)
    app.include_router(officer_router)
    if mount_ui:
        try:
            from policyqa.ui import mount
        except ImportError:  # the widget is optional for API-only deployments
            log.warning("gradio not installed: widget not mounted")
        else:
            app = mount(app, state)
    return app


def jsonable_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))} for e in exc.errors()]
