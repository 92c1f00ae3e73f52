"""FastAPI application factory: state, start-up loading, error mapping.

The index and model load in a background thread at start-up so that /healthz
answers at once and /readyz tells when answers can be served (503 before).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from policyqa.api import texts
from policyqa.api.deps import AppState, NotReady, RateLimited, UTF8JSONResponse
from policyqa.api.guard import Guard, Limits
from policyqa.api.logredact import redact_access_log
from policyqa.api.ratelimit import RateLimiter
from policyqa.api.wiring import Loaded, services
from policyqa.errors import (
    ApiKeyError,
    ConfigError,
    Conflict,
    CorpusError,
    DocumentTooLarge,
    Forbidden,
    IndexStoreError,
    InvalidDocument,
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
    (InvalidDocument, 422),
    (DocumentTooLarge, 413),
    (Unauthorized, 401),
    (ApiKeyError, 401),
    (Forbidden, 403),
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


def _load(state: AppState, loader: Callable[[Settings], Any]) -> None:
    try:
        loaded = loader(state.settings)
        if not isinstance(loaded, Loaded):  # a bare chat service, or (chat, faq)
            loaded = Loaded(*loaded) if isinstance(loaded, tuple) else Loaded(loaded)
        state.faq, state.problems = loaded.faq, loaded.problems
        state.limiter = shared_limiter(state, loaded.chat)
        state.chat = loaded.chat
        state.ready.set()
        log.info("policyqa ready%s", " (degraded)" if loaded.problems else "")
    except Exception as e:  # reported on /readyz, the process stays up for /healthz
        log.exception("loading failed")
        state.error = f"{type(e).__name__}: {e}"


def shared_limiter(state: AppState, chat: Any) -> RateLimiter:
    """The rate limiter counting in the database every worker and replica shares."""
    engine = getattr(getattr(chat, "store", None), "engine", None)
    if state.settings.rate_limit_store != "database" or engine is None:
        return state.limiter
    from policyqa.store.ratecount import SqlCounterStorage

    return state.limiter.shared(SqlCounterStorage(engine))


def open_store(settings: Settings) -> Any:
    """The database of the channel (SQLite in data_dir unless POLICYQA_DATABASE_URL), migrated."""
    from policyqa.store import Store

    return Store.open(settings)


def default_loader(settings: Settings) -> Loaded:
    """Open the index (building it if stale), the database, the 问答库 and the chat.

    A corpus that no longer builds (a broken file was dropped in) does not take the
    service down: the last good index is served and the problem is reported. The
    问答库's quotes are checked against the index just opened (it may have been
    rebuilt): entries that no longer hold are flagged stale and not served. Citizen
    data past the retention period is purged.
    """
    from policyqa.ingest.corpus import corpus_problems
    from policyqa.service import PolicyQA
    from policyqa.store.retention import purge

    problems: tuple[dict[str, str], ...] = ()
    try:
        qa = PolicyQA.open(settings, progress=lambda m: log.info(m))
    except CorpusError as e:
        log.error("corpus does not build (%s); serving the last good index", e)
        problems = tuple(corpus_problems(settings.corpus_dir)) or (
            {"file": e.file, "reason": str(e)},)
        qa = PolicyQA.open(settings, auto_build=False, progress=lambda m: log.info(m))
    store = open_store(settings)
    purged = purge(store, settings.retention_days)
    if any(purged.values()):
        log.info("retention %d days: purged %s", settings.retention_days, purged)
    return services(qa, store, problems)


def create_app(settings: Settings, loader: Callable[[Settings], Any] = default_loader,
               *, background: bool = True, mount_ui: bool = True) -> FastAPI:
    from policyqa.api.platforms import error_body
    from policyqa.api.routes import router

    state = AppState(settings, RateLimiter(settings.rate_limit_per_minute))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from policyqa.api.reload import watchers

        if background:
            threading.Thread(target=_load, args=(state, loader), daemon=True).start()
        else:
            _load(state, loader)
        polls = watchers(state)  # a new index build, another process's 问答库 change
        for p in polls:
            p.start()
        yield
        for p in polls:
            p.stop()

    app = FastAPI(title="policyqa 12333 政策问答", version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None, default_response_class=UTF8JSONResponse)
    app.state.policyqa = state
    redact_access_log()
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["*"])
    app.add_middleware(
        Guard, limits=Limits(settings.max_body_bytes, settings.max_officer_body_bytes,
                             settings.max_import_bytes, settings.max_document_bytes),
        frame_ancestors=settings.frame_ancestors)
    from policyqa.api.docs import mount_docs

    mount_docs(app)

    @app.exception_handler(PolicyQAError)
    async def _domain_error(request: Request, exc: PolicyQAError) -> JSONResponse:
        code = 503 if isinstance(exc, NotReady) else status_for(exc)
        detail = str(exc)
        if code >= 500 and not isinstance(exc, NotReady):
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc)
            detail = texts.UNAVAILABLE if code == 503 else texts.FAILED
        if shaped := error_body(request.url.path, code, detail, exc):
            return UTF8JSONResponse(shaped[1], status_code=shaped[0])
        body: dict[str, Any] = {"detail": detail}
        if isinstance(getattr(exc, "errors", None), list):  # import: every row problem
            body["errors"] = exc.errors  # type: ignore[attr-defined]
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return UTF8JSONResponse(body, status_code=code, headers=headers)

    @app.exception_handler(RateLimited)
    async def _limited(request: Request, exc: RateLimited) -> JSONResponse:
        return UTF8JSONResponse({"detail": texts.RATE_LIMITED}, status_code=429,
                            headers={"Retry-After": str(max(1, round(exc.wait + 0.5)))})

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        """The framework's own errors, in Chinese; a body it could not parse (invalid
        UTF-8, nesting too deep, a number too long) is a 422 like any bad field."""
        code, detail = exc.status_code, texts.HTTP.get(exc.status_code, str(exc.detail))
        if code == 400:
            code, detail = 422, texts.BAD_JSON
        elif isinstance(exc.detail, str) and exc.detail and code == 413:
            detail = exc.detail
        if shaped := error_body(request.url.path, code, detail):
            return UTF8JSONResponse(shaped[1], status_code=shaped[0])
        return UTF8JSONResponse({"detail": detail}, status_code=code,
                                headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            if shaped := error_body(request.url.path, 422, texts.BAD_JSON):
                return UTF8JSONResponse(shaped[1], status_code=shaped[0])
            return UTF8JSONResponse({"detail": texts.BAD_JSON, "errors": jsonable_errors(exc)},
                                    status_code=422)
        fields = "、".join(".".join(str(p) for p in e.get("loc", ())[1:]) or "请求体"
                          for e in exc.errors())
        if shaped := error_body(request.url.path, 422, texts.BAD_FIELDS.format(fields=fields)):
            return UTF8JSONResponse(shaped[1], status_code=shaped[0])
        return UTF8JSONResponse({"detail": texts.BAD_FIELDS.format(fields=fields),
                             "errors": jsonable_errors(exc)}, status_code=422)

    from policyqa.api.desk import public as desk_public
    from policyqa.api.desk import router as desk_router
    from policyqa.api.deskpage import router as deskpage_router
    from policyqa.api.documents import router as documents_router
    from policyqa.api.officer import router as officer_router
    from policyqa.api.officers import router as officers_router
    from policyqa.api.platforms import router as platforms_router

    app.include_router(router)
    app.include_router(desk_public)
    app.include_router(officer_router)
    app.include_router(desk_router)
    app.include_router(documents_router)
    app.include_router(officers_router)
    app.include_router(deskpage_router)
    app.include_router(platforms_router)
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
