"""The 问答库 store: workflow, audit, optimistic locking, parallel writers, stale check, tokens.

Runs on SQLite and on a real PostgreSQL server (tests/pg.py). Citations are checked
against the real corpus (the session ``qa`` index); a modified copy of a policy is
built in memory for the stale check (no invented text enters corpus/).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conftest import DOC_ID
from pg import create_database, drop_database
from policyqa.errors import Conflict, Forbidden, NotFound
from policyqa.faq.model import InvalidEntry
from policyqa.faq.officers import (
    OfficerError,
    Unauthorized,
    add_officer,
    authenticate,
    revoke_officer,
    set_role,
)
from policyqa.faq.repo import FaqRepo
from policyqa.ingest.model import Policy, Sentence
from policyqa.roles import Actor
from policyqa.service import PolicyQA
from policyqa.store import Store
from policyqa.store.models import Officer


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store.open(f"sqlite:///{tmp_path / 'faq.db'}")
        yield s
        s.close()
        return
    server = request.getfixturevalue("pg_url")
    name = f"faq_{uuid.uuid4().hex[:8]}"
    s = Store.open(create_database(server, name))
    yield s
    s.close()
    drop_database(server, name)


@pytest.fixture(scope="module")
def policies(qa: PolicyQA) -> dict[str, Policy]:
    return dict(qa.index.policies)


def clause(policies: dict[str, Policy], ordinal: int) -> tuple[Policy, Any]:
    p = policies[DOC_ID]  # the seed: its clause 10 is quoted
    return p, p.article(ordinal)


def fields(policies: dict[str, Policy], question: str, ordinal: int = 10, sent: int = 2
           ) -> dict[str, Any]:
    p, a = clause(policies, ordinal)
    quote = a.sentence(sent).text
    return {"question": question, "paraphrases": [question + "呀", "请问" + question],
            "answer_text": quote,
            "citations": [{"doc_no": p.doc_no, "article": ordinal, "quote": quote}]}


def test_workflow_audit_and_illegal_moves(store: Store, policies: dict[str, Policy]) -> None:
    repo = FaqRepo(store)
    e = repo.create(fields(policies, "招应届生有补贴吗"), officer="li", policies=policies)
    assert e["status"] == "draft" and e["version"] == 1 and e["created_by"] == "li"
    assert e["citations"][0]["doc_id"] in policies  # stable id filled in from the 文号
    with pytest.raises(InvalidEntry):  # a draft cannot skip review
        repo.transition(e["id"], 1, "published", officer="li", policies=policies)
    e = repo.transition(e["id"], 1, "in_review", officer="li", policies=policies)
    e = repo.transition(e["id"], 2, "published", officer="wang", policies=policies)
    assert e["status"] == "published" and e["updated_by"] == "wang"
    assert [x["id"] for x in repo.servable()] == [e["id"]]
    # Editing published text sends it back to review (only reviewed text is served).
    e = repo.edit(e["id"], 3, {"paraphrases": ["应届生补贴"]}, officer="zhao",
                  policies=policies)
    assert e["status"] == "in_review" and e["version"] == 4 and repo.servable() == []
    # Four eyes: neither its creator nor its last editor may publish it.
    for author in ("li", "zhao"):
        with pytest.raises(Forbidden, match="四眼"):
            repo.transition(e["id"], 4, "published", officer=author, policies=policies)
    e = repo.transition(e["id"], 4, "rejected", officer="wang", policies=policies)
    with pytest.raises(InvalidEntry):
        repo.transition(e["id"], 5, "published", officer="wang", policies=policies)
    with pytest.raises(InvalidEntry):
        repo.edit(e["id"], 5, {"question": "x"}, officer="wang", policies=policies)
    trail = repo.audit(e["id"])
    assert [(a["officer"], a["action"]) for a in trail] == [
        ("li", "create"), ("li", "to_in_review"), ("wang", "to_published"),
        ("zhao", "edit"), ("wang", "to_rejected")]
    assert trail[3]["changes"]["paraphrases"][1] == ["应届生补贴"]
    assert trail[3]["changes"]["status"] == ["published", "in_review"]
    with pytest.raises(NotFound):
        repo.get("nope")


def test_validation(store: Store, policies: dict[str, Policy]) -> None:
    repo = FaqRepo(store)
    p, a = clause(policies, 10)
    bad = [
        {"question": ""},
        {"question": "x" * 201},
        {"question": "q", "citations": [{"doc_no": "渝人社规〔2099〕1号", "article": 1,
                                         "quote": "x"}]},
        {"question": "q", "citations": [{"doc_no": p.doc_no, "article": 99, "quote": "x"}]},
        {"question": "q", "citations": [{"doc_no": p.doc_no, "article": 10,
                                         "quote": a.sentence(2).text + "每人3000元"}]},
        {"question": "q", "paraphrases": [f"p{i}" for i in range(11)]},
    ]
    for f in bad:
        with pytest.raises(InvalidEntry):
            repo.create(f, officer="li", policies=policies)
    repo.create(fields(policies, "学徒补贴"), officer="li", policies=policies)
    with pytest.raises(Conflict):  # the same question (after normalisation) twice
        repo.create(fields(policies, "学徒补贴？"), officer="li", policies=policies)
    assert repo.search()[1] == 1


def test_every_wording_is_checked_against_the_active_entries(
        store: Store, policies: dict[str, Policy]) -> None:
    """By the key table: a paraphrase edited into another entry's question is refused;
    the keys an edit drops, or a retire frees, may be used again."""
    repo = FaqRepo(store)
    a = repo.create(fields(policies, "学徒补贴怎么领"), officer="li", policies=policies)
    b = repo.create(fields(policies, "技能补贴怎么领"), officer="li", policies=policies)
    with pytest.raises(Conflict):  # only the paraphrases change
        repo.edit(b["id"], b["version"], {"paraphrases": ["学徒补贴怎么领？"]},
                  officer="li", policies=policies)
    with pytest.raises(Conflict):  # a new entry's paraphrase against an old one's
        repo.create({**fields(policies, "另一个问题"), "paraphrases": ["请问学徒补贴怎么领"]},
                    officer="li", policies=policies)
    a = repo.edit(a["id"], a["version"], {"paraphrases": ["学徒补贴在哪领"]},
                  officer="li", policies=policies)
    repo.create({**fields(policies, "另一个问题"), "paraphrases": ["请问学徒补贴怎么领"]},
                officer="li", policies=policies)  # the dropped paraphrase is free again
    repo.transition(b["id"], b["version"], "rejected", officer="wang", policies=policies)
    repo.create(fields(policies, "技能补贴怎么领"), officer="li", policies=policies)
    assert repo.active_keys() >= {"学徒补贴怎么领", "学徒补贴在哪领", "技能补贴怎么领"}
    assert "学徒补贴怎么领呀" not in repo.active_keys()


def test_optimistic_locking(store: Store, policies: dict[str, Policy]) -> None:
    repo = FaqRepo(store)
    e = repo.create(fields(policies, "技能人才有什么支持"), officer="li", policies=policies)
    repo.edit(e["id"], 1, {"answer_text": "甲"}, officer="li", policies=policies)
    with pytest.raises(Conflict):
        repo.edit(e["id"], 1, {"answer_text": "乙"}, officer="wang", policies=policies)
    assert repo.get(e["id"])["answer_text"] == "甲"


def test_parallel_officers_lose_no_write(store: Store, policies: dict[str, Policy]) -> None:
    """Many officers at once: on one entry exactly one edit per version wins (the rest get
    409); on separate entries every edit lands."""
    repo = FaqRepo(store)
    shared = repo.create(fields(policies, "共享条目"), officer="li", policies=policies)
    own = [repo.create(fields(policies, f"条目{i}"), officer="li", policies=policies)
           for i in range(6)]
    results: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def edit_shared(i: int) -> None:
        start.wait()
        try:
            repo.edit(shared["id"], 1, {"answer_text": f"版本{i}"}, officer=f"o{i}",
                      policies=policies)
            out = f"ok{i}"
        except Conflict:
            out = "409"
        with lock:
            results.append(out)

    def edit_own(i: int) -> None:
        start.wait()
        for n in range(3):  # each officer edits its own entry three times in a row
            repo.edit(own[i]["id"], 1 + n, {"answer_text": f"第{n}次"}, officer=f"p{i}",
                      policies=policies)

    threads = [threading.Thread(target=edit_shared, args=(i,)) for i in range(6)]
    threads += [threading.Thread(target=edit_own, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [r for r in results if r.startswith("ok")]
    assert len(results) == 6 and len(winners) == 1 and results.count("409") == 5
    final = repo.get(shared["id"])
    assert final["version"] == 2 and final["answer_text"] == f"版本{winners[0][2:]}"
    assert len(repo.audit(shared["id"])) == 2
    for e in own:
        got = repo.get(e["id"])
        assert got["version"] == 4 and got["answer_text"] == "第2次"
        assert [a["version"] for a in repo.audit(e["id"])] == [1, 2, 3, 4]


def test_stale_after_corpus_change(store: Store, policies: dict[str, Policy]) -> None:
    repo = FaqRepo(store)
    e = repo.create(fields(policies, "新招用毕业生补助"), officer="li", policies=policies)
    repo.transition(e["id"], 1, "in_review", officer="li", policies=policies)
    e = repo.transition(e["id"], 2, "published", officer="wang", policies=policies)
    assert repo.flag_stale(policies) == []
    # The same document with clause 10's second sentence amended (as a revision would).
    p, a = clause(policies, 10)
    changed = replace(a, sentences=tuple(
        Sentence(s.index, s.text.replace("一次性扩岗补助", "一次性吸纳就业补贴"))
        for s in a.sentences))
    assert changed.text != a.text
    revised = {p.doc_id: replace(p, articles=tuple(changed if x.ordinal == 10 else x
                                                   for x in p.articles))}
    assert repo.flag_stale(revised) == [e["id"]]
    got = repo.get(e["id"])
    assert got["stale"] and "原文" in got["stale_reason"] and repo.servable() == []
    assert repo.flag_stale(revised) == []  # flagged once, audit once
    assert repo.audit(e["id"])[-1]["officer"] == "system"
    with pytest.raises(InvalidEntry):  # cannot republish unchanged quotes
        repo.transition(e["id"], got["version"], "in_review", officer="li",
                        policies=revised)
        repo.transition(e["id"], got["version"] + 1, "published", officer="wang",
                        policies=revised)
    # The officer reviews: quotes the amended text; the flag clears, and it can be served.
    fixed = repo.edit(e["id"], repo.get(e["id"])["version"], {"citations": [
        {"doc_id": p.doc_id, "article": 10, "quote": changed.sentence(2).text}]},
        officer="li", policies=revised)
    assert not fixed["stale"] and fixed["status"] == "in_review"
    fixed = repo.transition(e["id"], fixed["version"], "published", officer="wang",
                            policies=revised)
    assert [x["id"] for x in repo.servable()] == [e["id"]]


def test_officer_tokens(store: Store) -> None:
    token = add_officer(store, "li")
    assert authenticate(store, token) == Actor("li", "editor")  # the least role by default
    with store.reading() as s:
        row = s.scalars(select(Officer)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash
    with pytest.raises(OfficerError):
        add_officer(store, "li")  # one active token per officer
    for bad in (None, "", "pqa_wrong", token + "x", "Bearer " + token):
        with pytest.raises(Unauthorized) as exc:
            authenticate(store, bad)
        assert token not in str(exc.value)
    revoke_officer(store, "li")
    with pytest.raises(Unauthorized):
        authenticate(store, token)
    new = add_officer(store, "li", "reviewer")  # re-issued after revocation, new role
    assert new != token and authenticate(store, new) == Actor("li", "reviewer")
    set_role(store, "li", "admin")
    assert authenticate(store, new).role == "admin"
    with pytest.raises(OfficerError):
        add_officer(store, "zhao", "boss")
    with pytest.raises(Unauthorized):
        authenticate(store, token)
