"""Parser tables: the real corpus (渝人社规〔2025〕23号) and invented fixtures; text primitives."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import CORPUS_FILE, DOC_ID, DOC_NO, INVENTED_DIR, TITLE
from policyqa.errors import CorpusError
from policyqa.ingest.corpus import SourceFile, load_policy
from policyqa.ingest.model import Policy
from policyqa.ingest.parse import parse_policy
from policyqa.text import cn_to_int, int_to_cn, normalize, split_sentences

ISSUERS = ("重庆市人力资源和社会保障局", "重庆市发展和改革委员会", "重庆市教育委员会",
           "重庆市经济和信息化委员会", "重庆市财政局", "重庆市国有资产监督管理委员会",
           "重庆市市场监督管理局", "重庆市总工会")
HEADINGS = {  # as printed in the document, 一、 … 十三、
    1: "打造产教评技能生态链", 2: "支持企业建设技能人才培养平台", 3: "促进企业职工技能提升",
    4: "大力推行中国特色学徒制", 5: "支持企业数字人才培育", 6: "加强职业学校技能人才培养供给",
    7: "支持企业自主开展职业技能等级评价", 8: "支持企业“两类”人才职业贯通发展",
    9: "支持企业参与国际技能合作", 10: "支持企业吸纳技能人才",
    11: "完善企业技能人才工资分配制度", 12: "加强企业技能人才表彰激励", 13: "强化技能强企各项保障",
}
CHROME = ("扫一扫", "下载文字版", "下载图片版", "微信公众号", "政策解读", "行政规范性文件",
          "此件主动公开", "智能客服", "便民数字地图", "问答库")


def _load(path: Path) -> Policy:
    return load_policy(SourceFile(path.stem, path, ""))


@pytest.fixture(scope="module")
def real() -> Policy:
    return _load(CORPUS_FILE)


# ---- the real corpus ---------------------------------------------------------------------


def test_real_metadata(real: Policy) -> None:
    assert real.doc_id == DOC_ID
    assert real.title == TITLE
    assert real.doc_no == DOC_NO
    assert real.date == "2025-11-19"
    assert real.issuers == ISSUERS
    assert real.numbering == "一、"
    assert real.missing == ()
    assert real.preamble.startswith("为深入贯彻")
    assert real.preamble.endswith("现就推动我市技能强企工作制定以下措施。")


def test_real_articles_labels_and_headings(real: Policy) -> None:
    assert [a.ordinal for a in real.articles] == list(range(14))
    for a in real.articles[1:]:
        assert a.label == int_to_cn(a.ordinal)
        assert a.heading == HEADINGS[a.ordinal]
        assert a.chapter == ""
    art10 = real.article(10)
    assert (art10.label, art10.heading) == ("十", "支持企业吸纳技能人才")
    assert art10.cite_label == "第十条"
    assert real.citation(10) == f"《{TITLE}》（{DOC_NO}）第十条「支持企业吸纳技能人才」"
    first = real.article(1).sentences
    assert first[0].text == "打造产教评技能生态链。"
    assert first[1].text.startswith("聚焦“416”科技创新布局和“33618”现代制造业集群体系建设")


def test_real_articles_keep_every_character_of_their_line(real: Policy, raw_corpus: str) -> None:
    """一、… line by line: marker + article text == the source line (nothing lost or added)."""
    lines = [ln.strip() for ln in raw_corpus.splitlines()]
    for a in real.articles[1:]:
        src = next(ln for ln in lines if ln.startswith(f"{a.label}、{HEADINGS[a.ordinal]}"))
        assert f"{a.label}、{a.text}" == src


def test_real_front_matter(real: Policy) -> None:
    front = [s.text for s in real.article(0).sentences]
    assert DOC_NO in front
    assert "2025年11月19日" in front
    block = next(s for s in front if s.startswith(ISSUERS[0]))
    assert block.split("\n") == list(ISSUERS)
    assert any(s.startswith("现将《重庆市推动技能强企工作13条措施》印发给你们") for s in front)
    assert front[-1].startswith("为深入贯彻")


def test_real_sentences_are_verbatim_and_free_of_page_chrome(real: Policy, raw_corpus: str
                                                            ) -> None:
    sentences = [s.text for a in real.articles for s in a.sentences]
    assert len(sentences) >= 70
    for s in sentences:
        assert s and s in raw_corpus, s
        assert s == s.strip()
        for junk in CHROME:
            assert junk not in s, (junk, s)
    assert real.preamble in raw_corpus


# ---- invented fixtures -------------------------------------------------------------------

FIXTURES = {  # file: (numbering, ordinals incl. 0 when front matter exists, labels, title, 文号)
    "chapters.txt": ("第X条", 9, list("一二三四五六七八"), "某市职业技能测试管理办法",
                     "测人社规〔2099〕1号"),
    "nested.txt": ("一、", 4, list("一二三"), "某县技能测试若干措施", "测人社发〔2099〕2号"),
    "paren_top.txt": ("（一）", 4, list("一二三四"), "某区测试补贴实施细则", ""),
    "digit_top.txt": ("1.", 4, ["1", "2", "3"], "某镇测试工作要点", "测镇发〔2099〕4号"),
    "webpage.txt": ("一、", 4, list("一二三"), "某市测试办法", "测人社规〔2099〕5号"),
    "law.md": ("第X条", 5, list("一二三四"), "某市虚构测试条例", ""),
    "notice.md": ("一、", 4, list("一二三"), "关于虚构测试时间折算问题的通知", "测人社发[2099]3号"),
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_table(name: str) -> None:
    numbering, n_articles, labels, title, doc_no = FIXTURES[name]
    path = INVENTED_DIR / name
    p = _load(path)
    raw = path.read_text("utf-8")
    assert p.numbering == numbering
    assert len(p.articles) == n_articles
    assert [a.label for a in p.articles if a.ordinal] == labels
    assert [a.ordinal for a in p.articles if a.ordinal] == list(range(1, len(labels) + 1))
    assert (p.title, p.doc_no) == (title, doc_no)
    for a in p.articles:
        assert a.sentences, a
        for s in a.sentences:
            assert s.text in raw


def test_markdown_transcriptions() -> None:
    """`#` marks are markup: the title has none, `## 第X章` are chapters, the INFO END
    comment is dropped, and the latest adoption/amendment line dates the law."""
    law = _load(INVENTED_DIR / "law.md")
    assert law.date == "2099-06-30" and "#" not in law.title
    assert [a.chapter for a in law.articles if a.ordinal] == [
        "第一章 总则", "第一章 总则", "第二章 测试补助 第一节 补助条件",
        "第二章 测试补助 第二节 补助标准"]  # a 节 within its 章
    assert "依照本条例第一条规定" in " ".join(s.text for s in law.article(2).sentences)
    assert [s.text for s in law.article(3).sentences][1:] == ["（一）完成理论测试的；",
                                                              "（二）完成操作测试的。"]
    text = " ".join(s.text for a in law.articles for s in a.sentences)
    assert "INFO END" not in text and "#" not in text
    assert law.dates == (("adopted", "2098-03-01"), ("amended", "2099-06-30"))
    assert law.short_title == "某市虚构测试条例" and law.status == "in_force"
    a2, a3 = law.article(2), law.article(3)
    assert [(s.paragraph, s.item) for s in a2.sentences] == [(1, 0), (2, 0)]
    assert [(s.paragraph, s.item) for s in a3.sentences] == [(1, 0), (1, 1), (1, 2)]
    assert a2.cite_label_for((2,)) == "第二条第二款" and a2.cite_label_for((1, 2)) == "第二条"
    assert a3.cite_label_for((3,)) == "第三条第（二）项" and a3.cite_label_for((1,)) == "第三条"
    assert law.article(4).cite_label_for((1,)) == "第四条"  # one 款, no 项
    from policyqa.ingest.chunk import make_chunks, parse_chunk_id

    chunks = {c.id: c for c in make_chunks(law)}
    assert "law/a2/p2/s2" in chunks and "law/a4/s1" in chunks
    item = chunks["law/a3/p1/i2/s3"]
    context = "某市虚构测试条例 第二章 测试补助"  # a law's article: its law and chapter
    assert item.text.startswith(f"{context} 第一节 补助条件 有下列情形之一的，测试单位应当")
    assert chunks["law/a4/s1"].text == f"{context} 第二节 补助标准：补助标准为每人每次一百元。"
    assert [a.heading for a in law.articles if a.ordinal] == ["", "", "", ""]  # laws: none
    assert parse_chunk_id(item.id) == ("law", 3, 3)
    notice = _load(INVENTED_DIR / "notice.md")
    assert notice.article(3).text.startswith("2098年1月1日发布的测试通知同时废止")  # bare ## 三


@pytest.mark.parametrize("line, dates", [
    ("2007年12月14日 国务院令第514号公布 自2008年1月1日起施行",
     (("published", "2007-12-14"), ("effective", "2008-01-01"))),
    ("2009年8月27日 第十一届全国人大常委会第十次会议《关于修改部分法律的决定》第一次修正",
     (("amended", "2009-08-27"),)),
    ("（2003年4月27日中华人民共和国国务院令第375号公布）", (("published", "2003-04-27"),)),
    ("2025年11月19日", (("published", "2025-11-19"),)),
    ("根据2010年12月20日的决定", ()),  # does not start with a date: not a header line
])
def test_header_dates(line: str, dates: tuple[tuple[str, str], ...]) -> None:
    from policyqa.ingest.facts import dated_lines

    assert dated_lines([line]) == dates


def test_sidecar_facts_fill_what_the_text_lacks(tmp_path: Path) -> None:
    from policyqa.ingest.corpus import corpus_files, load_policy

    shutil.copy(INVENTED_DIR / "nested.txt", tmp_path / "x.txt")
    (tmp_path / "x.meta.json").write_text(json.dumps({
        "level": "规范性文件", "jurisdiction": "某县", "status": "superseded",
        "superseded_by": "y", "effective": "2099-01-01", "issuers": ["某县测试局"]},
        ensure_ascii=False), "utf-8")
    p = load_policy(corpus_files(tmp_path)[0])
    assert (p.level, p.jurisdiction, p.status, p.superseded_by) == (
        "规范性文件", "某县", "superseded", "y")
    assert p.dates == (("effective", "2099-01-01"),) and p.date == "2099-01-01"
    assert p.missing == ()
    shutil.copy(INVENTED_DIR / "law.md", tmp_path / "x.md")  # the text dates it; the
    (tmp_path / "x.txt").unlink()  # sidecar adds only the kind of date the text lacks
    (tmp_path / "x.meta.json").write_text(json.dumps(
        {"adopted": "2000-01-01", "effective": "2099-07-01"}), "utf-8")
    law = load_policy(corpus_files(tmp_path)[0])
    assert law.dates == (("adopted", "2098-03-01"), ("amended", "2099-06-30"),
                         ("effective", "2099-07-01"))


def test_chapters_and_cross_references() -> None:
    p = _load(INVENTED_DIR / "chapters.txt")
    assert (p.date, p.issuers) == ("2099-01-02", ("某市人力资源和社会保障局",))
    chapters = {a.ordinal: a.chapter for a in p.articles if a.ordinal}
    assert chapters == {1: "第一章　总则", 2: "第一章　总则", 3: "第二章　测试机构",
                        4: "第二章　测试机构", 5: "第二章　测试机构", 6: "第二章　测试机构",
                        7: "第三章　监督管理", 8: "第三章　监督管理"}
    # "第七条规定的…" inside article 6 is a cross-reference, not article 7.
    assert p.article(6).sentences[-1].text == "第七条规定的监督检查，由市测试局每年组织一次。"
    assert p.article(7).text == "市测试局应当对测试机构开展监督检查。"
    assert "按第三条规定设立的测试机构" in p.article(5).text
    # nested （一）（二） stay inside article 3; a heading-only line becomes the heading
    assert [s.text for s in p.article(3).sentences][1:] == ["（一）有固定的测试场所；",
                                                            "（二）有专职的测试人员。"]
    assert p.article(4).heading == "测试补贴"
    assert not any("章　" in a.text for a in p.articles)  # chapter lines are not body text


def test_nested_items_stay_inside_their_article() -> None:
    p = _load(INVENTED_DIR / "nested.txt")
    assert [a.heading for a in p.articles[1:]] == ["总体要求", "主要任务", "保障措施"]
    a1, a2 = p.article(1).text, p.article(2).text
    assert "（二）基本原则。" in a1 and "2.分类指导。" in a1
    assert "（二）加强培训。" in a2 and "3.安全规范。" in a2
    assert p.preamble == "为做好虚构的技能测试工作，结合本县实际，制定以下措施。"
    assert set(p.missing) == {"date", "issuers", "level", "jurisdiction"}  # no sidecar


def test_paren_and_digit_top_levels() -> None:
    paren = _load(INVENTED_DIR / "paren_top.txt")
    assert "1.参加测试的人员；" in paren.article(2).text
    assert paren.article(3).heading == "补贴标准"
    digits = _load(INVENTED_DIR / "digit_top.txt")
    # 2.5倍 directly after article 1 would continue the run if decimals counted as markers
    assert digits.article(1).sentences[-1].text == "2.5倍的系数适用于夜间测试的工时计算。"
    assert digits.article(2).heading == "加强培训"
    assert "（2）线下培训。" in digits.article(2).text
    assert digits.article(3).text == "完善保障。所需经费按1.5倍标准预留。"


def test_webpage_chrome_is_dropped() -> None:
    p = _load(INVENTED_DIR / "webpage.txt")
    assert (p.date, p.issuers) == ("2099-05-06", ("某市测试局",))
    text = "".join(s.text for a in p.articles for s in a.sentences)
    for junk in ("门户网站", "下载", "字号", "此件主动公开", "扫一扫", "主办", "微信公众号",
                 "网站地图", "联系我们"):
        assert junk not in text, junk
    assert p.article(3).text == "附则。本办法由某市测试局负责解释。"


@pytest.mark.parametrize("name", ["empty.txt", "chrome_only.txt", "bad_utf8.txt",
                                  "no_articles.txt"])
def test_bad_documents_raise_corpus_error_naming_the_file(name: str) -> None:
    with pytest.raises(CorpusError, match=re.escape(name)):
        _load(INVENTED_DIR / name)


def test_binary_content_is_refused() -> None:
    with pytest.raises(CorpusError, match=r"x\.txt"):
        parse_policy("一、测试。\x00\x00二、测试。", doc_id="x", source_name="x.txt")


# ---- parser bugs (inline invented texts) -------------------------------------------------


def _parse(raw: str) -> Policy:
    return parse_policy(raw, doc_id="t", source_name="t.txt")


def test_single_issuer_with_wrapped_notice_title() -> None:
    p = _parse("某市测试局\n关于印发《某市测试办法》的通知\n测人社规〔2099〕7号\n各有关单位：\n"
               "现将《某市测试办法》印发给你们。\n某市测试局\n2099年5月6日\n某市测试办法\n"
               "一、测试范围。本办法适用于虚构测试。\n二、测试程序。测试分三步。\n")
    assert p.issuers == ("某市测试局",)


def test_body_paragraph_starting_with_zhengce_jiedu_is_kept() -> None:
    p = _parse("某市测试办法\n一、测试范围。本办法适用于虚构测试。\n"
               "二、宣传解读。各单位要做好宣传。\n政策解读工作由市测试局统一负责。\n"
               "三、附则。本办法自发布之日起施行。\n")
    assert "政策解读工作由市测试局统一负责。" in p.article(2).text


def test_repeated_sub_headings_are_kept() -> None:
    p = _parse("某市测试办法\n一、测试补贴\n（一）申请条件\n参加虚构测试的人员。\n二、培训补贴\n"
               "（一）申请条件\n参加虚构培训的人员。\n")
    assert "（一）申请条件" in p.article(1).text and "（一）申请条件" in p.article(2).text


def test_chapter_on_the_first_line() -> None:
    p = _parse("第一章　总则\n第一条　为规范虚构测试，制定本办法。\n"
               "第二条　本办法适用于虚构测试。\n第二章　附则\n"
               "第三条　本办法自2099年1月1日起施行。\n")
    assert [a.chapter for a in p.articles] == ["第一章　总则", "第一章　总则", "第二章　附则"]


def test_cross_reference_to_a_paragraph_of_the_next_article() -> None:
    p = _parse("某市测试办法\n第一条　为规范虚构测试，制定本办法。\n第二条　测试分为初测和复测。\n"
               "第三条第一款规定的复测，由市测试局组织。\n第三条　市测试局负责监督检查。\n"
               "第四条　本办法自2099年1月1日起施行。\n")
    assert p.article(3).text == "市测试局负责监督检查。"


# ---- policyqa.text -----------------------------------------------------------------------

SENTENCE_CASES = [
    "他说：“好。”然后走了！真的？是；否;ok!x",
    "a b。 c\n d。",
    "没有句末标点",
    "。。！？",
    "（一）有固定场所；（二）有专职人员。",
    "补贴标准为每人每月500元，最长不超过6个月。附件：（略）",
    "  前后空白。\t",
    "",
]


@pytest.mark.parametrize("text", SENTENCE_CASES)
def test_split_sentences_keeps_every_character(text: str) -> None:
    out = split_sentences(text)
    assert re.sub(r"\s", "", "".join(out)) == re.sub(r"\s", "", text)
    for s in out:
        assert s and s == s.strip() and s in text


def test_split_sentences_boundaries() -> None:
    assert split_sentences("他说：“好。”然后走了！真的？") == ["他说：“好。”", "然后走了！",
                                                           "真的？"]
    assert split_sentences("甲；乙;丙") == ["甲；", "乙;", "丙"]


@pytest.mark.parametrize(("raw", "norm"), [
    ("企業自主評價", "企业自主评价"),
    ("學徒補貼", "学徒补贴"),
    ("１２３ＡＢＣ", "123abc"),
    ("第１０条，", "第10条,"),
    ("  a \t b\n c  ", "a b c"),
])
def test_normalize(raw: str, norm: str) -> None:
    assert normalize(raw) == norm


def test_cn_numerals_round_trip() -> None:
    for n in range(200):
        assert cn_to_int(int_to_cn(n)) == n, (n, int_to_cn(n))
    assert [int_to_cn(n) for n in (10, 13, 20, 105, 110)] == ["十", "十三", "二十", "一百零五",
                                                              "一百一十"]
    assert (cn_to_int("两"), cn_to_int("23"), cn_to_int("十x")) == (2, 23, None)


@pytest.mark.parametrize("line, bodies", [
    ("2007年6月29日 第十届全国人民代表大会常务委员会第二十八次会议通过",
     ("全国人民代表大会常务委员会",)),
    ("2003年9月26日 某市第二届人民代表大会常务委员会第五次会议通过",
     ("某市人民代表大会常务委员会",)),
    ("2007年12月14日 中华人民共和国国务院令第514号公布", ("国务院",)),
    ("2008年7月17日 经人力资源和社会保障部第6次部务会议通过", ("人力资源和社会保障部",)),
    ("2025年11月19日", ()),  # a bare date names no one
    ("根据2010年12月20日国务院令第586号", ()),  # not a header line
])
def test_header_bodies(line: str, bodies: tuple[str, ...]) -> None:
    from policyqa.ingest.facts import header_bodies

    assert header_bodies([line, line]) == bodies  # once each


def test_closing_article_dates_entry_into_force(tmp_path: Path) -> None:
    """本办法自2099年7月1日起施行 is read from the text; 自发布之日起施行 takes the
    publication date, which a sidecar may give; a sidecar may add a later revision's
    entry into force, and ``null`` says the document has no such fact (a law: no 文号)."""
    from policyqa.ingest.corpus import corpus_files, load_policy

    body = "# 某市测试办法\n\n第一条 为了测试，制定本办法。\n\n第二条 本办法自{}起施行。\n"
    (tmp_path / "x.md").write_text(body.format("2099年7月1日"), "utf-8")
    p = load_policy(corpus_files(tmp_path)[0])
    assert p.dates == (("effective", "2099-07-01"),) and p.date == "2099-07-01"
    assert "doc_no" in p.missing
    (tmp_path / "x.md").write_text(body.format("发布之日"), "utf-8")
    (tmp_path / "x.meta.json").write_text(json.dumps(
        {"published": "2098-01-02", "amended": "2099-01-01", "effective": ["2099-02-01"],
         "doc_no": None}), "utf-8")
    p = load_policy(corpus_files(tmp_path)[0])
    assert p.dates == (("published", "2098-01-02"), ("effective", "2098-01-02"),
                       ("amended", "2099-01-01"), ("effective", "2099-02-01"))
    assert p.date == "2099-01-01" and "doc_no" not in p.missing  # the version's date
