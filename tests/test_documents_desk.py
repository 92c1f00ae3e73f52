"""Policy documents through the desk, over HTTP: an admin checks an upload (.docx and
.html made here from real corpus texts), adds it — the index is rebuilt and the app
switches to it — retires and supersedes documents; broken uploads are refused with a
clear message and leave the corpus and the index in service as they were."""

from __future__ import annotations

import html
import io
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from fastapi.testclient import TestClient

from conftest import CORPUS_DIR, DOC_NO, auth, chat, corpus_text, warm
from pg import create_database, drop_database
from policyqa.api import create_app
from policyqa.desk.documents import DocumentDesk, Upload
from policyqa.faq.officers import add_officer
from policyqa.ingest.corpus import corpus_files, load_policy
from policyqa.settings import Settings

DOCS = "/api/v1/officer/documents"
HOURS, LEAVE = "working-hours-1995", "annual-leave-reg-2007"  # kept out, then uploaded


def original(doc_id: str) -> Any:
    return load_policy(next(f for f in corpus_files(CORPUS_DIR) if f.doc_id == doc_id))


def as_docx(text: str) -> bytes:
    d = docx.Document()
    for line in text.splitlines():
        d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def as_html(text: str) -> bytes:
    body = "".join(f"<p>{html.escape(ln)}</p>\n" for ln in text.splitlines() if ln.strip())
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head>'
            f"<body><div class='nav'></div>{body}</body></html>").encode()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, settings: Settings,
        tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[TestClient, dict[str, str], Path]]:
    """An app on a private corpus copy without two documents (uploaded by the tests),
    its own index folder and database (SQLite, or a new PostgreSQL database)."""
    tmp = tmp_path_factory.mktemp("docs")
    db: dict[str, Any] = {}
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_url")
        name = f"docs_{uuid.uuid4().hex[:8]}"
        db = {"database_url": create_database(server, name)}
    corpus = tmp / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    for f in corpus.iterdir():
        if f.name.split(".")[0] in (HOURS, LEAVE):
            f.unlink()
    s = settings.model_copy(update={
        "corpus_dir": corpus, "index_dir": warm(tmp / "index", settings.index_dir),
        "data_dir": tmp / "data", "rate_limit_per_minute": 0, "index_poll_s": 0, **db})
    with TestClient(create_app(s, background=False, mount_ui=False)) as c:
        store = c.app.state.policyqa.chat.store  # type: ignore[attr-defined]
        tokens = {"admin": add_officer(store, "adm", "admin"),
                  "reviewer": add_officer(store, "rev", "reviewer")}
        yield c, tokens, corpus
    if db:
        drop_database(server, name)


def build_name(c: TestClient) -> str:
    return str(c.app.state.policyqa.chat.qa.index.build_name)  # type: ignore[attr-defined]


def upload(c: TestClient, token: str, name: str, data: bytes, path: str = "/check",
           **form: str) -> Any:
    return c.post(DOCS + path, headers=auth(token), files={"file": (name, data)}, data=form)


def test_only_admins_manage_documents(app: tuple[TestClient, dict[str, str], Path]) -> None:
    """Every documents route (from the OpenAPI document) is 403 for a reviewer, and the
    corpus is unchanged."""
    c, tok, corpus = app
    files = sorted(p.name for p in corpus.iterdir())
    paths = c.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = [(m.upper(), p.replace("{doc_id}", "labor-law-2018")) for p, ops in paths.items()
              if p.startswith(DOCS) for m in ops]
    assert len(routes) == 5
    for method, path in routes:
        r = c.request(method, path, headers=auth(tok["reviewer"]), json={"by": "x"})
        assert r.status_code == 403 and "管理员" in r.json()["detail"], (method, path)
    r = upload(c, tok["reviewer"], "x.txt", b"x")
    assert r.status_code == 403 and "管理员" in r.json()["detail"]
    assert sorted(p.name for p in corpus.iterdir()) == files
    rows = c.get(DOCS, headers=auth(tok["admin"])).json()["rows"]
    assert HOURS not in [r[0] for r in rows] and len(rows) == 16


def test_docx_is_checked_then_added_and_answered(app: tuple[TestClient, dict[str, str], Path]
                                                 ) -> None:
    c, tok, corpus = app
    data, want = as_docx(corpus_text(HOURS)), original(HOURS)
    before, files = build_name(c), sorted(p.name for p in corpus.iterdir())
    r = upload(c, tok["admin"], "hours.docx", data, doc_id="hours-docx",
               meta='{"level": "行政法规", "jurisdiction": "全国"}')
    assert r.status_code == 200, r.text
    rep = r.json()
    row = dict(zip(rep["columns"], rep["row"], strict=True))
    assert row["title"] == want.title and row["level"] == "行政法规"
    assert len(rep["articles"]) == sum(1 for a in want.articles if a.ordinal)
    assert any("source_url" in w for w in rep["warnings"])  # the sidecar gave no link
    assert sorted(p.name for p in corpus.iterdir()) == files and build_name(c) == before

    added = upload(c, tok["admin"], "hours.docx", data, path="", doc_id="hours-docx",
                   meta='{"level": "行政法规", "jurisdiction": "全国"}')
    assert added.status_code == 201, added.text
    assert (corpus / "hours-docx.docx").exists() and (corpus / "hours-docx.meta.json").exists()
    assert build_name(c) == added.json()["build"] != before  # switched without a restart
    got = chat(c, "职工每天工作几小时？每周呢？")
    assert got["status"] == "answered" and got["citations"][0]["doc_id"] == "hours-docx"
    assert got["citations"][0]["quote"] in corpus_text(HOURS)


def test_html_page_is_added_and_then_retired(app: tuple[TestClient, dict[str, str], Path]
                                             ) -> None:
    c, tok, corpus = app
    want = original(LEAVE)
    r = upload(c, tok["admin"], f"{LEAVE}.html", as_html(corpus_text(LEAVE)), path="")
    assert r.status_code == 201, r.text
    assert len(r.json()["articles"]) == sum(1 for a in want.articles if a.ordinal)
    got = chat(c, "职工累计工作满10年不满20年的，年休假几天？")
    assert got["status"] == "answered" and got["citations"][0]["doc_id"] == LEAVE

    before = build_name(c)
    gone = c.post(f"{DOCS}/{LEAVE}/retire", headers=auth(tok["admin"]))
    assert gone.status_code == 200, gone.text
    assert not (corpus / f"{LEAVE}.html").exists()
    assert (corpus / gone.json()["retired_to"] / f"{LEAVE}.html").exists()  # kept aside
    assert build_name(c) != before
    after = chat(c, "职工累计工作满10年不满20年的，年休假几天？")
    assert LEAVE not in [x["doc_id"] for x in after["citations"]]
    assert c.post(f"{DOCS}/{LEAVE}/retire", headers=auth(tok["admin"])).status_code == 404


def test_supersede_marks_the_old_document(app: tuple[TestClient, dict[str, str], Path]
                                          ) -> None:
    c, tok, _ = app
    old, new = "unemployment-reg-1999", "cq-unemployment-reg-2011"
    r = c.post(f"{DOCS}/{old}/supersede", headers=auth(tok["admin"]), json={"by": new})
    assert r.status_code == 200, r.text
    rows = {row[0]: row for row in c.get(DOCS, headers=auth(tok["admin"])).json()["rows"]}
    assert f"superseded by {new}" in rows[old]
    assert c.post(f"{DOCS}/{old}/supersede", headers=auth(tok["admin"]),
                  json={"by": "nope"}).status_code == 404
    assert c.post(f"{DOCS}/{new}/retire", headers=auth(tok["admin"])).status_code == 409


@pytest.mark.parametrize("name,data,form,code,says", [
    ("gbk.txt", corpus_text("labor-law-2018").encode("gbk"), {"doc_id": "gbk-law"}, 422,
     "UTF-8"),
    ("notice.txt", "关于做好春节期间工作的通知\n各单位：请做好值班安排。\n".encode(), {}, 422,
     "articles"),
    ("copy.txt", corpus_text("yrsg-2025-23").encode(), {"doc_id": "yrsg-copy"}, 409, DOC_NO),
    ("yrsg-2025-23.txt", b"x", {}, 409, "已有"),
    ("scan.pdf", b"%PDF-1.4", {}, 422, "格式"),
    ("broken.docx", b"PK\x03\x04 not really a zip", {}, 422, "docx"),
    ("a.txt", "第一条 内容。".encode(), {"meta": "{not json"}, 422, "JSON"),
    ("a.txt", "第一条 内容。".encode(), {"meta": '{"owner": "me"}'}, 422, "owner"),
    ("a.txt", "第一条 内容。".encode(), {"meta": '{"status": "repealed"}'}, 422, "status"),
    ("a.txt", "第一条 内容。".encode(), {"doc_id": "中文编号"}, 422, "doc_id"),
    ("big.txt", b"x" * (20 * 1024 * 1024), {}, 413, "过大"),
])
def test_broken_uploads_are_refused_and_change_nothing(
        app: tuple[TestClient, dict[str, str], Path], name: str, data: bytes,
        form: dict[str, str], code: int, says: str) -> None:
    c, tok, corpus = app
    files, before = sorted(p.name for p in corpus.iterdir()), build_name(c)
    for path in ("/check", ""):
        r = upload(c, tok["admin"], name, data, path=path, **form)
        assert r.status_code == code, (path, r.text[:300])
        assert says in r.json()["detail"], r.json()["detail"]
    assert sorted(p.name for p in corpus.iterdir()) == files and build_name(c) == before


def test_changes_from_two_processes_do_not_interleave(tmp_path: Path) -> None:
    """Two desks on one corpus folder (as two workers would have) take turns: the second
    change starts its build only after the first has finished (flock on the folder)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in CORPUS_DIR.iterdir():
        if f.name.split(".")[0] == "yrsg-2025-23":
            shutil.copy(f, corpus / f.name)
    spans: list[tuple[float, float]] = []

    def slow_build() -> str:
        start = time.monotonic()
        time.sleep(0.4)
        spans.append((start, time.monotonic()))
        return "b"

    desks = [DocumentDesk(corpus, slow_build, 1 << 20) for _ in range(2)]
    texts = [corpus_text(d).encode() for d in (HOURS, LEAVE)]
    threads = [threading.Thread(target=desk.add, args=(Upload(f"{d}.md", t),))
               for desk, d, t in zip(desks, (HOURS, LEAVE), texts, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(spans) == 2
    (_, first_end), (second_start, _) = sorted(spans)
    assert first_end <= second_start, spans  # one after the other, never at once
    assert {HOURS, LEAVE} <= {f.doc_id for f in corpus_files(corpus)}
