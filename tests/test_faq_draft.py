"""Drafting 问答库 entries from clauses, topics and logs, on the real corpus and model.

Every draft must hold up against the real pipeline: quotes verbatim (check_citation), and
the draft question and each paraphrase answered by the clause the draft cites.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import asdict

import pytest

from conftest import INVENTED_DIR
from policyqa.faq.draft import Drafter, LoggedQuestion
from policyqa.faq.model import FaqDraft, InvalidEntry, check_citation
from policyqa.ingest.model import Article
from policyqa.service import PolicyQA
from policyqa.settings import Settings
from policyqa.text import normalize

DOC_ID = "yrsg-2025-23"
DOC_NO = "渝人社规〔2025〕23号"


@pytest.fixture(scope="module")
def drafter(qa: PolicyQA) -> Drafter:
    return Drafter(qa)


def clause_with(qa: PolicyQA, words: str) -> Article:
    """The one article of the real document whose text contains ``words``."""
    hits = [a for a in qa.index.policies[DOC_ID].articles if a.ordinal and words in a.text]
    assert len(hits) == 1, f"{words!r} should name exactly one clause"
    return hits[0]


def routes_to(qa: PolicyQA, question: str, article: int, doc_id: str = DOC_ID) -> bool:
    ans = qa.ask(question)
    return (ans.status == "answered"
            and (ans.citations[0].doc_id, ans.citations[0].article) == (doc_id, article))


def assert_sound(qa: PolicyQA, d: FaqDraft, article: int, doc_id: str = DOC_ID) -> None:
    """Quotes verbatim and whole sentences; question and paraphrases routed to the clause."""
    policy = qa.index.policies[doc_id]
    art = policy.article(article)
    assert 2 <= len(d.paraphrases) <= 5, d
    assert len({normalize(q) for q in [d.question, *d.paraphrases]}) == 1 + len(d.paraphrases)
    assert d.citations and d.answer_text == "\n".join(c.quote for c in d.citations)
    for c in d.citations:
        assert check_citation(qa.index.policies, asdict(c)) == c
        assert (c.doc_id, c.doc_no, c.article) == (doc_id, policy.doc_no, article)
        assert c.quote in {s.text for s in art.sentences}
    for q in [d.question, *d.paraphrases]:
        assert routes_to(qa, q, article, doc_id), q


@pytest.mark.parametrize("words", ["一次性扩岗补助", "约定服务期", "人均工资增幅不低于"])
def test_from_clause_drafts_verified_questions(qa: PolicyQA, drafter: Drafter, words: str) -> None:
    art = clause_with(qa, words)
    drafts = drafter.from_clause(DOC_ID, art.ordinal)
    assert 1 <= len(drafts) <= 5
    assert len({normalize(d.question) for d in drafts}) == len(drafts)
    for d in drafts:
        assert d.origin == "clause" and d.evidence["sentence"] in d.evidence["sentences"]
        assert_sound(qa, d, art.ordinal)
    # the sentence that gave the clause its name is among the drafts (not only the heading)
    assert any(words in c.quote for d in drafts for c in d.citations)


def test_clause_ten_in_citizen_words(qa: PolicyQA, drafter: Drafter) -> None:
    art = clause_with(qa, "一次性扩岗补助")
    drafts = drafter.from_clause(DOC_NO, art.ordinal, limit=10)  # by 文号 too
    rules = {d.evidence["rule"] for d in drafts}
    assert {"grant", "heading"} <= rules
    heading = next(d for d in drafts if d.evidence["rule"] == "heading")
    assert art.heading in heading.question and len(heading.citations) >= 2
    grants = [d for d in drafts if d.evidence["rule"] == "grant"]
    # 毕业年度高校毕业生 is asked about as 应届生, as citizens say it
    expansion = next(d for d in grants if "一次性扩岗补助" in d.answer_text)
    assert "应届生" in expansion.question and len(expansion.citations) == 1
    assert len(drafter.from_clause(DOC_ID, art.ordinal, limit=2)) == 2


def test_unknown_document_or_article(drafter: Drafter) -> None:
    with pytest.raises(InvalidEntry, match="没有这份文件"):
        drafter.from_clause("no-such-doc", 1)
    with pytest.raises(InvalidEntry, match="没有第99条"):
        drafter.from_clause(DOC_NO, 99)


def test_front_matter_does_not_crash(qa: PolicyQA, drafter: Drafter) -> None:
    for d in drafter.from_clause(DOC_ID, 0):
        assert_sound(qa, d, 0)


@pytest.fixture(scope="module")
def invented_qa(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> PolicyQA:
    """A service over invented documents in other numbering styles (第X条 with chapters,
    （一）, 一、 with nested items): the rules must not depend on the real document's form."""
    corpus = tmp_path_factory.mktemp("invented-corpus")
    for name in ("chapters.txt", "paren_top.txt", "nested.txt"):
        shutil.copy(INVENTED_DIR / name, corpus / name)
    return PolicyQA.open(settings.model_copy(update={
        "corpus_dir": corpus, "index_dir": tmp_path_factory.mktemp("invented-index")}))


def test_other_numbering_styles(invented_qa: PolicyQA) -> None:
    drafter = Drafter(invented_qa)
    quoted: list[tuple[str, str, str]] = []
    for p in invented_qa.index.policies.values():
        for a in p.articles:  # every clause, front matter included: drafts or none, no crash
            for d in drafter.from_clause(p.doc_no or p.doc_id, a.ordinal):
                assert_sound(invented_qa, d, a.ordinal, p.doc_id)
                quoted += [(d.evidence["rule"], d.question, c.quote) for c in d.citations]
    # 第四条 of the 第X条 document: "…的人员，可以申请测试补贴。" gives a 可以…吗 question
    assert any(rule == "can" and "可以申请测试补贴吗" in q and "可以申请测试补贴" in quote
               for rule, q, quote in quoted), quoted


def test_from_topic_apprenticeship(qa: PolicyQA, drafter: Drafter) -> None:
    art = clause_with(qa, "企业新型学徒制培训")
    drafts = drafter.from_topic("学徒")
    assert 1 <= len(drafts) <= 5
    assert all(d.origin == "topic" and d.evidence["topic"] == "学徒" for d in drafts)
    for d in drafts:  # every draft from a clause that names the topic (any document)
        c = d.citations[0]
        assert "学徒" in qa.index.policies[c.doc_id].article(c.article).text
    assert "学徒" in drafts[0].question  # questions naming the topic come first
    assert drafts[0].citations[0].article == art.ordinal  # the clause most about it first
    for d in drafts[:2]:
        assert_sound(qa, d, d.citations[0].article, d.citations[0].doc_id)


# Statutes have no headings and few 给予…补贴 forms: the drafter reads their own shapes
# (经济补偿按…标准 / 有下列情形之一的，…： / 应当提交下列材料 / 自…之日起30日内…).
LAW_CLAUSES = [("labor-contract-law-2012", "情形之一的，用人单位应当向劳动者支付经济补偿",
                "什么情况下"),
               ("work-injury-reg-2010", "提交下列材料", "哪些材料"),
               ("work-injury-reg-2010", "之日起30日内", "时限"),
               ("labor-contract-law-2012", "未与劳动者订立书面劳动合同的，应当", "工资")]


@pytest.mark.parametrize(("doc_id", "words", "asks"), LAW_CLAUSES)
def test_from_law_clause(qa: PolicyQA, drafter: Drafter, doc_id: str, words: str,
                         asks: str) -> None:
    if doc_id not in qa.index.policies:
        pytest.skip(f"{doc_id} is not in this corpus")
    arts = [a for a in qa.index.policies[doc_id].articles if a.ordinal and words in a.text]
    assert arts, words
    drafts = [d for a in arts for d in drafter.from_clause(doc_id, a.ordinal)]
    assert any(asks in d.question for d in drafts), [d.question for d in drafts]
    for d in drafts:
        assert_sound(qa, d, d.citations[0].article, doc_id)
        assert not re.search(r"下列|以下|本条|本法", d.question), d.question


@pytest.mark.parametrize("topic", ["个人所得税", "公积金", "北京的学徒补贴", "", "   "])
def test_from_topic_not_covered(drafter: Drafter, topic: str) -> None:
    assert drafter.from_topic(topic) == []


def _log() -> list[LoggedQuestion]:
    """An invented log (no real citizen data): four needs, repeated wordings, one one-off."""
    rows = [("学徒补贴怎么领", "answered", False, 3), ("学徒制有补贴吗", "answered", False, 2),
            ("学徒制有补贴吗？", "answered", False, 1),  # same wording, other punctuation
            ("企业新型学徒制补贴", "answered", True, 1),
            ("公司招应届生有补贴吗", "answered", False, 4),
            ("招大学生有什么补贴", "answered", False, 1),
            ("职称评审", "answered", False, 2), ("评职称有什么绿色通道", "answered", False, 1),
            ("个人所得税怎么退", "refused", False, 2), ("个税怎么退", "refused", False, 1),
            ("公积金怎么提取", "refused", True, 1),
            ("新八级工是什么", "answered", False, 1)]  # asked once, answered, liked: no draft
    return [LoggedQuestion(q, normalize(q), status, bad)
            for q, status, bad, n in rows for _ in range(n)]


def test_from_logs_clusters_needs(qa: PolicyQA, drafter: Drafter) -> None:
    drafts = drafter.from_logs(_log())
    groups = {d.question: {d.question, *d.evidence["examples"]} for d in drafts}
    assert groups == {
        "学徒补贴怎么领": {"学徒补贴怎么领", "学徒制有补贴吗", "企业新型学徒制补贴"},
        "公司招应届生有补贴吗": {"公司招应届生有补贴吗", "招大学生有什么补贴"},
        "职称评审": {"职称评审", "评职称有什么绿色通道"},
        "个人所得税怎么退": {"个人所得税怎么退", "个税怎么退"},
        "公积金怎么提取": {"公积金怎么提取"},
    }
    by_q = {d.question: d for d in drafts}
    assert by_q["学徒补贴怎么领"].evidence | {"examples": None} == {
        "asked": 7, "refused": 0, "bad": 1, "examples": None}
    # refused or 差评 first, then the most asked
    flagged = [bool(d.evidence["refused"] or d.evidence["bad"]) for d in drafts]
    assert flagged == sorted(flagged, reverse=True)
    assert [d.question for d in drafts][-2:] == ["公司招应届生有补贴吗", "职称评审"]
    for d in drafts:
        assert d.origin == "logs" and 2 <= len(d.paraphrases) <= 5
        assert d.question not in d.paraphrases
    for q in ("个人所得税怎么退", "公积金怎么提取"):  # out of scope: an officer decides
        d = by_q[q]
        assert d.evidence["needs_clause"] is True and d.answer_text == "" and d.citations == []
    apprentice = clause_with(qa, "企业新型学徒制培训")
    d = by_q["学徒补贴怎么领"]
    assert "needs_clause" not in d.evidence
    assert d.citations and all(c.article == apprentice.ordinal for c in d.citations)
    assert d.answer_text == "\n".join(c.quote for c in d.citations)
    for c in d.citations:
        assert check_citation(qa.index.policies, asdict(c)) == c
        assert c.quote in {s.text for s in apprentice.sentences}  # one sentence each


def test_from_logs_min_count_and_limit(drafter: Drafter) -> None:
    log = _log()
    assert "新八级工是什么" in {d.question for d in drafter.from_logs(log, min_count=1)}
    assert len(drafter.from_logs(log, limit=2)) == 2
    assert drafter.from_logs([]) == []
