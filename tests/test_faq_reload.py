"""A change to the 问答库 reloads only what changed, in the process that made it and in
every other process on the same database, and no change is missed.

Real model and index; two FaqService objects on one SQLite file stand in for two server
processes (the live-server versions of this are in test_replicas.py and
test_nginx_front.py). The questions are invented for the test."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from conftest import DOC_ID
from policyqa.faq.service import FaqService
from policyqa.roles import Actor
from policyqa.service import PolicyQA
from policyqa.store import Store
from policyqa.store.models import FaqEntry

ED, RV = Actor("ed", "editor"), Actor("rv", "reviewer")


class Spy:
    """Records which entries each servable() read asked for (None: all of them)."""

    def __init__(self, svc: FaqService) -> None:
        self.calls: list[list[str] | None] = []
        real = svc.repo.servable

        def servable(ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
            self.calls.append(None if ids is None else list(ids))
            return real(ids)
        svc.repo.servable = servable  # type: ignore[method-assign]


@pytest.fixture()
def pair(qa: PolicyQA, tmp_path: Path) -> tuple[FaqService, FaqService, Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'faq.db'}")
    a, b = FaqService(qa, store), FaqService(qa, store)
    a.start()
    b.start()
    return a, b, store


def published(svc: FaqService, qa: PolicyQA, question: str, paraphrases: list[str]
              ) -> dict[str, Any]:
    quote = qa.index.policies[DOC_ID].article(10).sentence(2).text
    e = svc.create({"question": question, "paraphrases": paraphrases, "answer_text": quote,
                    "citations": [{"doc_id": DOC_ID, "article": 10, "quote": quote}]}, ED)
    e = svc.transition(e["id"], e["version"], "in_review", ED)
    return svc.transition(e["id"], e["version"], "published", RV)


def test_the_other_process_reads_only_the_entries_that_changed(
        pair: tuple[FaqService, FaqService, Store], qa: PolicyQA) -> None:
    a, b, _ = pair
    first = published(a, qa, "测试：招了应届生，单位能领什么补贴？", ["测试：应届生补贴怎么领"])
    assert b.refresh_if_changed() and b.matcher.serves(first["id"])
    spy = Spy(b)
    second = published(a, qa, "测试：扩岗补助找谁申请？", [])
    assert b.refresh_if_changed()
    assert spy.calls == [[second["id"]]]  # not the whole base
    assert b.matcher.serves(first["id"]) and b.matcher.serves(second["id"])
    m = b.matcher.match("测试：应届生补贴怎么领")
    assert m is not None and m.entry["id"] == first["id"]
    assert not b.refresh_if_changed() and spy.calls == [[second["id"]]]  # nothing new


def test_an_edit_or_a_retire_takes_the_entry_out_everywhere(
        pair: tuple[FaqService, FaqService, Store], qa: PolicyQA) -> None:
    a, b, _ = pair
    e = published(a, qa, "测试：招了应届生，单位能领什么补贴？", ["测试：应届生补贴怎么领"])
    other = published(a, qa, "测试：扩岗补助找谁申请？", [])
    b.refresh_if_changed()
    e = a.edit(e["id"], e["version"], {"paraphrases": ["测试：毕业生补贴怎么领"]}, ED)
    assert not a.matcher.serves(e["id"])  # back in review: not served by anyone
    assert b.refresh_if_changed() and not b.matcher.serves(e["id"])
    e = a.transition(e["id"], e["version"], "published", RV)
    b.refresh_if_changed()
    old, new = b.matcher.match("测试：应届生补贴怎么领"), b.matcher.match("测试：毕业生补贴怎么领")
    assert new is not None and new.exact and new.entry["id"] == e["id"]
    assert old is None or not old.exact  # the wording edited away is no longer an entry's
    a.transition(other["id"], other["version"], "retired", RV)
    assert b.refresh_if_changed()
    assert not b.matcher.serves(other["id"]) and b.matcher.serves(e["id"])
    assert len(b.matcher) == len(a.matcher) == 1


def test_a_write_that_commits_out_of_order_is_not_missed(
        pair: tuple[FaqService, FaqService, Store], qa: PolicyQA) -> None:
    """Two processes write at once: the one stamped earlier commits last. Its
    ``updated_at`` is not the newest, yet the other processes must still see it."""
    a, b, store = pair
    e = published(a, qa, "测试：招了应届生，单位能领什么补贴？", [])
    published(a, qa, "测试：扩岗补助找谁申请？", [])
    b.refresh_if_changed()
    with store.writing() as s:  # retired, stamped a minute before the newest write
        s.execute(update(FaqEntry).where(FaqEntry.id == e["id"]).values(
            status="retired", version=FaqEntry.version + 1,
            updated_at=datetime.fromisoformat(e["updated_at"]) - timedelta(minutes=1)))
    assert b.refresh_if_changed()
    assert not b.matcher.serves(e["id"])
