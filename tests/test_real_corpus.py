"""The documents in corpus/: what holds for every one of them (any corpus), then a
table of each real document's structure, checked against the text itself."""

from __future__ import annotations

import re
from functools import cache

import pytest

from conftest import CORPUS_DIR
from policyqa.ingest.corpus import SourceFile, corpus_files, load_policy
from policyqa.ingest.model import Policy
from policyqa.text import int_to_cn

FILES = corpus_files(CORPUS_DIR)
IDS = [f.doc_id for f in FILES]


@cache
def _policy(doc_id: str) -> Policy:
    return load_policy(next(f for f in FILES if f.doc_id == doc_id))


def _raw(src: SourceFile) -> str:
    return src.path.read_text("utf-8")


@pytest.mark.parametrize("src", FILES, ids=IDS)
def test_every_document_parses_with_every_fact(src: SourceFile) -> None:
    """No warning: every fact found in the text or its sidecar (a sidecar ``null`` says
    the document has none), a title free of markup, dates in ISO form."""
    p = _policy(src.doc_id)
    assert p.missing == ()
    assert p.title and not p.title.startswith("#") and p.title != p.doc_id
    assert p.level in {"法律", "行政法规", "部门规章", "地方性法规", "规范性文件"}
    assert p.status in {"in_force", "superseded"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", d) for _, d in p.dates)
    if p.superseded_by:
        assert p.status == "superseded" and p.superseded_by in IDS


@pytest.mark.parametrize("src", FILES, ids=IDS)
def test_articles_run_one_to_n_and_quote_the_text(src: SourceFile) -> None:
    """Articles are numbered 1..N as printed (a cross-reference such as 依照本法第三十九条
    at a line start never opens an article), and every sentence is in the file."""
    p, raw = _policy(src.doc_id), _raw(src)
    numbered = [a for a in p.articles if a.ordinal]
    assert [a.ordinal for a in numbered] == list(range(1, len(numbered) + 1))
    if p.numbering == "第X条":
        assert all(a.label == int_to_cn(a.ordinal) for a in numbered)
        assert all(not a.heading or "。" not in a.heading for a in numbered)
    for a in p.articles:
        assert a.sentences and all(s.text in raw for s in a.sentences)


@pytest.mark.parametrize("src", [f for f in FILES if f.path.suffix == ".md"],
                         ids=[f.doc_id for f in FILES if f.path.suffix == ".md"])
def test_items_and_chapters_match_the_lines_of_the_text(src: SourceFile) -> None:
    """Every （一） line after article 1 is one 项 of an article, every `## 第X章`
    line is the chapter of the articles after it, and a `### 第X节` adds to its 章."""
    p, raw = _policy(src.doc_id), _raw(src)
    body = raw[raw.find("\n第一条"):] if "\n第一条" in raw else raw
    item_lines = re.findall(r"^[（(][一二三四五六七八九十]+[）)]", body, flags=re.M)
    items = {(a.ordinal, s.paragraph, s.item) for a in p.articles if a.ordinal
             for s in a.sentences if s.item}
    assert len(items) == len(item_lines)
    chapter_lines = re.findall(r"^#+\s*(第[一二三四五六七八九十]+章.*)$", raw, flags=re.M)
    chapters = list(dict.fromkeys(a.chapter for a in p.articles if a.ordinal and a.chapter))
    assert list(dict.fromkeys(c.split(" 第")[0] for c in chapters)) == [
        c.strip() for c in chapter_lines]
    section_lines = re.findall(r"^#+\s*(第[一二三四五六七八九十]+节.*)$", raw, flags=re.M)
    assert [c.split(" ", 2)[2] for c in chapters if "节" in c] == [
        c.strip() for c in section_lines]


# doc id: (full title, short title, level, jurisdiction, articles, chapters)
REAL = {
    "labor-law-2018": ("中华人民共和国劳动法", "劳动法", "法律", "全国", 107, 13),
    "labor-contract-law-2012": ("中华人民共和国劳动合同法", "劳动合同法", "法律", "全国", 98, 8),
    "labor-contract-reg-2008": ("中华人民共和国劳动合同法实施条例", "劳动合同法实施条例",
                                "行政法规", "全国", 38, 6),
    "employment-promotion-law-2015": ("中华人民共和国就业促进法", "就业促进法", "法律", "全国",
                                      69, 9),
    "social-insurance-law-2018": ("中华人民共和国社会保险法", "社会保险法", "法律", "全国", 98, 12),
    "work-injury-reg-2010": ("工伤保险条例", "工伤保险条例", "行政法规", "全国", 67, 8),
    "unemployment-reg-1999": ("失业保险条例", "失业保险条例", "行政法规", "全国", 33, 6),
    "cq-unemployment-reg-2011": ("重庆市失业保险条例", "重庆市失业保险条例", "地方性法规",
                                 "重庆市", 46, 5),
    "migrant-wage-reg-2019": ("保障农民工工资支付条例", "保障农民工工资支付条例", "行政法规",
                              "全国", 64, 7),
    "annual-leave-reg-2007": ("职工带薪年休假条例", "职工带薪年休假条例", "行政法规", "全国",
                              10, 0),
    "annual-leave-measures-2008": ("企业职工带薪年休假实施办法", "企业职工带薪年休假实施办法",
                                   "部门规章", "全国", 19, 0),
    "hr-market-reg-2018": ("人力资源市场暂行条例", "人力资源市场暂行条例", "行政法规", "全国",
                           48, 7),
    "working-hours-1995": ("国务院关于职工工作时间的规定", "国务院关于职工工作时间的规定",
                           "行政法规", "全国", 9, 0),
    "working-days-notice-2008": ("关于职工全年月平均工作时间和工资折算问题的通知",
                                 "关于职工全年月平均工作时间和工资折算问题的通知", "规范性文件",
                                 "全国", 3, 0),
    "vocational-education-law-1996": ("中华人民共和国职业教育法", "职业教育法", "法律", "全国",
                                      40, 5),
    "vocational-education-law-2022": ("中华人民共和国职业教育法", "职业教育法", "法律", "全国",
                                      69, 8),
    "social-insurance-handling-reg-2023": ("社会保险经办条例", "社会保险经办条例", "行政法规",
                                           "全国", 63, 7),
    "yrsg-2025-23": ("重庆市推动技能强企工作13条措施", "重庆市推动技能强企工作13条措施",
                     "规范性文件", "重庆市", 13, 0),
}


@pytest.mark.parametrize("doc_id", sorted(REAL))
def test_real_document_table(doc_id: str) -> None:
    if doc_id not in IDS:
        pytest.skip(f"{doc_id} is not in this corpus")
    p = _policy(doc_id)
    chapters = {a.chapter.split(" 第")[0] for a in p.articles if a.chapter}
    assert (p.title, p.short_title, p.level, p.jurisdiction,
            sum(1 for a in p.articles if a.ordinal), len(chapters)) == REAL[doc_id]


def _only(doc_id: str) -> Policy:
    if doc_id not in IDS:
        pytest.skip(f"{doc_id} is not in this corpus")
    return _policy(doc_id)


def test_real_sections_sit_in_their_chapter() -> None:
    law = _only("labor-contract-law-2012")
    assert law.article(58).chapter == "第五章 特别规定 第二节 劳务派遣"


def test_real_citations_name_paragraph_and_item() -> None:
    law = _only("labor-contract-law-2012").article(46)
    s = next(s for s in law.sentences if s.item == 5)
    assert law.cite_label_for((s.index,)) == "第四十六条第（五）项"
    reg = _only("work-injury-reg-2010").article(17)
    s = next(s for s in reg.sentences if s.paragraph == 2)
    assert reg.cite_label_for((s.index,)) == "第十七条第二款"


def test_real_dates_and_status() -> None:
    p = _only("labor-contract-law-2012")
    assert p.dates_of("adopted") == ["2007-06-29"] and p.dates_of("amended") == ["2012-12-28"]
    assert p.issuers == ("全国人民代表大会常务委员会",) and p.doc_no == ""
    old = _only("vocational-education-law-1996")
    assert (old.status, old.superseded_by) == ("superseded", "vocational-education-law-2022")
    notice = _only("working-days-notice-2008")  # the bare `## 三` is article 3
    assert [a.ordinal for a in notice.articles] == [0, 1, 2, 3]
    assert notice.article(3).text.startswith("2000年3月17日劳动保障部发布的")
