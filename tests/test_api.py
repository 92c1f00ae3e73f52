"""The public HTTP API end to end: real model, real index, SQLite (and PostgreSQL when
the binaries exist), through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import CORPUS_DIR, DOC_ID
from conftest import chat as ask
from policyqa.api import create_app
from policyqa.api.app import open_store
from policyqa.chat import ChatService
from policyqa.service import PolicyQA
from policyqa.settings import Settings

DOC_NO = "渝人社规〔2025〕23号"


def _client(settings: Settings, qa: PolicyQA, **overrides: Any) -> TestClient:
    s = settings.model_copy(update=overrides)
    app = create_app(s, loader=lambda st: ChatService(qa, open_store(st), hot_ttl_s=0),
                     background=False, mount_ui=False)
    return TestClient(app)


@pytest.fixture(scope="module")
def client(settings: Settings, qa: PolicyQA, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("data")
    with _client(settings, qa, data_dir=data, rate_limit_per_minute=0) as c:
        yield c


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_chat_contract(client: TestClient) -> None:
    body = ask(client, "我们公司招了应届生，有补贴吗？", channel="web")
    assert set(body) == {"answer_id", "session_id", "status", "source", "answer_text",
                         "citations", "related_questions", "handoff", "latency_ms"}
    assert body["status"] == "answered" and body["source"] == "policy"
    c = body["citations"][0]
    assert c["doc_no"] == DOC_NO and c["article"] == 10 and c["label"] == "第十条"
    assert c["quote"] in c["quote"] and c["url"].startswith("https://")
    assert body["handoff"] == {"suggested": False, "hotline": "12333",
                               "text": body["handoff"]["text"]}
    assert body["related_questions"], "猜你想问 should offer answerable questions"
    for q in body["related_questions"]:
        assert ask(client, q, session_id=body["session_id"])["status"] == "answered"


def test_refusal_offers_handoff(client: TestClient) -> None:
    body = ask(client, "住房公积金怎么提取？")
    assert body["status"] == "refused" and body["source"] == "none"
    assert body["citations"] == [] and body["handoff"]["suggested"] is True
    assert "12333" in body["answer_text"]


def test_followup_in_session(client: TestClient) -> None:
    first = ask(client, "招用应届毕业生有补贴吗？")
    sid = first["session_id"]
    follow = ask(client, "那小微企业呢？", session_id=sid)
    assert follow["session_id"] == sid and follow["status"] == "answered"
    assert any("小微企业" in c["quote"] for c in follow["citations"])
    ref = ask(client, "具体是哪一条？", session_id=sid)
    assert ref["status"] == "answered" and ref["citations"][0]["article"] == 10


def test_new_session_each_time_without_id(client: TestClient) -> None:
    assert ask(client, "学徒培训有补贴吗")["session_id"] != ask(client, "学徒培训有补贴吗")[
        "session_id"]


def test_feedback_and_handoff_are_stored(client: TestClient) -> None:
    body = ask(client, "企业可以自主开展职业技能等级评价吗？")
    r = client.post("/api/v1/feedback", json={"answer_id": body["answer_id"], "rating": 1,
                                              "comment": "没看懂"})
    assert r.status_code == 200 and r.json()["is_bad"] is True
    store = client.app.state.policyqa.chat.store  # type: ignore[attr-defined]
    bad = store.bad_ratings(limit=50)
    assert any(b["question"] == "企业可以自主开展职业技能等级评价吗？" for b in bad)
    t = client.post("/api/v1/handoff", json={"session_id": body["session_id"], "reason": "人工"})
    assert t.status_code == 200
    ticket = t.json()
    assert ticket["ticket_id"] and "12333" in ticket["text"]
    assert ticket["transcript"][-1]["question"] == "企业可以自主开展职业技能等级评价吗？"


def test_hot_questions_rank_what_citizens_ask(settings: Settings, qa: PolicyQA,
                                              tmp_path: Path) -> None:
    """Ranked by the clause citizens ask about; shown only in approved (curated) words."""
    with _client(settings, qa, data_dir=tmp_path, rate_limit_per_minute=0) as client:
        _hot_questions_rank(client)


def _hot_questions_rank(client: TestClient) -> None:
    curated = client.get("/api/v1/hot-questions?limit=20").json()["questions"]
    asked = "高技能人才能拿年薪吗"
    for _ in range(3):
        cited = ask(client, asked)["citations"][0]
    hot = client.get("/api/v1/hot-questions?limit=20").json()["questions"]
    assert asked not in hot and set(hot) == set(curated)
    first = ask(client, hot[0])["citations"][0]
    assert (first["doc_id"], first["article"]) == (cited["doc_id"], cited["article"])
    refused = "住房公积金怎么提取？"
    for _ in range(3):
        ask(client, refused)
    assert refused not in client.get("/api/v1/hot-questions").json()["questions"]


def test_a_followup_moves_from_the_national_rule_to_chongqing(client: TestClient) -> None:
    """那在重庆呢？ after a national answer is answered from the Chongqing regulation."""
    docs = {d["doc_id"] for d in client.get("/api/v1/policies").json()}
    if "cq-unemployment-reg-2011" not in docs:
        pytest.skip("needs the Chongqing unemployment regulation")
    first = ask(client, "失业保险金最长能领多久？")
    assert first["status"] == "answered"
    follow = ask(client, "那在重庆呢？", session_id=first["session_id"])
    assert follow["status"] == "answered"
    assert follow["citations"][0]["doc_id"] == "cq-unemployment-reg-2011"


def test_every_curated_hot_question_is_answered(client: TestClient) -> None:
    """热点问题 shows a curated question only if the service answers it: all of them are,
    and they span the corpus, not one document."""
    from policyqa.lexicon import resource_lines

    answers = [ask(client, q) for q in resource_lines("hot_questions.txt")]
    assert all(a["status"] == "answered" for a in answers), [
        a["question"] for a in answers if a["status"] != "answered"]
    cited = {a["citations"][0]["doc_id"] for a in answers}
    assert len(cited) >= min(3, len(client.get("/api/v1/policies").json()))


def test_policies_and_article_text(client: TestClient) -> None:
    docs = {d["doc_id"]: d for d in client.get("/api/v1/policies").json()}
    assert set(docs) == {p.stem for p in CORPUS_DIR.iterdir() if p.suffix in (".txt", ".md")}
    seed = docs[DOC_ID]
    assert seed["doc_no"] == DOC_NO and len(seed["articles"]) == 14
    assert (seed["level"], seed["jurisdiction"], seed["status"]) == (
        "规范性文件", "重庆市", "in_force")
    art = client.get(f"/api/v1/policies/{DOC_ID}/articles/10").json()
    assert art["heading"] == "支持企业吸纳技能人才" and "一次性扩岗补助" in art["text"]
    assert [p["paragraph"] for p in art["paragraphs"]] == [1]  # one 款, no 项
    assert art["paragraphs"][0]["text"] == art["text"]
    by_no = client.get(f"/api/v1/policies/{DOC_NO}/articles/10")
    assert by_no.status_code == 200
    assert client.get(f"/api/v1/policies/{DOC_NO}/articles/99").status_code == 404
    assert client.get("/api/v1/policies/nope/articles/1").status_code == 404
    law = docs.get("labor-contract-law-2012")
    if law:  # a law: no 文号, its issuing body and dates, articles in their 章 and 节
        assert law["doc_no"] == "" and law["issuers"] == ["全国人民代表大会常务委员会"]
        assert {"kind": "amended", "date": "2012-12-28"} in law["dates"]
        a58 = client.get("/api/v1/policies/labor-contract-law-2012/articles/58").json()
        assert a58["chapter"] == "第五章 特别规定 第二节 劳务派遣"
        assert a58["label"] == "第五十八条" and a58["heading"] == ""
    if "working-days-notice-2008" in docs:  # printed 劳社部发[2008]3号; any brackets find it
        r = client.get("/api/v1/policies/劳社部发〔2008〕3号/articles/2").json()
        assert r["doc_id"] == "working-days-notice-2008"


@pytest.mark.parametrize(("payload", "status"), [
    ({"question": ""}, 422),
    ({"question": "   \n\t "}, 422),
    ({"question": "补贴" * 300}, 422),
    ({"question": 123}, 422),
    ({}, 422),
    ({"question": "学徒有补贴吗", "channel": "fax"}, 422),
    ({"question": "学徒有补贴吗", "session_id": "no-such-session"}, 404),
    ({"question": "<script>alert(1)</script>有补贴吗"}, 200),
    ({"question": "😀😀 补贴？？"}, 200),
    ({"question": "学徒\x00\x07有补贴吗"}, 200),
])
def test_bad_input_never_500(client: TestClient, payload: dict[str, Any], status: int) -> None:
    r = client.post("/api/v1/chat", json=payload)
    assert r.status_code == status, r.text
    if status == 422:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])  # Chinese message


def test_invalid_json_and_bad_feedback(client: TestClient) -> None:
    r = client.post("/api/v1/chat", content=b"{not json", headers={"content-type":
                                                                   "application/json"})
    assert r.status_code == 422
    for rating in (0, 6, "五"):
        assert client.post("/api/v1/feedback", json={"answer_id": "x", "rating": rating}
                           ).status_code == 422
    assert client.post("/api/v1/feedback", json={"answer_id": "unknown", "rating": 3}
                       ).status_code == 404
    assert client.post("/api/v1/handoff", json={"session_id": "unknown"}).status_code == 404


def test_rate_limit_429_with_retry_after(settings: Settings, qa: PolicyQA,
                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    with _client(settings, qa, data_dir=tmp_path_factory.mktemp("rl"),
                 rate_limit_per_minute=8) as c:
        codes = [c.post("/api/v1/chat", json={"question": "学徒有补贴吗"}) for _ in range(4)]
    assert codes[0].status_code == 200
    limited = [r for r in codes if r.status_code == 429]
    assert limited and int(limited[0].headers["Retry-After"]) >= 1


def test_not_ready_is_503(settings: Settings) -> None:
    import threading

    gate = threading.Event()

    def slow_loader(s: Settings) -> Any:
        gate.wait(10)
        raise RuntimeError("stopped")

    app = create_app(settings, loader=slow_loader, mount_ui=False)
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 503
        assert c.post("/api/v1/chat", json={"question": "学徒有补贴吗"}).status_code == 503
        gate.set()


def test_chat_feedback_handoff_on_postgresql(settings: Settings, qa: PolicyQA,
                                             pg_url: str) -> None:
    """The same contract against a real PostgreSQL server (started by tests/pg.py)."""
    with _client(settings, qa, database_url=pg_url, rate_limit_per_minute=0) as c:
        body = ask(c, "我们公司招了应届生，有补贴吗？", channel="wechat")
        assert body["status"] == "answered"
        follow = ask(c, "那小微企业呢？", session_id=body["session_id"])
        assert follow["session_id"] == body["session_id"]
        assert c.post("/api/v1/feedback", json={"answer_id": follow["answer_id"],
                                                "rating": 2}).status_code == 200
        ticket = c.post("/api/v1/handoff", json={"session_id": body["session_id"]}).json()
        assert [t["question"] for t in ticket["transcript"]] == [
            "我们公司招了应届生，有补贴吗？", "那小微企业呢？"]
        store = c.app.state.policyqa.chat.store  # type: ignore[attr-defined]
        assert store.engine.dialect.name == "postgresql"
        assert store.bad_ratings(limit=5)[0]["answer_id"] == follow["answer_id"]


def test_article_paragraphs_and_items_of_a_law() -> None:
    """查看原文 of a law's article: its 款 with their 项 (invented fixture law.md)."""
    from conftest import INVENTED_DIR
    from policyqa.api.routes import _paragraphs
    from policyqa.ingest.corpus import SourceFile, load_policy

    law = load_policy(SourceFile("law", INVENTED_DIR / "law.md", ""))
    out = [p.model_dump() for p in _paragraphs(law.article(3))]
    assert out == [{"paragraph": 1, "text": "有下列情形之一的，测试单位应当给予补助：",
                    "items": [{"item": 1, "text": "（一）完成理论测试的；"},
                              {"item": 2, "text": "（二）完成操作测试的。"}]}]
    assert [p.paragraph for p in _paragraphs(law.article(2))] == [1, 2]


def test_widget_shows_a_law_article_line_by_line() -> None:
    """查看原文 in the widget: one line per 款 and 项, the quote highlighted."""
    from types import SimpleNamespace

    from conftest import INVENTED_DIR
    from policyqa.ingest.corpus import SourceFile, load_policy
    from policyqa.ui_render import card_html, clause_text

    law = load_policy(SourceFile("law", INVENTED_DIR / "law.md", ""))
    svc = SimpleNamespace(qa=SimpleNamespace(index=SimpleNamespace(policies={"law": law})))
    cite = {"doc_id": "law", "doc_no": "", "doc_title": law.title, "article": 3,
            "label": "第三条第（二）项", "heading": "", "quote": "（二）完成操作测试的。",
            "url": "", "citation": f"《{law.title}》第三条第（二）项"}
    text = clause_text(svc, cite)
    assert text == ("有下列情形之一的，测试单位应当给予补助：\n（一）完成理论测试的；\n"
                    "（二）完成操作测试的。")
    html = card_html([cite], text)
    assert "<br><mark>（二）完成操作测试的。</mark>" in html and "第三条第（二）项" in html


def test_an_officer_reply_renders_as_text_in_beijing_time() -> None:
    from policyqa.ui_render import reply_html

    out = reply_html({"created_at": "2026-12-02T17:30:00+00:00", "body": "<img src=x>您好",
                      "citations": [{"quote": "<b>原文</b>", "citation": "《条例》第一条"}]})
    assert "2026-12-03 01:30" in out  # UTC 17:30 is 01:30 the next day in Beijing
    assert "<img" not in out and "&lt;img src=x&gt;您好" in out and "<b>" not in out
    assert "《条例》第一条" in out
