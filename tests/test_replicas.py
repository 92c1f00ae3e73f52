"""Two server processes on one database (two replicas, or two workers): what one process
writes, the other serves. A 问答库 publish on one is answered from the 问答库 by the other
within 2 s (each polls the 问答库's fingerprint); a conversation whose turns land on
different processes keeps its context; a 差评 given on one is on the other's desk."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from live import Server, call, live_server
from pg import create_database, drop_database
from policyqa.faq.officers import add_officer
from policyqa.settings import Settings
from policyqa.store import Store

pytestmark = pytest.mark.slow
QUOTE_DOC, QUOTE_ART = "labor-law-2018", 44
QUESTION = "休息日加班工资怎么算"  # a wording of the 问答库 entry, asked as written


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pair(request: pytest.FixtureRequest, settings: Settings,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server, str]]:
    tmp = tmp_path_factory.mktemp("replicas")
    env: dict[str, str] = {"POLICYQA_DATA_DIR": str(tmp / "shared"),
                           "POLICYQA_RATE_LIMIT_PER_MINUTE": "0"}  # the default 1 s 问答库 poll
    server = name = None
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_url")
        name = f"rep_{uuid.uuid4().hex[:8]}"
        env["POLICYQA_DATABASE_URL"] = create_database(server, name)
    url = env.get("POLICYQA_DATABASE_URL") or f"sqlite:///{tmp / 'shared' / 'policyqa.db'}"
    for sub in ("a", "b"):
        (tmp / sub).mkdir()
    with ExitStack() as stack:
        a = stack.enter_context(live_server(settings, tmp / "a", **env))
        b = stack.enter_context(live_server(settings, tmp / "b", **env))
        yield a, b, url
    if server and name:
        drop_database(server, name)


def tokens(url: str) -> tuple[str, str]:
    store = Store.open(url)
    try:
        tag = uuid.uuid4().hex[:6]
        return add_officer(store, f"ed{tag}", "editor"), add_officer(store, f"rv{tag}", "reviewer")
    finally:
        store.close()


def ask(srv: Server, question: str, **kw: Any) -> dict[str, Any]:
    status, body = call(srv, "POST", "/api/v1/chat", {"question": question, **kw})
    assert status == 200, body
    return dict(body)


def test_a_publish_on_one_process_is_served_by_the_other(pair: tuple[Server, Server, str]
                                                         ) -> None:
    a, b, url = pair
    editor, reviewer = tokens(url)
    art = a.get_json(f"/api/v1/policies/{QUOTE_DOC}/articles/{QUOTE_ART}")
    quote = next(s for s in art["sentences"] if "休息日" in s)
    status, e = call(a, "POST", "/api/v1/officer/faq", {
        "question": "休息日加班，加班费怎么算？", "paraphrases": [QUESTION],
        "answer_text": quote, "citations": [{"doc_id": QUOTE_DOC, "article": QUOTE_ART,
                                             "quote": quote}]}, editor)
    assert status == 201, e
    for to, who in (("in_review", editor), ("published", reviewer)):
        status, e = call(a, "POST", f"/api/v1/officer/faq/{e['id']}/transition",
                         {"version": e["version"], "to": to}, who)
        assert status == 200, e
    assert ask(a, QUESTION)["source"] == "faq"  # served where it was published
    published = time.monotonic()
    while ask(b, QUESTION)["source"] != "faq":
        assert time.monotonic() - published < 2.0, "not served by the other process in 2 s"
        time.sleep(0.1)
    # and retired: the other process stops serving it as quickly
    status, e = call(a, "POST", f"/api/v1/officer/faq/{e['id']}/transition",
                     {"version": e["version"], "to": "retired"}, reviewer)
    assert status == 200, e
    retired = time.monotonic()
    while ask(b, QUESTION)["source"] == "faq":
        assert time.monotonic() - retired < 2.0
        time.sleep(0.1)


def test_a_conversation_across_processes(pair: tuple[Server, Server, str]) -> None:
    a, b, url = pair
    first = ask(a, "失业保险金能领多长时间？")
    assert first["status"] == "answered"
    follow = ask(b, "那在重庆呢？", session_id=first["session_id"])  # context from process a
    assert follow["status"] == "answered"
    assert follow["citations"][0]["doc_id"] == "cq-unemployment-reg-2011"
    status, _ = call(b, "POST", "/api/v1/feedback", {"answer_id": first["answer_id"],
                                                     "rating": 1})
    assert status == 200
    status, ticket = call(a, "POST", "/api/v1/handoff", {"session_id": first["session_id"]})
    assert status == 200
    editor, _ = tokens(url)
    status, items = call(b, "GET", "/api/v1/officer/followups", None, editor)
    assert status == 200 and first["answer_id"] in [f["answer_id"] for f in items["items"]]
    status, t = call(b, "GET", f"/api/v1/officer/tickets/{ticket['ticket_id']}", None, editor)
    assert status == 200 and [x["question"] for x in t["transcript"]] == [
        "失业保险金能领多长时间？", "那在重庆呢？"]
