"""The gate's small rules, each alone on invented text (no model, no corpus): kinds of
figures asked and stated, deferral, named documents, the asking part of a long question."""

from __future__ import annotations

import pytest

from policyqa.docnames import DocumentNames
from policyqa.ingest.model import Policy
from policyqa.lexicon import Lexicon
from policyqa.retrieve import asking_part
from policyqa.text import normalize

LEX = Lexicon()


def _kinds(q: str) -> set[str]:
    return {k.name for k in LEX.figures_asked(normalize(q))}


@pytest.mark.parametrize(("question", "kinds"), [
    ("测试补助发多少钱", {"amount"}),
    ("要赔几倍", {"multiple"}),
    ("报销比例是多少", {"ratio"}),
    ("试用期最长多久", {"span"}),
    ("男职工几岁退休", {"age"}),
    ("什么时候开始施行", {"date"}),
    ("测试补助怎么申请", set()),
])
def test_figure_kinds_asked(question: str, kinds: set[str]) -> None:
    assert _kinds(question) >= kinds and (kinds or not _kinds(question))


@pytest.mark.parametrize(("kind", "clause", "states"), [
    ("multiple", "应当向劳动者每月支付二倍的工资", True),
    ("ratio", "支付不低于工资的百分之一百五十的工资报酬", True),
    ("ratio", "按照60%的比例列支", True),
    ("span", "月计薪天数为21.75天", True),
    ("span", "最长不超过二十四个月", True),
    ("amount", "补助标准为每人每次一百元", True),
    ("amount", "按规定给予测试补助", False),
    ("age", "年满十六周岁", True),
])
def test_figure_stated(kind: str, clause: str, states: bool) -> None:
    k = next(k for k in LEX.figures if k.name == kind)
    assert bool(k.stated.search(normalize(clause))) is states


@pytest.mark.parametrize(("clause", "defers"), [
    ("具体标准由省、自治区、直辖市人民政府规定", True),
    ("应当按照国家有关规定向劳动者支付加班费", True),
    ("按规定给予测试补助", True),
    ("低于当地最低工资标准的，按照当地最低工资标准计算", False),
    ("用人单位应当支付二倍的工资", False),
])
def test_deferral(clause: str, defers: bool) -> None:
    assert LEX.defers(normalize(clause)) is defers


def _policy(doc_id: str, title: str, short: str = "") -> Policy:
    return Policy(doc_id=doc_id, title=title, doc_no="", issuers=(), date="", preamble="",
                  articles=(), short_title=short or title)


NAMES = DocumentNames([
    _policy("law", "中华人民共和国某某测试法", "某某测试法"),
    _policy("reg", "某某测试法实施条例"),
    _policy("ins", "工伤测试保险条例"),
    _policy("city", "某市工伤测试保险条例"),
    _policy("notice", "某市推动测试工作9条措施"),
])


@pytest.mark.parametrize(("question", "named"), [
    ("按某某测试法，试用期多久", {"law"}),
    ("某某测试法实施条例第六条怎么说", {"reg"}),  # the longer title wins
    ("工伤条例里认定时限", {"ins", "city"}),  # a shortening keeps the first words and kind
    ("9条措施什么时候施行", {"notice"}),
    ("公司不给加班费", set()),
    ("测试法", set()),  # too short to be a shortening, and no title is that
])
def test_named_documents(question: str, named: set[str]) -> None:
    assert NAMES.named_in(normalize(question)) == named


def test_asking_part_of_a_long_question() -> None:
    story = ("我在某市一家公司干了三年，一直交着保险。上个月公司说经营困难把我辞了。"
             "我能领几个月的钱？")
    assert asking_part(normalize(story), 40) == normalize("我能领几个月的钱？")
    assert asking_part(normalize("我能领几个月的钱？"), 40) == ""  # short: the whole question


def test_an_item_is_quoted_after_its_lead_in() -> None:
    from conftest import INVENTED_DIR
    from policyqa.answer import _lead_in
    from policyqa.ingest.corpus import SourceFile, load_policy

    law = load_policy(SourceFile("law", INVENTED_DIR / "law.md", ""))
    art = law.article(3)  # 有下列情形之一的…：（一）…（二）…
    assert [_lead_in(art, s.index) for s in art.sentences] == [0, 1, 1]
    assert _lead_in(law.article(4), 1) == 0
