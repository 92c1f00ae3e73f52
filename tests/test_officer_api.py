"""The officer API end to end: real model and index, SQLite and PostgreSQL, TestClient.

Auth on every officer route, drafting from a clause and from the logs, the workflow
through to serving in /chat, import/export, stats, bad input.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import auth, chat
from pg import create_database, drop_database
from policyqa.api import create_app
from policyqa.api.app import open_store
from policyqa.chat import ChatService
from policyqa.faq.officers import add_officer, revoke_officer
from policyqa.faq.service import FaqService
from policyqa.service import PolicyQA
from policyqa.settings import Settings

DOC_NO = "渝人社规〔2025〕23号"
OFFICER = "/api/v1/officer"


def make_client(settings: Settings, qa: PolicyQA, **overrides: Any) -> TestClient:
    s = settings.model_copy(update={"rate_limit_per_minute": 0, **overrides})

    def load(st: Settings) -> tuple[ChatService, FaqService]:
        store = open_store(st)
        faq = FaqService(qa, store)
        faq.start()
        return ChatService(qa, store, faq.matcher), faq

    return TestClient(create_app(s, loader=load, background=False, mount_ui=False))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, settings: Settings, qa: PolicyQA,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """A client and a valid officer token, per database."""
    if request.param == "sqlite":
        with make_client(settings, qa, data_dir=tmp_path_factory.mktemp("db")) as c:
            yield c, add_officer(c.app.state.policyqa.chat.store, "li",  # type: ignore[attr-defined]
                                "reviewer")
        return
    server = request.getfixturevalue("pg_url")
    name = f"officer_{uuid.uuid4().hex[:8]}"
    url = create_database(server, name)
    with make_client(settings, qa, database_url=url) as c:
        yield c, add_officer(c.app.state.policyqa.chat.store, "li",  # type: ignore[attr-defined]
                                "reviewer")
    drop_database(server, name)


def reviewer(c: TestClient) -> str:
    """A second officer, a reviewer, to publish what "li" wrote (four eyes)."""
    state = c.app.state  # type: ignore[attr-defined]
    if not hasattr(state, "reviewer_token"):
        state.reviewer_token = add_officer(state.policyqa.chat.store, "rev2", "reviewer")
    return str(state.reviewer_token)


def officer_routes(c: TestClient) -> list[tuple[str, str]]:
    """Every officer operation the app publishes (from its OpenAPI document, so a new
    route is covered by the auth test without editing it)."""
    paths = c.app.openapi()["paths"]  # type: ignore[attr-defined]
    def concrete(path: str) -> str:
        return (path.replace("{entry_id}", "x").replace("{ticket_id}", "HT-x")
                .replace("{fid}", "1").replace("{doc_id}", "x").replace("{name}", "x"))
    return [(m.upper(), concrete(path)) for path, ops in paths.items()
            if path.startswith(OFFICER) for m in ops]


def test_auth_matrix_on_every_officer_route(env: tuple[TestClient, str],
                                            caplog: pytest.LogCaptureFixture) -> None:
    c, token = env
    routes = officer_routes(c)
    assert len(routes) >= 10
    store = c.app.state.policyqa.chat.store  # type: ignore[attr-defined]
    gone = f"gone{uuid.uuid4().hex[:6]}"
    revoked = add_officer(store, gone)
    revoke_officer(store, gone)
    bad_headers: list[dict[str, str]] = [
        {}, auth("pqa_not-a-real-token"), auth("garbage"), {"Authorization": f"Basic {token}"},
        {"Authorization": token}, auth(revoked)]
    caplog.set_level(logging.DEBUG)
    for method, path in routes:
        for h in bad_headers:
            r = c.request(method, path, headers=h, json={})
            assert r.status_code == 401, (method, path, h, r.status_code)
            assert r.headers.get("www-authenticate") == "Bearer"
        r = c.request(method, path, headers=auth(token), json={})
        assert r.status_code != 401, (method, path)
    assert c.get(f"{OFFICER}/me", headers=auth(token)).json() == {"name": "li", "role": "reviewer"}
    # public endpoints stay open
    assert c.get("/api/v1/hot-questions").status_code == 200
    assert token not in caplog.text and revoked not in caplog.text


def test_draft_from_clause_review_publish_serve(env: tuple[TestClient, str]) -> None:
    c, token = env
    r = c.post(f"{OFFICER}/faq/drafts", json={"doc_no": DOC_NO, "article": 10}, headers=auth(token))
    assert r.status_code == 201, r.text
    drafts = r.json()["created"]
    assert drafts, r.json()
    clause = c.get(f"/api/v1/policies/{DOC_NO}/articles/10").json()["text"]
    for d in drafts:
        assert d["status"] == "draft" and d["origin"] == "clause" and d["created_by"] == "li"
        assert 2 <= len(d["paraphrases"]) <= 5
        assert d["citations"] and all(x["quote"] in clause for x in d["citations"])
        got = chat(c, d["question"])  # before publishing: the clause itself answers
        assert got["status"] == "answered" and got["citations"][0]["article"] == 10
    d = drafts[0]
    bad = c.post(f"{OFFICER}/faq/{d['id']}/transition", json={"version": 1, "to": "published"},
                 headers=auth(token))
    assert bad.status_code == 422  # draft -> published skips review
    d = c.post(f"{OFFICER}/faq/{d['id']}/transition", json={"version": 1, "to": "in_review"},
               headers=auth(token)).json()
    own = c.post(f"{OFFICER}/faq/{d['id']}/transition", json={"version": 2, "to": "published"},
                 headers=auth(token))
    assert own.status_code == 403 and "四眼" in own.json()["detail"]  # li drafted it
    d = c.post(f"{OFFICER}/faq/{d['id']}/transition", json={"version": 2, "to": "published"},
               headers=auth(reviewer(c))).json()
    assert d["status"] == "published"
    served = chat(c, d["paraphrases"][0])
    assert served["source"] == "faq" and served["status"] == "answered"
    assert served["citations"][0]["article"] == 10 and served["citations"][0]["doc_no"] == DOC_NO
    assert all(x["quote"] in clause for x in served["citations"])
    assert all(chat(c, q)["status"] == "answered" for q in served["related_questions"])
    # stale version -> 409; current version -> retire; no longer served from the FAQ
    assert c.patch(f"{OFFICER}/faq/{d['id']}", json={"version": 1, "answer_text": "x"},
                   headers=auth(token)).status_code == 409
    d = c.post(f"{OFFICER}/faq/{d['id']}/transition", json={"version": 3, "to": "retired"},
               headers=auth(token)).json()
    assert chat(c, d["paraphrases"][0])["source"] == "policy"
    full = c.get(f"{OFFICER}/faq/{d['id']}", headers=auth(token)).json()
    assert [a["action"] for a in full["audit"]] == ["create", "to_in_review", "to_published",
                                                    "to_retired"]
    listed = c.get(f"{OFFICER}/faq", params={"status": "retired"}, headers=auth(token)).json()
    assert d["id"] in [e["id"] for e in listed["items"]]
    found = c.get(f"{OFFICER}/faq", params={"q": d["question"][:4]}, headers=auth(token)).json()
    assert found["total"] >= 1


def test_unrelated_question_is_not_taken_by_the_faq(env: tuple[TestClient, str]) -> None:
    c, token = env
    p = c.get(f"/api/v1/policies/{DOC_NO}/articles/10").json()
    quote = p["sentences"][1]
    e = c.post(f"{OFFICER}/faq", headers=auth(token), json={
        "question": "招应届毕业生的企业能领什么补助？", "paraphrases": ["招应届生有补贴吗"],
        "answer_text": quote,
        "citations": [{"doc_no": DOC_NO, "article": 10, "quote": quote}]}).json()
    for to, v, who in (("in_review", 1, token), ("published", 2, reviewer(c))):
        c.post(f"{OFFICER}/faq/{e['id']}/transition", json={"version": v, "to": to},
               headers=auth(who))
    assert chat(c, "招应届生有补贴吗？")["source"] == "faq"
    for q in ("职业技能等级认定结果互认吗？", "失业保险金能领几个月？"):
        assert chat(c, q)["source"] != "faq", q


def test_drafts_from_logs(env: tuple[TestClient, str]) -> None:
    c, token = env
    asked = ["个人所得税怎么退", "个税怎么退", "个人所得税怎么退"]  # no document covers it
    for q in asked:
        chat(c, q)
    bad = chat(c, "企业新型学徒制补贴怎么领")
    assert c.post("/api/v1/feedback", json={"answer_id": bad["answer_id"], "rating": 1}
                  ).status_code == 200
    r = c.post(f"{OFFICER}/faq/drafts", json={"source": "logs", "min_count": 2, "limit": 20},
               headers=auth(token))
    assert r.status_code == 201, r.text
    created = r.json()["created"]
    assert all(d["origin"] == "logs" and d["status"] == "draft" for d in created)
    texts = [" ".join([d["question"], *d["paraphrases"]]) for d in created]
    assert any("个人所得税" in t for t in texts), texts
    assert any("学徒" in t for t in texts), texts
    clauses = {}
    for d in created:
        if not d["citations"]:  # the policy does not cover it: an officer must decide
            assert d["evidence"]["needs_clause"] is True and d["answer_text"] == ""
            continue
        ref = (d["citations"][0]["doc_id"], d["citations"][0]["article"])
        clauses.setdefault(ref, c.get("/api/v1/policies/{}/articles/{}".format(*ref)).json()[
            "text"])
        assert all(x["quote"] in clauses[ref] for x in d["citations"])
        got = chat(c, d["question"])  # answered by its own clause
        assert got["status"] == "answered" and (
            got["citations"][0]["doc_id"], got["citations"][0]["article"]) == ref
    assert any(not d["citations"] for d in created)  # 个人所得税 is in no document


def test_export_import_round_trip(env: tuple[TestClient, str], settings: Settings, qa: PolicyQA,
                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    c, token = env
    c.post(f"{OFFICER}/faq/drafts", json={"doc_no": DOC_NO, "article": 5}, headers=auth(token))
    before = c.get(f"{OFFICER}/faq", params={"limit": 500}, headers=auth(token)).json()
    assert before["total"] >= 1
    keep = ("question", "paraphrases", "citations", "status")
    # An import never publishes: what was active arrives in review.
    landed = {"draft": "in_review", "in_review": "in_review", "published": "in_review"}
    want = sorted(tuple(str(landed.get(e[k], e[k]) if k == "status" else e[k]) for k in keep)
                  for e in before["items"])
    for fmt in ("json", "csv", "xlsx"):
        data = c.get(f"{OFFICER}/faq/export", params={"format": fmt}, headers=auth(token))
        assert data.status_code == 200
        if fmt == "csv":
            assert data.content.startswith(b"\xef\xbb\xbf")
        with make_client(settings, qa, data_dir=tmp_path_factory.mktemp(fmt)) as other:
            t2 = add_officer(other.app.state.policyqa.chat.store, "wang")  # type: ignore[attr-defined]
            r = other.post(f"{OFFICER}/faq/import", params={"format": fmt},
                           content=data.content, headers=auth(t2))
            assert r.status_code == 200, r.text
            got = other.get(f"{OFFICER}/faq", params={"limit": 500}, headers=auth(t2)).json()
            assert sorted(tuple(str(e[k]) for k in keep) for e in got["items"]) == want
            # importing the same file again: every row is a duplicate, nothing is added
            again = other.post(f"{OFFICER}/faq/import", params={"format": fmt},
                               content=data.content, headers=auth(t2))
            assert again.status_code == 422 and len(again.json()["errors"]) >= len(want)
            assert other.get(f"{OFFICER}/faq", headers=auth(t2)).json()["total"] == len(want)


def test_import_reports_rows_and_imports_nothing(env: tuple[TestClient, str]) -> None:
    c, token = env
    n0 = c.get(f"{OFFICER}/faq", headers=auth(token)).json()["total"]
    p = c.get(f"/api/v1/policies/{DOC_NO}/articles/3").json()
    good = {"question": "全新的问题一", "paraphrases": [], "answer_text": p["sentences"][0],
            "citations": [{"doc_no": DOC_NO, "article": 3, "quote": p["sentences"][0]}]}
    rows = [good,
            {**good, "question": "全新的问题二", "citations": [
                {"doc_no": DOC_NO, "article": 99, "quote": "x"}]},
            {**good, "question": "全新的问题三", "citations": [
                {"doc_no": DOC_NO, "article": 3, "quote": p["sentences"][0] + "（改）"}]},
            {**good}]
    r = c.post(f"{OFFICER}/faq/import", params={"format": "json"},
               content=json.dumps(rows, ensure_ascii=False).encode(), headers=auth(token))
    assert r.status_code == 422
    bad_rows = sorted({e["row"] for e in r.json()["errors"]})
    assert bad_rows == [2, 3, 4], r.json()
    assert c.get(f"{OFFICER}/faq", headers=auth(token)).json()["total"] == n0


def test_a_large_import_is_encoded_in_the_background_then_served(
        env: tuple[TestClient, str]) -> None:
    """More wordings than a request encodes itself: the import returns at once, the
    server's job poller encodes them (progress at /faq/vectors), and a publish of one of
    them is then served without encoding anything in the publish call."""
    import time

    c, token = env
    p = c.get("/api/v1/policies/labor-law-2018/articles/36").json()
    quote = p["sentences"][0]
    tag = uuid.uuid4().hex[:4]
    rows = [{"question": f"批量导入的问题{tag}第{i}条", "paraphrases": [f"导入{tag}第{i}问"],
             "answer_text": quote,
             "citations": [{"doc_id": "labor-law-2018", "article": 36, "quote": quote}]}
            for i in range(40)]
    r = c.post(f"{OFFICER}/faq/import", params={"format": "json"},
               content=json.dumps(rows, ensure_ascii=False).encode(), headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["vectors"]["state"] in ("pending", "running", "done")
    deadline = time.monotonic() + 120
    while (st := c.get(f"{OFFICER}/faq/vectors", headers=auth(token)).json())["state"] != "done":
        assert time.monotonic() < deadline, st
        time.sleep(0.5)
    assert st["done"] == st["total"] >= 80
    faq = c.app.state.policyqa.faq  # type: ignore[attr-defined]
    stored = faq.vectors.stored([w for row in rows for w in [row["question"],
                                                             *row["paraphrases"]]])
    assert len(stored) == 80
    entry = c.get(f"{OFFICER}/faq", params={"q": f"批量导入的问题{tag}第7条"},
                  headers=auth(token)).json()["items"][0]
    out = c.post(f"{OFFICER}/faq/{entry['id']}/transition",
                 json={"version": entry["version"], "to": "published"},
                 headers=auth(reviewer(c)))
    assert out.status_code == 200, out.text
    assert chat(c, f"导入{tag}第7问")["source"] == "faq"


def test_bad_input(env: tuple[TestClient, str]) -> None:
    c, token = env
    h = auth(token)
    cases = [
        ("post", f"{OFFICER}/faq/drafts", {"doc_no": DOC_NO, "article": 999}),
        ("post", f"{OFFICER}/faq/drafts", {"doc_no": "渝人社规〔2099〕9号", "article": 1}),
        ("post", f"{OFFICER}/faq/drafts", {}),
        ("post", f"{OFFICER}/faq", {"question": ""}),
        ("post", f"{OFFICER}/faq", {"question": "   "}),
        ("post", f"{OFFICER}/faq", {"question": "问" * 5000}),
        ("post", f"{OFFICER}/faq", {"question": "q", "paraphrases": ["p"] * 1000}),
        ("post", f"{OFFICER}/faq", {"question": "q", "citations": [
            {"doc_no": DOC_NO, "article": 10, "quote": "每人补贴一万元"}]}),
        ("post", f"{OFFICER}/faq", {"question": 3}),
    ]
    for method, path, body in cases:
        r = c.request(method.upper(), path, json=body, headers=h)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert r.json()["detail"]
    big = io.BytesIO(b"[" + b" " * 6_000_000 + b"]").getvalue()
    r = c.post(f"{OFFICER}/faq/import", content=big, headers=h)
    assert r.status_code == 413 and r.json()["detail"]  # refused before it is read
    assert c.get(f"{OFFICER}/faq/nope", headers=h).status_code == 404
    assert c.patch(f"{OFFICER}/faq/nope", json={"version": 1}, headers=h).status_code == 404


def test_stats(env: tuple[TestClient, str]) -> None:
    c, token = env
    refused = chat(c, "住房公积金每个月能取多少？")
    assert refused["status"] == "refused"
    answered = chat(c, "企业新型学徒制有补贴吗？")
    c.post("/api/v1/feedback", json={"answer_id": answered["answer_id"], "rating": 2})
    s = c.get(f"{OFFICER}/stats", headers=auth(token)).json()
    t = s["totals"]
    assert s["refusal_rate"] == pytest.approx(t["refused"] / t["turns"], abs=1e-4)
    assert sum(d["questions"] for d in s["questions_per_day"]) == t["turns"]
    assert answered["answer_id"] in [b["answer_id"] for b in s["bad_ratings"]]
    assert "住房公积金每个月能取多少？" in [u["question"] for u in s["top_unanswered"]]
    assert set(s["faq"]) == {"by_status", "stale", "serving", "vectors"}
    assert s["faq"]["vectors"]["state"] in ("pending", "running", "done")


def test_parallel_officers_over_http(env: tuple[TestClient, str]) -> None:
    """Several officers edit the same entry at once through the API: one wins, the others
    get 409, and the entry holds exactly the winner's text (no lost or mixed write)."""
    from concurrent.futures import ThreadPoolExecutor

    c, token = env
    store = c.app.state.policyqa.chat.store  # type: ignore[attr-defined]
    tokens = [add_officer(store, f"par{uuid.uuid4().hex[:6]}") for _ in range(6)]
    e = c.post(f"{OFFICER}/faq", headers=auth(token),
               json={"question": f"并发测试{uuid.uuid4().hex[:6]}"}).json()

    def edit(i: int) -> tuple[int, int]:
        r = c.patch(f"{OFFICER}/faq/{e['id']}", headers=auth(tokens[i]),
                    json={"version": 1, "answer_text": f"第{i}位"})
        return i, r.status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(edit, range(6)))
    winners = [i for i, code in codes if code == 200]
    assert len(winners) == 1 and sorted(code for _, code in codes) == [200] + [409] * 5
    final = c.get(f"{OFFICER}/faq/{e['id']}", headers=auth(token)).json()
    assert final["version"] == 2 and final["answer_text"] == f"第{winners[0]}位"
    assert [a["action"] for a in final["audit"]] == ["create", "edit"]
