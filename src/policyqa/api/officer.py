"""Officer endpoints (/api/v1/officer/...): the 问答库 workflow behind bearer tokens.

Every route depends on :func:`current_officer`, so none is reachable without a
valid, unrevoked token; the officer's name is passed down and written into the
audit trail. Tokens are never logged or echoed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from policyqa.api import texts
from policyqa.api.deps import FaqReader, FaqWriter, NotReady, Officer, State
from policyqa.api.schemas import RequestBody, error_responses
from policyqa.errors import NotFound
from policyqa.faq.io import MEDIA_TYPES
from policyqa.faq.model import MAX_ANSWER, MAX_CITATIONS, MAX_PARAPHRASES, MAX_QUESTION

router = APIRouter(prefix="/api/v1/officer", tags=["officer"],
                   responses=error_responses(401, 403, 404, 409, 413, 422, 503))
Status = Literal["draft", "in_review", "published", "retired", "rejected"]
MAX_INT = 2**31 - 1  # what every database's INTEGER holds; larger numbers are refused


def _faq(state: Any) -> Any:
    state.service()  # 503 while loading
    if state.faq is None:  # an app assembled without the officer side
        raise NotReady(texts.NO_FAQ)
    return state.faq


class CitationIn(RequestBody):
    doc_id: str | None = Field(None, max_length=100)
    doc_no: str | None = Field(None, max_length=100)
    article: int = Field(ge=0, le=10_000)
    quote: str = Field(min_length=1, max_length=MAX_ANSWER)


class EntryIn(RequestBody):
    question: str = Field(min_length=1, max_length=MAX_QUESTION)
    paraphrases: list[Annotated[str, Field(max_length=MAX_QUESTION)]] = Field(
        default_factory=list, max_length=MAX_PARAPHRASES)
    answer_text: str = Field("", max_length=MAX_ANSWER)
    citations: list[CitationIn] = Field(default_factory=list, max_length=MAX_CITATIONS)


class EntryEdit(RequestBody):
    version: int = Field(ge=1, le=MAX_INT)
    question: str | None = Field(None, min_length=1, max_length=MAX_QUESTION)
    paraphrases: list[Annotated[str, Field(max_length=MAX_QUESTION)]] | None = Field(
        None, max_length=MAX_PARAPHRASES)
    answer_text: str | None = Field(None, max_length=MAX_ANSWER)
    citations: list[CitationIn] | None = Field(None, max_length=MAX_CITATIONS)


class TransitionIn(RequestBody):
    version: int = Field(ge=1, le=MAX_INT)
    to: Status
    note: str = Field("", max_length=500)


class DraftIn(RequestBody):
    """Exactly one source: a clause (doc_no or doc_id + article), a topic, or the logs."""

    doc_no: str | None = Field(None, max_length=100)
    doc_id: str | None = Field(None, max_length=100)
    article: int | None = Field(None, ge=0, le=10_000)
    topic: str | None = Field(None, min_length=1, max_length=50)
    source: Literal["logs"] | None = None
    days: int = Field(30, ge=1, le=366)
    min_count: int = Field(2, ge=1, le=1000)
    limit: int = Field(5, ge=1, le=50)


def _citations(cites: list[CitationIn] | None) -> list[dict[str, Any]] | None:
    return None if cites is None else [c.model_dump() for c in cites]


@router.get("/me")
async def me(officer: Officer) -> dict[str, str]:
    return {"name": officer.name, "role": officer.role}


@router.post("/faq/drafts", status_code=201)
async def drafts(body: DraftIn, state: State, officer: FaqWriter) -> dict[str, Any]:
    return await run_in_threadpool(_faq(state).draft, body.model_dump(), officer)


@router.get("/faq")
async def list_entries(state: State, officer: FaqReader, status: Status | None = None,
                       origin: str | None = Query(None, max_length=16),
                       stale: bool | None = None, q: str | None = Query(None, max_length=100),
                       limit: int = Query(50, ge=1, le=500),
                       offset: int = Query(0, ge=0, le=MAX_INT)
                       ) -> dict[str, Any]:
    items, total = await run_in_threadpool(
        _faq(state).repo.search, status=status, origin=origin, stale=stale, q=q,
        limit=limit, offset=offset)
    return {"total": total, "items": items}


@router.post("/faq", status_code=201)
async def create_entry(body: EntryIn, state: State, officer: FaqWriter) -> dict[str, Any]:
    fields = body.model_dump()
    fields["citations"] = _citations(body.citations)
    return await run_in_threadpool(_faq(state).create, fields, officer)


@router.get("/faq/export", response_class=Response, responses={200: {
    "description": "the whole 问答库 as a file", "content": {t: {} for t in MEDIA_TYPES.values()}}})
async def export(state: State, officer: FaqReader,
                 format: Literal["json", "csv", "xlsx"] = "json") -> Response:
    data = await run_in_threadpool(_faq(state).export, format)
    return Response(data, media_type=MEDIA_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="policyqa-faq.{format}"'})


@router.post("/faq/import")
async def import_entries(request: Request, state: State, officer: FaqWriter,
                         format: Literal["json", "csv", "xlsx"] = "json",
                         filename: str = Query("", max_length=200)) -> dict[str, Any]:
    """The body is the file itself (its size is bounded before it is read, by
    ``max_import_bytes``); ``filename`` is recorded in each entry's audit row."""
    data = await request.body()
    return await run_in_threadpool(_faq(state).import_, data, format, officer, filename)


@router.get("/faq/vectors")
async def vectors(state: State, officer: FaqReader) -> dict[str, Any]:
    """The background job that encodes the 问答库's wordings (after an import): its state,
    progress (done / total wordings), which process holds it, and how many wordings this
    process still waits for (not served until encoded)."""
    faq = _faq(state)
    out: dict[str, Any] = await run_in_threadpool(faq.job.status)
    out["waiting_here"] = faq.matcher.pending
    return out


@router.get("/faq/{entry_id}")
async def get_entry(entry_id: str, state: State, officer: FaqReader) -> dict[str, Any]:
    faq = _faq(state)
    entry = await run_in_threadpool(faq.repo.get, entry_id)
    entry["audit"] = await run_in_threadpool(faq.repo.audit, entry_id)
    return entry


@router.patch("/faq/{entry_id}")
async def edit_entry(entry_id: str, body: EntryEdit, state: State, officer: FaqWriter
                     ) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True, exclude={"version"})
    if "citations" in fields:
        fields["citations"] = _citations(body.citations)
    return await run_in_threadpool(_faq(state).edit, entry_id, body.version, fields, officer)


@router.post("/faq/{entry_id}/transition")
async def transition(entry_id: str, body: TransitionIn, state: State, officer: Officer
                     ) -> dict[str, Any]:
    return await run_in_threadpool(_faq(state).transition, entry_id, body.version, body.to,
                                   officer, body.note)


@router.get("/faq/{entry_id}/audit")
async def audit(entry_id: str, state: State, officer: FaqReader) -> list[dict[str, Any]]:
    return await run_in_threadpool(_faq(state).repo.audit, entry_id)


@router.get("/status")
async def status(state: State, officer: FaqReader) -> dict[str, Any]:
    """The service as officers need to see it: a corpus file that stops new index
    builds (the last good index is served meanwhile), with its reason."""
    state.service()
    return state.status()


@router.get("/stats/charts/{name}", response_class=Response, responses={
    200: {"content": {"image/svg+xml": {}}, "description": "the chart as SVG"}})
async def stats_chart(state: State, officer: FaqReader,
                      name: Annotated[str, PathParam(max_length=20)],
                      days: int = Query(30, ge=1, le=366)) -> Response:
    """A picture of the stats over time (SVG): ``questions`` per day, the refusal and 差评
    ``rates`` per day, the most asked ``unanswered`` questions."""
    from policyqa.desk.charts import CHARTS, render
    from policyqa.store import insight

    if name not in CHARTS:
        raise NotFound(f"没有这个图表：{name}（可选：{'、'.join(CHARTS)}）")
    store = state.service().store
    daily = await run_in_threadpool(insight.daily, store, days)
    top = await run_in_threadpool(insight.top_unanswered, store, 10, days)
    svg = await run_in_threadpool(render, name, daily, top)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/stats")
async def stats(state: State, officer: FaqReader, days: int = Query(30, ge=1, le=366)
                ) -> dict[str, Any]:
    out: dict[str, Any] = await run_in_threadpool(_faq(state).stats, days)
    out["desk"] = await run_in_threadpool(state.desk().stats)
    out["service"] = state.status()
    return out
