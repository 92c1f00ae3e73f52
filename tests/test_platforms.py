"""The platform endpoints for real: Dify's external knowledge API (POST /retrieval) and the
OpenAI chat shape, through the official ``openai`` client (streaming included), on the
real model, index and corpus; their keys, bad keys and bad input (never a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from fastapi.testclient import TestClient

from conftest import corpus_text
from policyqa.api import create_app
from policyqa.api.app import open_store
from policyqa.chat import ChatService
from policyqa.platforms import knowledge
from policyqa.platforms.keys import add_key, revoke_key
from policyqa.service import PolicyQA
from policyqa.settings import Settings

ASKED = "公司不跟我签劳动合同，能要双倍工资吗？"


@pytest.fixture(scope="module")
def env(settings: Settings, qa: PolicyQA, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[TestClient, str]]:
    s = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("data"),
                                    "rate_limit_per_minute": 0})
    store = open_store(s)
    key = add_key(store, "dify-test")
    app = create_app(s, loader=lambda st: ChatService(qa, store, hot_ttl_s=0),
                     background=False, mount_ui=False)
    with TestClient(app) as c:
        yield c, key


def _retrieve(c: TestClient, key: str | None, **body: Any) -> Any:
    payload = {"knowledge_id": "policyqa", "query": ASKED,
               "retrieval_setting": {"top_k": 3, "score_threshold": 0.0}, **body}
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return c.post("/retrieval", json=payload, headers=headers)


# ---- Dify ------------------------------------------------------------------------------

def test_retrieval_returns_cited_verbatim_clauses(env: tuple[TestClient, str],
                                                  qa: PolicyQA) -> None:
    c, key = env
    r = _retrieve(c, key)
    assert r.status_code == 200, r.text
    recs = r.json()["records"]
    assert 1 <= len(recs) <= 3
    for rec in recs:
        meta = rec["metadata"]
        assert 0.0 <= rec["score"] <= 1.0 and isinstance(meta, dict)
        text = corpus_text(meta["doc_id"])
        assert all(line in text for line in rec["content"].splitlines())
        assert meta["quote"] in rec["content"] and meta["citation"] == rec["title"]
        assert meta["chunk_id"].startswith(f"{meta['doc_id']}/a{meta['article']}")
    ans = qa.ask(ASKED)  # the same clause a citizen is answered from comes first
    first = recs[0]["metadata"]
    assert (first["doc_id"], first["article"]) == (ans.citations[0].doc_id,
                                                    ans.citations[0].article)


def test_retrieval_a_part_of_the_corpus(env: tuple[TestClient, str], qa: PolicyQA) -> None:
    c, key = env
    pols = qa.index.policies
    first = _retrieve(c, key).json()["records"][0]["metadata"]
    other = next(d for d in pols if d != first["doc_id"])
    assert all(r["metadata"]["doc_id"] == first["doc_id"] for r in _retrieve(
        c, key, knowledge_id=f"doc:{first['doc_id']}").json()["records"])
    assert _retrieve(c, key, knowledge_id=f"doc:{other}").status_code == 200
    place = first["jurisdiction"]
    recs = _retrieve(c, key, knowledge_id=f"jurisdiction:{place}").json()["records"]
    assert recs and all(r["metadata"]["jurisdiction"] == place for r in recs)
    for kid in knowledge.knowledge_ids(pols):
        assert knowledge.select_docs(kid, pols)


def test_retrieval_metadata_conditions(env: tuple[TestClient, str]) -> None:
    c, key = env
    base = _retrieve(c, key, retrieval_setting={"top_k": 10, "score_threshold": 0})
    doc = base.json()["records"][0]["metadata"]["doc_id"]

    def cond(*conds: dict[str, Any], op: str = "and") -> list[dict[str, Any]]:
        return _retrieve(c, key, retrieval_setting={"top_k": 10, "score_threshold": 0},
                         metadata_condition={"logical_operator": op, "conditions": list(conds)}
                         ).json()["records"]

    only = cond({"name": "doc_id", "comparison_operator": "is", "value": doc})
    assert only and {r["metadata"]["doc_id"] for r in only} == {doc}
    assert all(r["metadata"]["doc_id"] != doc for r in cond(
        {"name": "doc_id", "comparison_operator": "is not", "value": doc}))
    assert cond({"name": "doc_id", "comparison_operator": "in", "value": ["nothing", doc]})
    assert all(r["metadata"]["article"] > 10 for r in cond(
        {"name": "article", "comparison_operator": ">", "value": 10}))
    assert cond({"name": "date", "comparison_operator": "before", "value": "1900-01-01"}) == []
    either = cond({"name": "doc_id", "comparison_operator": "is", "value": "nothing"},
                  {"name": "status", "comparison_operator": "is", "value": "in_force"}, op="or")
    assert either and all(r["metadata"]["status"] == "in_force" for r in either)


def test_retrieval_thresholds_and_uncovered_questions(env: tuple[TestClient, str]) -> None:
    c, key = env
    assert _retrieve(c, key, retrieval_setting={"top_k": 3, "score_threshold": 1.0}
                     ).json() == {"records": []}
    assert _retrieve(c, key, query="今天重庆的天气怎么样？").json() == {"records": []}


@pytest.mark.parametrize(("header", "code"), [
    (None, 1001), ("Token abc", 1001), ("Bearer", 1001), ("Bearer pqk_unknown", 1002),
    ("Bearer pqa_an-officer-token", 1002)])
def test_retrieval_bad_keys(env: tuple[TestClient, str], header: str | None, code: int
                            ) -> None:
    c, _ = env
    r = c.post("/retrieval", json={"knowledge_id": "policyqa", "query": ASKED,
                                   "retrieval_setting": {"top_k": 1, "score_threshold": 0}},
               headers={"Authorization": header} if header else {})
    assert r.status_code == 403 and r.json()["error_code"] == code, r.text


def test_retrieval_revoked_key_and_unknown_knowledge(env: tuple[TestClient, str],
                                                     settings: Settings) -> None:
    c, key = env
    r = _retrieve(c, key, knowledge_id="doc:no-such-document")
    assert r.status_code == 404 and r.json()["error_code"] == 2001
    store = c.app.state.policyqa.chat.store  # type: ignore[attr-defined]
    other = add_key(store, "to-revoke")
    assert _retrieve(c, other).status_code == 200
    revoke_key(store, "to-revoke")
    assert _retrieve(c, other).json()["error_code"] == 1002


@pytest.mark.parametrize("body", [
    {}, {"knowledge_id": "policyqa", "query": ASKED},
    {"knowledge_id": "policyqa", "query": "", "retrieval_setting": {"top_k": 1}},
    {"knowledge_id": "policyqa", "query": ASKED, "retrieval_setting": {"top_k": 0}},
    {"knowledge_id": "policyqa", "query": ASKED, "retrieval_setting": {"top_k": 2,
                                                                       "score_threshold": 2}},
    {"knowledge_id": "policyqa", "query": ASKED, "retrieval_setting": {"top_k": 2},
     "metadata_condition": {"conditions": [{"name": "doc_id", "comparison_operator": "~"}]}},
    {"knowledge_id": ["x"], "query": ASKED, "retrieval_setting": {"top_k": 2}},
])
def test_retrieval_bad_input_is_a_422_in_difys_shape(env: tuple[TestClient, str],
                                                     body: dict[str, Any]) -> None:
    c, key = env
    r = c.post("/retrieval", json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 422 and set(r.json()) == {"error_code", "error_msg"}, r.text


# ---- OpenAI ------------------------------------------------------------------------------

def _client(c: TestClient, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=f"{c.base_url}/v1", http_client=c,
                         max_retries=0)


def test_openai_client_models_and_a_cited_answer(env: tuple[TestClient, str],
                                                 qa: PolicyQA) -> None:
    c, key = env
    client = _client(c, key)
    assert [m.id for m in client.models.list()] == ["policyqa"]
    done = client.chat.completions.create(
        model="policyqa", messages=[{"role": "system", "content": "你是12333助手"},
                                    {"role": "user", "content": ASKED}])
    ans = qa.ask(ASKED)
    text = done.choices[0].message.content or ""
    assert done.choices[0].finish_reason == "stop" and done.choices[0].message.role == "assistant"
    assert ans.citations[0].quote in text and ans.citations[0].text in text
    extra = done.model_extra["policyqa"]  # type: ignore[index]
    assert extra["status"] == "answered" and extra["citations"][0]["quote"] == (
        ans.citations[0].quote)


def test_openai_client_streams_the_same_answer(env: tuple[TestClient, str]) -> None:
    c, key = env
    client = _client(c, key)
    whole = client.chat.completions.create(model="policyqa",
                                           messages=[{"role": "user", "content": ASKED}])
    chunks = list(client.chat.completions.create(
        model="policyqa", messages=[{"role": "user", "content": ASKED}], stream=True))
    assert len(chunks) > 2 and chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(ch.choices[0].delta.content or "" for ch in chunks)
    assert streamed == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["policyqa"]["citations"]  # type: ignore[index]


def test_openai_follow_up_uses_the_earlier_messages(env: tuple[TestClient, str],
                                                    qa: PolicyQA) -> None:
    """具体是哪一条？ alone is nothing to answer; after a question it cites that answer."""
    c, key = env
    client = _client(c, key)
    first = client.chat.completions.create(model="policyqa",
                                           messages=[{"role": "user", "content": ASKED}])
    follow = client.chat.completions.create(model="policyqa", messages=[
        {"role": "user", "content": ASKED},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": [{"type": "text", "text": "具体是哪一条？"}]}])
    cited = follow.model_extra["policyqa"]["citations"]  # type: ignore[index]
    assert cited and cited[0]["article"] == qa.ask(ASKED).citations[0].article
    alone = client.chat.completions.create(model="policyqa", messages=[
        {"role": "user", "content": "具体是哪一条？"}])
    assert alone.model_extra["policyqa"]["citations"] != cited  # type: ignore[index]


def test_openai_errors(env: tuple[TestClient, str]) -> None:
    c, key = env
    with pytest.raises(openai.AuthenticationError) as bad:
        _client(c, "pqk_wrong").models.list()
    assert bad.value.status_code == 401 and bad.value.code == "invalid_api_key"
    with pytest.raises(openai.NotFoundError) as nf:
        _client(c, key).chat.completions.create(model="gpt-4o",
                                                messages=[{"role": "user", "content": ASKED}])
    assert nf.value.code == "model_not_found"
    with pytest.raises(openai.UnprocessableEntityError):
        _client(c, key).chat.completions.create(
            model="policyqa", messages=[{"role": "system", "content": "只有系统消息"}])


@pytest.mark.parametrize("body", [
    {}, {"model": "policyqa"}, {"model": "policyqa", "messages": []},
    {"model": "policyqa", "messages": [{"role": "robot", "content": "x"}]},
    {"model": "policyqa", "messages": [{"role": "user", "content": 5}]},
    {"model": "policyqa", "messages": [{"role": "user", "content": "x" * 5000}]},
    {"model": "policyqa", "messages": "你好"},
])
def test_openai_bad_input_never_500(env: tuple[TestClient, str], body: dict[str, Any]) -> None:
    c, key = env
    r = c.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 422 and set(r.json()["error"]) >= {"message", "type", "code"}, r.text


def test_platform_routes_are_in_openapi_with_their_key(env: tuple[TestClient, str]) -> None:
    c, _ = env
    spec = c.get("/openapi.json").json()
    for path, method in (("/retrieval", "post"), ("/v1/models", "get"),
                         ("/v1/chat/completions", "post")):
        op = spec["paths"][path][method]
        assert op["security"] == [{"PlatformKey": []}], path
    assert "PlatformKey" in spec["components"]["securitySchemes"]
