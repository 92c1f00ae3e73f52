"""Matching citizen questions to 问答库 entries, and when a hit may answer instead of the
policy pipeline (real model embeddings; the decision rule as a table)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import DOC_ID
from policyqa.answer import Answer, Citation
from policyqa.chat import faq_wins
from policyqa.faq.match import FaqMatch, FaqMatcher, faq_answer
from policyqa.service import PolicyQA


def entry(question: str, paraphrases: list[str], doc_id: str, article: int, quote: str
          ) -> dict[str, Any]:
    return {"id": question, "question": question, "paraphrases": paraphrases,
            "answer_text": quote,
            "citations": [{"doc_id": doc_id, "doc_no": "", "article": article, "quote": quote}]}


@pytest.fixture(scope="module")
def matcher(qa: PolicyQA) -> tuple[FaqMatcher, str]:
    p = qa.index.policies[DOC_ID]
    m = FaqMatcher(lambda t: qa.retriever.embed_query(t)[2])
    m.load([entry("招应届生有补贴吗？", ["公司招了应届毕业生能领什么补助"], p.doc_id, 10,
                  p.article(10).sentence(2).text),
            entry("企业新型学徒制有什么补贴？", ["学徒培训补贴怎么领"], p.doc_id, 4,
                  p.article(4).sentence(2).text)])
    return m, p.doc_id


def test_match_exact_semantic_and_none(matcher: tuple[FaqMatcher, str], qa: PolicyQA) -> None:
    m, doc = matcher
    hit = m.match("招应届生有补贴吗")  # punctuation and width do not matter
    assert hit is not None and hit.exact and hit.entry["question"] == "招应届生有补贴吗？"
    near = m.match("我们公司招了应届毕业生，可以领什么补助？")
    assert near is not None and not near.exact and near.entry["citations"][0]["article"] == 10
    assert m.match("职业技能等级认定结果在全市互认吗？") is None
    assert m.match("失业保险金怎么领取？") is None
    assert m.questions_for((doc, 4)) == ["企业新型学徒制有什么补贴？"]
    ans = faq_answer(near, "q", qa.index.policies)
    assert ans.status == "answered" and ans.citations[0].article == 10
    assert ans.citations[0].quote in qa.index.policies[doc].article(10).text
    assert "第十条" in ans.text and "问答库" in ans.text


def _policy(status: str, reason: str = "", article: int = 10) -> Answer:
    cites = (Citation("d", "", "t", article, "", "", "q", (1,)),) if status == "answered" else ()
    return Answer("q", status, "", cites, (), reason)  # type: ignore[arg-type]


@pytest.mark.parametrize(("policy", "score", "exact", "wins"), [
    (_policy("refused", "low_confidence"), 0.95, False, True),  # unsure pipeline: FAQ helps
    (_policy("refused", "no_match"), 0.95, False, True),
    (_policy("refused", "place"), 0.99, True, False),  # what is asked is not covered
    (_policy("refused", "topic"), 0.99, False, False),
    (_policy("refused", "specifics"), 0.96, False, False),
    (_policy("refused", "amount"), 0.96, False, False),
    (_policy("answered", article=10), 0.94, False, True),  # agreement
    (_policy("answered", article=3), 0.95, False, False),  # conflict: the clause wins ...
    (_policy("answered", article=3), 0.975, False, True),  # ... unless near-identical
    (_policy("answered", article=3), 0.94, True, True),
])
def test_faq_wins(policy: Answer, score: float, exact: bool, wins: bool) -> None:
    m = FaqMatch(entry("q", [], "d", 10, "x"), "q", score, exact)
    assert faq_wins(m, policy) is wins


def test_reload_encodes_only_new_wordings(qa: PolicyQA) -> None:
    calls: list[str] = []

    def embed(t: str) -> Any:
        calls.append(t)
        return qa.retriever.embed_query(t)[2]

    p = qa.index.policies[DOC_ID]
    quote = p.article(10).sentence(2).text
    m = FaqMatcher(embed)
    first = [entry("招应届生有补贴吗？", ["应届生补贴"], p.doc_id, 10, quote)]
    m.load(first)
    assert calls == ["招应届生有补贴吗？", "应届生补贴"]
    m.load([*first, entry("扩岗补助怎么领？", [], p.doc_id, 10, quote)])
    assert calls[2:] == ["扩岗补助怎么领？"] and len(m) == 2
    assert m.match("招应届生有补贴吗") is not None
    m.load([])
    assert len(m) == 0 and m.match("招应届生有补贴吗") is None


def test_a_new_matcher_reuses_the_vectors_of_the_old(matcher: tuple[FaqMatcher, str],
                                                     qa: PolicyQA) -> None:
    """On a switch to a new index build the 问答库 view is rebuilt; its wordings are not
    encoded again."""
    old, _ = matcher
    encoded: list[str] = []

    def embed(t: str) -> Any:
        encoded.append(t)
        return qa.retriever.embed_query(t)[2]

    new = FaqMatcher(embed)
    new.take_vectors(old)
    new.load([*old.served(), entry("新问题？", [], "d", 1, "q")])
    assert encoded == ["新问题？"]
    assert new.match("招应届生有补贴吗") is not None
