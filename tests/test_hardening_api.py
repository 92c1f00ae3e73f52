"""The red-team findings on the public and officer API, each as a test, on SQLite and
PostgreSQL: personal data never stored or shown, only approved wording on the public
lists, no 500 from odd input, bounded bodies, imports that cannot skip review.

The personal data below is invented (the red-team's own strings)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from conftest import auth, chat
from pg import create_database, drop_database
from policyqa.api import create_app
from policyqa.api.app import open_store
from policyqa.chat import ChatService
from policyqa.faq.officers import add_officer
from policyqa.faq.service import FaqService
from policyqa.service import PolicyQA
from policyqa.settings import Settings

OFFICER = "/api/v1/officer"
PII_QUESTION = ("我叫张三丰，身份证号500101199003071234，手机13812345678，"
                "银行卡6222021234567890123，我们公司招了应届生，有补贴吗？")
SECRETS = ("张三丰", "500101199003071234", "13812345678", "6222021234567890123",
           "zsf@example.com")
ADVERT = "一次性扩岗补助发多少钱？领取请加微信 fake-12333 或拨打 17000000000"
CONTROL = "\x01\x02\x03\x1b[31m补贴\x07"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, settings: Settings, qa: PolicyQA,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """A client (rate limit off, 热点问题 re-counted on every call) and an officer token."""
    def load(st: Settings) -> tuple[ChatService, FaqService]:
        store = open_store(st)
        faq = FaqService(qa, store)
        faq.start()
        return ChatService(qa, store, faq.matcher, hot_ttl_s=0), faq

    over: dict[str, Any] = {"rate_limit_per_minute": 0}
    name = ""
    if request.param == "sqlite":
        over["data_dir"] = tmp_path_factory.mktemp("db")
    else:
        server = request.getfixturevalue("pg_url")
        name = f"harden_{uuid.uuid4().hex[:8]}"
        over["database_url"] = create_database(server, name)
    app = create_app(settings.model_copy(update=over), loader=load, background=False,
                     mount_ui=False)
    with TestClient(app) as c:
        yield c, add_officer(app.state.policyqa.chat.store, "li")
    if name:
        drop_database(request.getfixturevalue("pg_url"), name)


def database_text(c: TestClient) -> str:
    """Every citizen-data column of the database, as one text."""
    engine = c.app.state.policyqa.chat.store.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = [*conn.execute(text("SELECT question, normalized, answer_text FROM turns")),
                *conn.execute(text("SELECT comment FROM feedback")),
                *conn.execute(text("SELECT reason, transcript FROM handoff_tickets")),
                *conn.execute(text("SELECT question, paraphrases FROM faq_entries"))]
    return json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False)


def test_personal_data_is_masked_before_it_is_stored(env: tuple[TestClient, str]) -> None:
    c, token = env
    for _ in range(3):
        body = chat(c, PII_QUESTION)
    assert body["status"] == "answered"  # answered from the question as asked
    fb = c.post("/api/v1/feedback", json={"answer_id": body["answer_id"], "rating": 1,
                                         "comment": "我是张三丰，电话13812345678，zsf@example.com"})
    assert fb.status_code == 200
    ho = c.post("/api/v1/handoff", json={"session_id": body["session_id"],
                                        "reason": "请打我手机13812345678"})
    assert ho.status_code == 200
    assert not any(s in json.dumps(ho.json(), ensure_ascii=False) for s in SECRETS)
    stored = database_text(c)
    assert "〔身份证号〕" in stored and "〔手机号〕" in stored and "〔银行卡号〕" in stored
    assert not any(s in stored for s in SECRETS), stored
    stats = c.get(f"{OFFICER}/stats", headers=auth(token)).text
    assert not any(s in stats for s in SECRETS)
    drafts = c.post(f"{OFFICER}/faq/drafts", json={"source": "logs", "min_count": 2},
                    headers=auth(token))
    assert drafts.status_code == 201 and drafts.json()["created"], drafts.text
    assert not any(s in drafts.text for s in SECRETS)


def test_public_lists_show_only_approved_wording(env: tuple[TestClient, str]) -> None:
    c, token = env
    before = set(c.get("/api/v1/hot-questions?limit=20").json()["questions"])
    for q in (PII_QUESTION, ADVERT, CONTROL):
        for _ in range(3):
            r = c.post("/api/v1/chat", json={"question": q})
            assert r.status_code in (200, 422)
    hot = c.get("/api/v1/hot-questions?limit=20").json()["questions"]
    assert set(hot) == before  # the curated list (and published entries) only
    shown = json.dumps(hot, ensure_ascii=False)
    assert "微信" not in shown and "17000000000" not in shown and "\x1b" not in shown
    assert not any(s in shown for s in SECRETS)
    related = chat(c, PII_QUESTION)["related_questions"]
    assert not any(s in json.dumps(related, ensure_ascii=False) for s in SECRETS)
    # A published 问答库 question is an approved wording: it may be shown.
    entry = c.post(f"{OFFICER}/faq", headers=auth(token), json={
        "question": "扩岗补助找哪个部门申请？", "answer_text": "按规定申请。",
        "citations": [{"doc_id": "yrsg-2025-23", "article": 10,
                       "quote": "按规定给予一次性扩岗补助"}]}).json()
    store = c.app.state.policyqa.chat.store  # type: ignore[attr-defined]
    other = add_officer(store, "wang", "reviewer")
    for to, who in (("in_review", token), ("published", other)):  # four eyes
        entry = c.post(f"{OFFICER}/faq/{entry['id']}/transition", headers=auth(who),
                       json={"version": entry["version"], "to": to}).json()
    assert "扩岗补助找哪个部门申请？" in c.get("/api/v1/hot-questions?limit=20").json()["questions"]


@pytest.mark.parametrize("field", ["question", "paraphrases", "answer_text"])
def test_entries_with_personal_data_are_refused(env: tuple[TestClient, str], field: str
                                                ) -> None:
    c, token = env
    fields: dict[str, Any] = {"question": f"我叫张三丰能领补贴吗{uuid.uuid4().hex[:4]}？"
                              if field == "question" else f"补贴{uuid.uuid4().hex[:6]}？"}
    if field == "paraphrases":
        fields["paraphrases"] = ["手机13812345678的人能领吗？"]
    if field == "answer_text":
        fields["answer_text"] = "请联系身份证号500101199003071234的本人"
    r = c.post(f"{OFFICER}/faq", headers=auth(token), json=fields)
    assert r.status_code == 422 and "个人信息" in r.json()["detail"]
    assert not any(s in r.text for s in SECRETS)


def test_an_import_with_personal_data_is_refused_row_by_row(env: tuple[TestClient, str]
                                                            ) -> None:
    c, token = env
    rows = [{"question": "扩岗补助怎么领？"},
            {"question": "手机13812345678能领扩岗补助吗？"},
            {"question": "补贴找谁？", "answer_text": "找身份证号500101199003071234的人"}]
    r = c.post(f"{OFFICER}/faq/import?format=json",
               content=json.dumps(rows, ensure_ascii=False).encode(), headers=auth(token))
    assert r.status_code == 422
    bad = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert bad == {(2, "question"), (3, "answer_text")}
    assert not any(s in r.text for s in SECRETS)


SURROGATE = '"补贴\\ud800"'  # JSON text: a lone surrogate escaped, as a client may send it


@pytest.mark.parametrize("path, body", [
    ("/api/v1/chat", f'{{"question": {SURROGATE}}}'),
    ("/api/v1/chat", f'{{"question": "补贴", "session_id": {SURROGATE}}}'),
    ("/api/v1/feedback", f'{{"answer_id": {SURROGATE}, "rating": 3}}'),
    ("/api/v1/handoff", f'{{"session_id": {SURROGATE}}}'),
    ("/api/v1/feedback", f'{{"answer_id": "x", "rating": 1, "comment": {SURROGATE}}}'),
])
def test_lone_surrogates_are_422(env: tuple[TestClient, str], path: str, body: str) -> None:
    c, _ = env
    r = c.post(path, content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] and r.headers["content-type"].startswith("application/json")
    assert c.get("/healthz").status_code == 200


@pytest.mark.parametrize("path", [
    "/faq?offset=9223372036854775808", "/faq?limit=99999999999999999999",
    "/stats?days=10000000000000000000000",
])
def test_huge_numbers_in_queries_are_422(env: tuple[TestClient, str], path: str) -> None:
    c, token = env
    assert c.get(OFFICER + path, headers=auth(token)).status_code == 422


def test_huge_version_is_422(env: tuple[TestClient, str]) -> None:
    c, token = env
    r = c.patch(f"{OFFICER}/faq/x", headers=auth(token),
                json={"version": 9223372036854775808, "question": "补贴？"})
    assert r.status_code == 422


@pytest.mark.parametrize("raw", [
    b'{"question": "\xff\xfe\xfa"}',  # not UTF-8
    b"[" * 5000 + b"]" * 5000,  # nested too deep
    b'{"question": 1' + b"0" * 5000 + b"}",  # a number literal past Python's limit
    b'{"question": "a"',  # truncated
    b"question=a",
])
def test_malformed_json_is_422_in_chinese(env: tuple[TestClient, str], raw: bytes) -> None:
    c, _ = env
    r = c.post("/api/v1/chat", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "请" in r.json()["detail"]


def test_bodies_are_bounded_before_parsing(env: tuple[TestClient, str]) -> None:
    c, token = env
    t0 = time.perf_counter()
    r = c.post("/api/v1/chat", json={"question": "补贴" * 500_000})  # ~3 MB
    assert r.status_code == 413 and "过大" in r.json()["detail"]
    assert time.perf_counter() - t0 < 1.0

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b'{"question": "'
        for _ in range(100):
            yield "补贴".encode() * 1000
        yield b'"}'

    r = c.post("/api/v1/chat", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    long_ok = c.post("/api/v1/chat", json={"question": "补" * 501})  # small body, too long
    assert long_ok.status_code == 422
    big_import = json.dumps([{"question": f"问题{i}？", "answer_text": "答" * 200}
                             for i in range(300)], ensure_ascii=False).encode()
    assert 16_384 < len(big_import) < 5_000_000
    r = c.post(f"{OFFICER}/faq/import?format=json", content=big_import, headers=auth(token))
    assert r.status_code != 413  # officers' imports get their own, larger limit


def test_imports_land_in_review_with_an_import_audit(env: tuple[TestClient, str]) -> None:
    c, token = env
    q = f"导入即发布的问题{uuid.uuid4().hex[:6]}？"
    rows = [{"question": q, "answer_text": "按规定给予。", "status": "published",
             "citations": [{"doc_id": "yrsg-2025-23", "article": 10,
                            "quote": "按规定给予一次性扩岗补助"}]}]
    r = c.post(f"{OFFICER}/faq/import?format=json&filename=faq-2026.json",
               content=json.dumps(rows, ensure_ascii=False).encode(), headers=auth(token))
    assert r.status_code == 200, r.text
    entry_id = r.json()["ids"][0]
    entry = c.get(f"{OFFICER}/faq/{entry_id}", headers=auth(token)).json()
    assert entry["status"] == "in_review"
    assert [(a["action"], a["officer"]) for a in entry["audit"]] == [("import", "li")]
    assert "faq-2026.json" in json.dumps(entry["audit"], ensure_ascii=False)
    assert chat(c, q)["source"] != "faq"  # not served until a reviewer publishes it


def test_retention_purges_old_citizen_data(env: tuple[TestClient, str]) -> None:
    from policyqa.desk.tickets import TicketRepo
    from policyqa.roles import Actor
    from policyqa.store.retention import purge

    c, _ = env
    store = c.app.state.policyqa.chat.store  # type: ignore[attr-defined]
    old, new = chat(c, "企业新型学徒制有补贴吗？"), chat(c, "企业新型学徒制有补贴吗？")
    c.post("/api/v1/feedback", json={"answer_id": old["answer_id"], "rating": 1})
    ticket = c.post("/api/v1/handoff", json={"session_id": old["session_id"]}).json()
    TicketRepo(store).reply(ticket["ticket_id"], Actor("li", "editor"), "已回复")
    with store.engine.begin() as conn:  # the first conversation happened 200 days ago
        for table, col, key in (("turns", "session_id", "session_id"),
                                ("handoff_tickets", "session_id", "session_id"),
                                ("chat_sessions", "id", "session_id")):
            stamp = "last_active_at" if table == "chat_sessions" else "created_at"
            conn.execute(text(f"UPDATE {table} SET {stamp} = :t WHERE {col} = :s"),
                         {"t": "2020-01-01 00:00:00", "s": old[key]})
    assert purge(store, 180) == {"feedback": 1, "followups": 1, "turns": 1, "ticket_replies": 1,
                                 "handoffs": 1, "sessions": 1}  # the 差评 opened a 回访 item
    with pytest.raises(Exception, match="会话不存在"):
        store.transcript(old["session_id"])
    assert [t["answer_id"] for t in store.transcript(new["session_id"])] == [new["answer_id"]]
    assert set(purge(store, 180).values()) == {0}
