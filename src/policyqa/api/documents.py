"""Policy documents through the desk (admins only): list, check an upload, add it,
retire or supersede a document. An upload is a multipart form: the file (.txt, .md,
.docx, .html), its sidecar facts as JSON (``meta``) and optionally its ``doc_id``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from policyqa.api.deps import Admin, State
from policyqa.api.schemas import RequestBody, error_responses
from policyqa.desk.documents import Upload
from policyqa.errors import InvalidDocument

router = APIRouter(prefix="/api/v1/officer/documents", tags=["officer documents"],
                   responses=error_responses(401, 403, 404, 409, 413, 422, 503))
DocId = Annotated[str, Path(max_length=64)]


class SupersedeIn(RequestBody):
    by: str = Field(min_length=1, max_length=64, description="the doc_id that replaces it")


async def _upload(file: UploadFile, meta: str, doc_id: str) -> Upload:
    try:
        facts = json.loads(meta or "{}")
    except json.JSONDecodeError as e:
        raise InvalidDocument(f"meta 不是有效的 JSON：{e.msg}") from None
    if not isinstance(facts, dict):
        raise InvalidDocument("meta 须为 JSON 对象，例如 {\"source_url\": \"https://…\"}")
    return Upload(file.filename or "", await file.read(), facts, doc_id.strip())


File_ = Annotated[UploadFile, File(description="the policy document")]
Meta = Annotated[str, Form(max_length=20_000, description="sidecar facts as a JSON object")]
DocIdForm = Annotated[str, Form(max_length=64)]


@router.get("")
async def documents(state: State, officer: Admin) -> dict[str, Any]:
    """The corpus as ``policyqa ingest --check`` shows it: one row per document."""
    out: dict[str, Any] = await run_in_threadpool(state.documents().table)
    return out


@router.post("/check")
async def check(state: State, officer: Admin, file: File_, meta: Meta = "{}",
                doc_id: DocIdForm = "") -> dict[str, Any]:
    """What the upload parses to (facts, articles, what is missing, warnings); the
    corpus is not changed."""
    up = await _upload(file, meta, doc_id)
    out: dict[str, Any] = await run_in_threadpool(state.documents().check, up)
    return out


@router.post("", status_code=201)
async def add(state: State, officer: Admin, file: File_, meta: Meta = "{}",
              doc_id: DocIdForm = "") -> dict[str, Any]:
    """Check again, write the document into the corpus, rebuild the index and switch
    to it; a failed build leaves the corpus as it was."""
    up = await _upload(file, meta, doc_id)
    out: dict[str, Any] = await run_in_threadpool(state.documents().add, up)
    return out


@router.post("/{doc_id}/retire")
async def retire(doc_id: DocId, state: State, officer: Admin) -> dict[str, Any]:
    out: dict[str, Any] = await run_in_threadpool(state.documents().retire, doc_id)
    return out


@router.post("/{doc_id}/supersede")
async def supersede(doc_id: DocId, body: SupersedeIn, state: State, officer: Admin
                    ) -> dict[str, Any]:
    out: dict[str, Any] = await run_in_threadpool(state.documents().supersede, doc_id,
                                                  body.by)
    return out
