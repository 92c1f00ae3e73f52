"""The gate's small rules, each alone on invented text (no model, no corpus): kinds of
figures asked and stated, deferral, named documents, the asking part of a long question,
and each rule of the answer gate with the loop that runs them."""

from __future__ import annotations

import pytest

from policyqa import gate
from policyqa import messages as msg
from policyqa.docnames import DocumentNames
from policyqa.ingest.model import Policy
from policyqa.lexicon import Lexicon, load_figures
from policyqa.retrieve import ArticleHit, SentenceHit, aggregate, asking_part
from policyqa.text import normalize

LEX = Lexicon()


def _kinds(q: str) -> set[str]:
    return {k.name for k in LEX.figures_asked(normalize(q))}


@pytest.mark.parametrize(("question", "kinds"), [
    ("测试补助发多少钱", {"amount"}),
    ("要赔几倍", {"multiple"}),
    ("报销比例是多少", {"ratio"}),
    ("试用期最长多久", {"span"}),
    ("年假最长有几天", {"span_days"}),  # the narrower kind replaces the one it narrows
    ("失业金能领几个月", {"span_months"}),
    ("男职工几岁退休", {"age"}),
    ("什么时候开始施行", {"date"}),
    ("测试补助怎么申请", set()),
    ("测试基数上下限是多少", {"figure"}),  # some figure, none in particular
    ("测试园区要建多少个", {"figure"}),
    ("不建名册会被罚多少", {"amount"}),
    ("测试卡丢了补办要不要钱", {"fee"}),
    ("申请测试要交测试费吗", {"fee"}),
    ("过几个月要休测试假，公司说要扣掉，合理吗", set()),  # 过几个月 tells when
    ("前几年多领了测试金，要退吗", set()),
    ("测试假能休几个月", {"span_months"}),
    ("能有多长的测试期", {"span"}),
    ("要交的话交多少", {"amount"}),
    ("测试机构多久要公布一次测试情况", {"span_often"}),  # how often, not how long
    ("What percentage of wages does the employee pay", {"ratio"}),
    ("Can it use income from school-enterprise cooperation", set()),  # not a ratio
    ("Whenever I work overtime, must I be paid", set()),
    ("When hiring, should employers consider minorities", set()),  # when, not asking when
    ("Can my employer keep my ID card when I join", set()),
    ("When does the probation period end", {"date"}),
    ("测试热线几点到几点有人接", {"clock"}),
    ("测试个人缴费是不是工资的2%", {"ratio"}),  # a percentage given to be checked
    ("测试个人缴费是工资的2%吗", {"ratio"}),
    ("单位缴费是工资的16%，我个人也得交吗", set()),  # a percentage told, none asked
])
def test_figure_kinds_asked(question: str, kinds: set[str]) -> None:
    assert _kinds(question) >= kinds and (kinds or not _kinds(question))


def test_a_leave_of_its_own_is_not_covered_by_maternity_leave() -> None:
    """陪产假 is a leave of its own: a clause granting 产假 does not say how long it is."""
    topics = LEX.topics_in(normalize("男方陪产假有几天"))
    assert not all(LEX.covers(t, normalize("女职工生育享受不少于九十天的产假。")) for t in topics)
    assert all(LEX.covers(t, normalize("男方享受陪产假十五天。")) for t in topics)


def test_any_kind_replaces_the_broadest() -> None:
    assert _kinds("测试补偿是多少") == {"amount"}
    assert _kinds("测试假有多少天") == {"span_days"}


@pytest.mark.parametrize(("kind", "clause", "states"), [
    ("multiple", "应当向劳动者每月支付二倍的工资", True),
    ("ratio", "支付不低于工资的百分之一百五十的工资报酬", True),
    ("ratio", "按照60%的比例列支", True),
    ("span", "月计薪天数为21.75天", True),
    ("span", "最长不超过二十四个月", True),
    ("span_days", "已满20年的，年休假15天", True),
    ("span_days", "累计工作满1年不满10年的职工，请病假累计2个月以上的", False),
    ("span_months", "领取失业保险金的期限最长为24个月", True),
    ("amount", "补助标准为每人每次一百元", True),
    ("amount", "按规定给予测试补助", False),
    ("amount", "测试补助金为6个月的统筹地区上年度职工月平均工资", True),
    ("amount", "支付一个月工资的经济补偿", True),
    ("amount", "劳动者在解除前12个月的平均工资低于当地最低工资标准的", False),  # a period
    ("age", "年满十六周岁", True),
    ("span_often", "每年至少向社会公布一次测试基金收支情况", True),
    ("span_often", "测试费用拨付周期不得超过1个月", True),
    ("span_often", "测试机构应当向社会公布测试基金收支情况", False),
    ("clock", "测试窗口工作日上午9:00至下午5:00受理", True),
    ("clock", "测试机构应当及时受理", False),
    ("amount", "测试违约金的数额不得超过用人单位提供的培训费用", True),  # a cap on the sum
    ("amount", "测试限制期限，不得超过二年", False),  # a cap on a period
    ("figure", "建设10个测试园区", True),
    ("figure", "违约金不得超过服务期尚未履行部分所应分摊的培训费用", True),  # a bound
    ("figure", "（三）单位拒不提供办理测试登记的资料的", False),  # an item's number
    ("figure", "一次性测试补助金由单位支付", False),
    ("fee", "公共测试机构提供下列服务，不得收费：", True),
    ("fee", "测试机构免费向个人提供查询服务", True),
    ("fee", "测试机构应当为职工办理登记", False),
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
    ("测试关系可以按照规定随同转移。", False),  # defers a procedure, not a figure
    ("需要适当缩短工作时间的，按照国家有关规定执行。", False),
    ("由个人按照国家规定缴纳测试保险费。", True),
    ("适当提高其在测试代表大会中的比例", True),  # a figure left open
    ("不得超过其用工总量的一定比例", True),
    ("打造一批测试园区", True),
    ("按照规定办理登记。测试补贴标准为每人一百元。", False),  # the deferral is elsewhere
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
    ("某某测试法说三个月，某某测试法实施条例呢", {"law", "reg"}),  # two titles, two documents
    ("某的工伤测试保险条例怎么说", {"city"}),  # the place said before the name
    ("某工伤测试保险条例怎么说", {"city"}),
    ("国务院工伤测试保险条例怎么说", {"ins"}),
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


def test_a_superseded_version_does_not_crowd_out_the_one_in_force() -> None:
    """Of k places, articles of a superseded document take none: a short old law sharing
    the question's words in every article must leave room for the version in force."""
    fused = {f"old/a{i}/s1": (.9, 1.0, .99 - i / 100) for i in range(1, 6)}
    fused |= {"law/a7/s1": (.9, .5, .90), "law/a8/s1": (.9, .5, .80)}
    plain = [(h.doc_id, h.article) for h in aggregate(fused, 0.0, 3)]
    assert plain == [("old", 1), ("old", 2), ("old", 3)]
    spared = [(h.doc_id, h.article) for h in aggregate(fused, 0.0, 2, frozenset({"old"}))]
    assert spared == [*(("old", i) for i in range(1, 6)), ("law", 7), ("law", 8)]


def test_an_item_is_quoted_after_its_lead_in() -> None:
    from conftest import INVENTED_DIR
    from policyqa.answer import _items_of, _lead_in
    from policyqa.ingest.corpus import SourceFile, load_policy

    law = load_policy(SourceFile("law", INVENTED_DIR / "law.md", ""))
    art = law.article(3)  # 有下列情形之一的…：（一）…（二）…
    assert [_lead_in(art, s.index) for s in art.sentences] == [0, 1, 1]
    assert _lead_in(law.article(4), 1) == 0
    assert _items_of(art, 1) == [2, 3] and _items_of(art, 2) == []  # and a lead-in its items


def test_the_gate_reads_an_item_with_its_lead_in() -> None:
    """The figure of an item (…处…罚款：（一）…) is in its lead-in; a lead-in is read with its
    items; a sentence of no list is read alone."""
    from conftest import INVENTED_DIR
    from policyqa.answer import _in_context
    from policyqa.ingest.corpus import SourceFile, load_policy

    law = load_policy(SourceFile("law", INVENTED_DIR / "law.md", ""))
    assert _in_context(law.article(3), [3]) == [3, 1]
    assert _in_context(law.article(3), [2, 3]) == [2, 3, 1]
    assert _in_context(law.article(3), [1]) == [1, 2, 3]
    assert _in_context(law.article(4), [1]) == [1]


@pytest.mark.parametrize(("sentence", "catch_all"), [
    ("（七）法律、行政法规规定应当认定为工伤的其他情形。", True),
    ("（十一）法律、行政法规规定的其他情形。", True),
    ("（一）在工作时间和工作场所内，因工作原因受到事故伤害的；", False),
    ("其他情形由国务院规定。", False),
])
def test_a_catch_all_item_is_known(sentence: str, catch_all: bool) -> None:
    from policyqa.answer import _CATCH_ALL
    assert bool(_CATCH_ALL.search(sentence)) is catch_all


# ---- each gate rule alone, on invented clauses (policyqa.gate) -----------------------------


# Invented: a national 测试法 (art 1 names 工伤, states 二倍; art 2 defers the sum), a 某市
# regulation (art 1), and a superseded old 测试法 (art 1).
TEXTS = {("law", 1): "职工因工伤停工的，应当支付二倍的工资。",
         ("law", 2): "按照国家规定给予测试补助。",
         ("city", 1): "某市职工因工伤停工的，支付一个月工资。", ("old", 1): "旧的测试规定。",
         ("law", 3): "有下列情形之一的，用人单位应当支付测试补偿：（一）停工的；（二）停产的。",
         ("law", 4): "依照本法第三条规定支付测试补偿的，按月计算。",
         ("law", 5): "符合测试条件的职工，可以申领测试津贴。",
         ("law", 6): "办理测试登记，可以通过政府网站、自助终端等渠道办理。",
         ("law", 7): "未办理测试登记的，由测试部门责令改正，处一万元罚款。"}


def _hit(doc: str, art: int, score: float, dense: float = 0.9) -> ArticleHit:
    return ArticleHit(doc, art, score, (SentenceHit(f"{doc}/a{art}/s1", doc, art, 1, dense,
                                                    0.5, score),))


def _ctx(**params: float) -> gate.Context:
    clauses = gate.Clauses(
        jurisdiction={"law": set(), "city": LEX.jurisdictions(normalize("重庆")), "old": set()},
        superseded=frozenset({"old"}), titles=(normalize("中华人民共和国某某测试法"),),
        names=NAMES, text={k: normalize(v) for k, v in TEXTS.items()},
        evidence=lambda h: normalize(TEXTS[(h.doc_id, h.article)]),
        quantities={k: LEX.quantities(normalize(v)) for k, v in TEXTS.items()})
    return gate.Context(clauses, LEX, gate.GateParams(**params), lambda q: [q])  # type: ignore[arg-type]


def _case(q: str, *hits: ArticleHit) -> gate.Case:
    return gate.Case.read(normalize(q), normalize(q), hits, LEX)


def _docs(out: gate.Case | gate.Refusal) -> list[str]:
    assert isinstance(out, gate.Case), out
    return [h.doc_id for h in out.hits]


def test_rule_any_match() -> None:
    assert isinstance(gate.any_match(_case("测试"), _ctx()), gate.Refusal)
    assert isinstance(gate.any_match(_case("测试", _hit("law", 1, .9)), _ctx()), gate.Case)


def test_rule_held_document() -> None:
    out = gate.held_document(_case("《某某测试法》里怎么说", _hit("law", 1, .9)), _ctx())
    assert isinstance(out, gate.Case)
    out = gate.held_document(_case("《别的办法》里怎么说", _hit("law", 1, .9)), _ctx())
    assert isinstance(out, gate.Refusal) and out.reason == "document"


def test_rule_names_topics_keeps_clauses_naming_the_topic() -> None:
    case = _case("工伤停工期间工资怎么发", _hit("law", 2, .95), _hit("law", 1, .9))
    assert [h.article for h in gate.names_topics(case, _ctx()).hits] == [1]  # type: ignore[union-attr]
    out = gate.names_topics(_case("工伤停工怎么办", _hit("law", 2, .9)), _ctx())
    assert isinstance(out, gate.Refusal) and out.reason == "topic"
    assert out.text == msg.REFUSE_DEFAULT  # other clauses name 工伤: not "no document covers"
    out = gate.names_topics(_case("住房公积金怎么提取", _hit("law", 2, .9)), _ctx())
    assert isinstance(out, gate.Refusal) and "住房公积金" in out.text  # none names it


def test_rule_in_jurisdiction() -> None:
    assert _docs(gate.in_jurisdiction(_case("北京工伤", _hit("law", 1, .9)), _ctx())) == ["law"]
    out = gate.in_jurisdiction(_case("北京工伤", _hit("city", 1, .9)), _ctx())
    assert isinstance(out, gate.Refusal) and out.reason == "place"


@pytest.mark.parametrize(("q", "art", "figure"), [
    ("工伤停工赔几倍", 1, "stated"), ("测试补助发多少钱", 2, "deferred"),
    ("测试补助怎么申请", 2, "none")])
def test_rule_states_figure(q: str, art: int, figure: str) -> None:
    out = gate.states_figure(_case(q, _hit("law", art, .9)), _ctx())
    assert isinstance(out, gate.Case) and out.figure == figure


def test_rule_states_figure_refuses_a_clause_that_only_mentions_the_topic() -> None:
    out = gate.states_figure(_case("测试补助发多少钱", _hit("law", 2, .9)),
                             _ctx(answer_deferred=False))
    assert isinstance(out, gate.Refusal) and out.reason == "amount"
    out = gate.states_figure(_case("工伤停工几岁", _hit("law", 1, .9)), _ctx())
    assert isinstance(out, gate.Refusal) and out.reason == "age"


def test_rule_states_figure_reads_further_sentences_when_told() -> None:
    """The figure may be in a sentence beyond the evidence's two best (Clauses.stating):
    invented clause, 测试期限由双方约定 best, …不得超过二年 third."""
    base = _ctx()
    further = gate.Clauses(**{**base.clauses.__dict__, "figure_evidence": lambda h: normalize(
        TEXTS[(h.doc_id, h.article)] + "测试期限不得超过二年。")})
    ctx = gate.Context(further, LEX, base.params, base.words)
    q = "测试补助最长能约定几年"
    assert isinstance(gate.states_figure(_case(q, _hit("law", 2, .9)), base), gate.Refusal)
    out = gate.states_figure(_case(q, _hit("law", 2, .9)), ctx)
    assert isinstance(out, gate.Case) and out.figure == "stated"


def test_rule_confident() -> None:
    assert isinstance(gate.confident(_case("x", _hit("law", 1, .9, dense=.95)), _ctx()), gate.Case)
    out = gate.confident(_case("x", _hit("law", 1, .9, dense=.70)), _ctx())
    assert isinstance(out, gate.Refusal) and out.reason == "low_confidence"
    assert out.feats["dense"] == pytest.approx(.70)


def test_ranking_rules() -> None:
    ctx = _ctx()
    case = _case("工伤停工赔几倍", _hit("old", 1, .95), _hit("law", 2, .94), _hit("law", 1, .93))
    assert _docs(gate.in_force_first(case, ctx)) == ["law", "law", "old"]
    assert [h.article for h in gate.figure_first(case, ctx).hits][:1] == [1]  # type: ignore[union-attr]
    far = _case("工伤停工赔几倍", _hit("law", 2, .95), _hit("law", 1, .80))
    assert [h.article for h in gate.figure_first(far, ctx).hits] == [2, 1]  # type: ignore[union-attr]
    local = _case("重庆工伤停工", _hit("law", 1, .95), _hit("city", 1, .94))
    assert _docs(gate.local_first(local, ctx)) == ["city", "law"]
    both = gate.national_too(gate.local_first(local, ctx), ctx)  # type: ignore[arg-type]
    assert isinstance(both, gate.Case) and both.national and both.national.doc_id == "law"
    named = _case("按某某测试法工伤停工", _hit("city", 1, .95), _hit("law", 1, .90))
    assert _docs(gate.named_first(named, ctx)) == ["law", "city"]


@pytest.mark.parametrize(("question", "asks_cases"), [
    ("什么情况下公司要支付测试补偿", True),
    ("测试补偿的情形有哪些", True),
    ("领测试补助需要具备什么条件", True),
    ("测试补偿按什么计算", False),
])
def test_a_question_asking_for_cases_is_known(question: str, asks_cases: bool) -> None:
    assert bool(LEX.shapes_asked(normalize(question))) is asks_cases


def test_a_clause_listing_the_cases_answers_a_question_asking_for_them() -> None:
    """什么情况下…: of close candidates the clause listing the cases (有下列情形之一的…)
    comes before one that only refers to it; a far one, or another question, keeps its place."""
    ctx = _ctx()
    close = (_hit("law", 4, .95), _hit("law", 3, .93))
    assert [h.article for h in gate.shape_first(_case("什么情况下支付测试补偿", *close),
                                                ctx).hits] == [3, 4]  # type: ignore[union-attr]
    assert [h.article for h in gate.shape_first(_case("测试补偿按月算吗", *close),
                                                ctx).hits] == [4, 3]  # type: ignore[union-attr]
    far = _case("什么情况下支付测试补偿", _hit("law", 4, .95), _hit("law", 3, .80))
    assert [h.article for h in gate.shape_first(far, ctx).hits] == [4, 3]  # type: ignore[union-attr]


def test_whether_a_case_counts_prefers_the_clause_listing_what_counts() -> None:
    """我这种情况能算测试补偿吗: of close candidates the clause listing the cases that count
    comes first; the answering clause need not list any (an order shape)."""
    ctx = _ctx()
    close = (_hit("law", 4, .95), _hit("law", 3, .93))
    q = "被派去外地受伤，我这种情况能算测试补偿吗"
    assert [h.article for h in gate.shape_first(_case(q, *close), ctx).hits] == [3, 4]  # type: ignore[union-attr]
    assert isinstance(gate.states_shape(_case(q, _hit("law", 2, .9)), ctx), gate.Case)


def test_rule_states_shape() -> None:
    """什么条件 / 什么情况下: a clause listing the cases, or one speaking of the conditions,
    answers; one that only says what is paid, and nothing of when, is refused."""
    ctx = _ctx()
    assert isinstance(gate.states_shape(_case("什么情况下支付测试补偿", _hit("law", 3, .9)), ctx),
                      gate.Case)
    assert isinstance(gate.states_shape(_case("什么条件能领测试津贴", _hit("law", 5, .9)), ctx),
                      gate.Case)  # lists none, but speaks of the conditions
    out = gate.states_shape(_case("测试补助的申报条件是什么", _hit("law", 2, .9)), ctx)
    assert isinstance(out, gate.Refusal) and out.reason == "shape"
    assert isinstance(gate.states_shape(_case("测试补助怎么申请", _hit("law", 2, .9)), ctx),
                      gate.Case)  # not asking for cases: not this rule's to judge


def test_a_channel_or_contact_asked_must_be_named_by_the_clause() -> None:
    """哪个App / 网上怎么提交 / 电话是多少: a clause naming no channel (按照国家规定给予测试
    补助) does not answer; one naming 政府网站 does. A question that only mentions an address
    (搬了办公地址，要多少天内报告) asks for none."""
    ctx = _ctx()
    for q in ("测试补助在哪个App上申请", "测试补助能在网上提交吗", "测试补助窗口的电话是多少"):
        out = gate.states_shape(_case(q, _hit("law", 2, .9)), ctx)
        assert isinstance(out, gate.Refusal) and out.reason == "shape", q
    assert isinstance(gate.states_shape(_case("测试登记能在网上办理吗", _hit("law", 6, .9)), ctx),
                      gate.Case)
    assert not LEX.shapes_asked(normalize("公司搬了办公地址，要在多少天内报告"))


def test_a_penalty_asked_must_be_stated_and_comes_first() -> None:
    """怎么处罚: of close candidates the clause imposing one (责令改正，处…罚款) comes first,
    and one that only says how to register does not answer."""
    ctx = _ctx()
    close = _case("不办测试登记怎么处罚", _hit("law", 6, .95), _hit("law", 7, .93))
    assert [h.article for h in gate.shape_first(close, ctx).hits] == [7, 6]  # type: ignore[union-attr]
    out = gate.states_shape(_case("不办测试登记怎么处罚", _hit("law", 6, .9)), ctx)
    assert isinstance(out, gate.Refusal) and out.reason == "shape"


@pytest.mark.parametrize(("question", "evidence", "listed"), [
    ("测试补贴具体包括哪些岗位", "测试补贴包括甲岗位、乙岗位。", True),
    ("测试补贴具体包括哪些岗位", "按规定给予测试补贴。", False),
    ("测试补贴是哪三个档次", "分为甲档、乙档、丙档", True),
    ("测试补贴是哪四个档次", "分为甲档、乙档、丙档", False),
    ("测试补贴怎么领", "按规定给予测试补贴。", True),  # no items asked
    ("测试工和测试费分别指什么", "本条例所称测试工，是指提供劳动的人员。", True),  # defined
    ("测试人员具体包括哪些人", "测试人员是指难以就业的人员。测试人员的具体范围，由省人民政府规定。",
     False),  # a definition leaving the scope to others names no one
])
def test_named_items_must_be_listed(question: str, evidence: str, listed: bool) -> None:
    assert gate.lists_what_is_asked(normalize(question), evidence, LEX.items) is listed


def test_cue_lines_of_the_shapes_resource_are_not_shapes() -> None:
    """Invented lines: the cues (items, old_version, move) have rules of their own and do not
    reorder candidates as a shape does; a clause side of "-" matches nothing; `| order`
    and `| or REGEX` say how strictly the answering clause must state a shape."""
    lex = Lexicon(shapes=load_figures([
        "cases | 什么情况 | 下列情形 | or 条件", "bound | 最多 | 不超过 | order",
        "items | 哪([一二三])个 | 包括", "old_version | 旧法 | -"]))
    assert [k.name for k in lex.shapes] == ["cases", "bound"]
    cases, bound = lex.shapes
    assert cases.must and cases.enough and cases.enough.search("符合条件的")
    assert not bound.must and bound.enough is None
    assert lex.items and lex.old_version
    assert lex.old_version.asked and lex.old_version.asked.search("旧法怎么说")
    assert not lex.old_version.stated.search("旧法怎么说")


def test_quantities_written() -> None:
    assert LEX.quantities(normalize("签3年合同，满十六周岁，停工30日")) == {
        (3, "年"), (16, "岁"), (30, "天")}
    assert LEX.quantities(normalize("签三年合同")) == {(3, "年")}
    assert not LEX.quantities(normalize("2022年修订的法，4月1日起"))  # a year, a date


def test_rule_given_first() -> None:
    """A question giving a quantity (停工一个月): of close candidates, the clause naming it
    comes first; a far one, or a question giving none, keeps its place."""
    ctx = _ctx()
    close = (_hit("law", 1, .95), _hit("city", 1, .93))
    given = gate.given_first(_case("停工一个月怎么支付工资", *close), ctx)
    assert [h.doc_id for h in given.hits] == ["city", "law"]  # type: ignore[union-attr]
    plain = gate.given_first(_case("停工怎么支付工资", *close), ctx)
    assert [h.doc_id for h in plain.hits] == ["law", "city"]  # type: ignore[union-attr]
    far = gate.given_first(_case("停工一个月怎么支付工资", _hit("law", 1, .95),
                                 _hit("city", 1, .85)), ctx)
    assert [h.doc_id for h in far.hits] == ["law", "city"]  # type: ignore[union-attr]


def test_a_bound_asked_orders_but_need_not_be_stated() -> None:
    """最多 / 最长: a close clause stating a bound comes first; one stating none may still
    answer (states_shape judges only questions asking for cases)."""
    texts = {**TEXTS, ("law", 5): "测试补偿最长不超过六个月。", ("law", 6): "测试补偿发给六个月。"}
    base = _ctx()
    ctx = gate.Context(gate.Clauses(**{**base.clauses.__dict__, "text": texts}), LEX,
                       base.params, base.words)
    close = (_hit("law", 6, .95), _hit("law", 5, .93))
    first = gate.shape_first(_case("测试补偿最长能领多久", *close), ctx)
    assert [h.article for h in first.hits] == [5, 6]  # type: ignore[union-attr]
    assert isinstance(gate.states_shape(_case("测试补偿最长能领多久", close[0]), ctx), gate.Case)


def test_a_procedure_asked_must_be_spoken_of() -> None:
    """测试补助怎么操作: a clause saying only what is paid does not answer; one saying how to
    apply does. A shape line marked ``order`` need not be stated."""
    ctx = _ctx()
    out = gate.states_shape(_case("测试补助具体怎么操作", _hit("law", 2, .9)), ctx)
    assert isinstance(out, gate.Refusal) and out.reason == "shape"
    texts = {**TEXTS, ("law", 7): "申请测试补助的，向经办机构提交材料。"}
    ok = gate.Context(gate.Clauses(**{**ctx.clauses.__dict__, "text": texts}), LEX,
                      ctx.params, ctx.words)
    assert isinstance(gate.states_shape(_case("测试补助具体怎么操作", _hit("law", 7, .9)), ok),
                      gate.Case)
    kinds = load_figures(["a | 问 | 答", "b | 问 | 答 | order"])
    assert [k.must for k in kinds] == [True, False]


def test_topics_are_read_from_the_sentences_that_ask() -> None:
    """A story's topics (不签合同) are not asked; the asking sentence's (工伤) are. When it
    names none (这合法吗？), the whole question's topics stand."""
    asked = _case("公司不签合同。我能申请工伤认定吗？")
    assert [t.name for t in asked.topics] == ["工伤"]
    story = _case("公司不签合同，我受了工伤。这合法吗？")
    assert {t.name for t in story.topics} >= {"工伤", "双倍工资"}


@pytest.mark.parametrize(("question", "named"), [
    ("还没退休人就走了，个人账户的钱能继承吗", False),  # the story: he had not retired
    ("我不是被公司辞退的，能领失业金吗", False),
    ("退休以后个人账户的钱怎么领", True),
    ("有没有退休的年龄规定", True),  # 有没有 asks
    ("是不是退休了就不用交了", True),
])
def test_a_negated_topic_is_not_asked(question: str, named: bool) -> None:
    asked = {t.name for t in _case(question).topics}
    assert (("退休" in asked) or ("辞退" in asked)) is named, asked


def test_a_move_from_the_documents_place_is_asked_of_that_place() -> None:
    """某市 (重庆) regulation: a question about moving from 重庆 to 成都 is its to answer;
    one comparing 重庆 with 成都, or about 成都 alone, is not."""
    ctx, city = _ctx(), _hit("city", 1, .9, dense=.95)
    assert isinstance(gate.in_jurisdiction(_case("在重庆工伤停工，搬去成都以后怎么办", city), ctx),
                      gate.Case)
    for q in ("重庆和成都的工伤停工待遇哪边高", "成都工伤停工怎么办"):
        out = gate.in_jurisdiction(_case(q, city), ctx)
        assert isinstance(out, gate.Refusal) and out.reason == "place", q


def test_the_loop_names_the_rule_that_refused() -> None:
    out = gate.run(_case("北京工伤停工", _hit("city", 1, .9, dense=.95)), _ctx(), gate.RULES)
    assert isinstance(out, gate.Refusal) and (out.reason, out.rule) == ("place", "in_jurisdiction")
    out = gate.run(_case("工伤停工赔几倍", _hit("law", 1, .9, dense=.95)), _ctx(), gate.RULES)
    assert isinstance(out, gate.Case) and out.figure == "stated"


def test_rule_old_version_too() -> None:
    """Invented: the in-force 测试法 art 1 replaced the old one's art 1 (same wording)."""
    base = _ctx()
    clauses = gate.Clauses(**{**base.clauses.__dict__, "predecessors": {"law": ("old",)},
                              "years": {"old": "1996", "law": "2022"},
                              "text": {**base.clauses.text,
                                       ("old", 1): normalize("职工因工伤停工的，支付工资。"),
                                       ("old", 2): normalize("其他规定。")},
                              "sentences": lambda doc, art: [TEXTS.get((doc, art), "")]})
    ctx = gate.Context(clauses, LEX, base.params, base.words)
    asked = gate.old_version_too(_case("1996年的测试法对工伤停工怎么规定", _hit("law", 1, .9)), ctx)
    assert asked.old is not None and (asked.old.doc_id, asked.old.article) == ("old", 1)
    assert gate.old_version_too(_case("旧法对工伤停工怎么规定", _hit("law", 1, .9)), ctx).old
    assert gate.old_version_too(_case("工伤停工怎么规定", _hit("law", 1, .9)), ctx).old is None
    assert gate.old_version_too(_case("旧的怎么规定", _hit("city", 1, .9)), ctx).old is None
    # asked of the old one alone, its own retrieved clause leads; with the one in force, not
    alone = gate.old_version_too(_case("1996年的测试法里其他怎么规定", _hit("law", 1, .9),
                                       _hit("old", 2, .8)), ctx)
    assert alone.old_first and alone.old and (alone.old.doc_id, alone.old.article) == ("old", 2)
    both = gate.old_version_too(_case("1996年的测试法怎么规定，现在还是这样吗",
                                      _hit("law", 1, .9), _hit("old", 2, .8)), ctx)
    assert both.old and not both.old_first and both.old.article == 1


def test_rule_named_article_first() -> None:
    """某某测试法第二条: that article answers, not another that cites it; all its sentences
    are the evidence. A number without a held document's name, or two candidates, changes
    nothing."""
    base = _ctx()
    clauses = gate.Clauses(**{**base.clauses.__dict__,
                              "sentences": lambda doc, art: [TEXTS.get((doc, art), "")]})
    ctx = gate.Context(clauses, LEX, base.params, base.words)
    case = _case("某某测试法第二条怎么规定的", _hit("law", 1, .95), _hit("city", 1, .9))
    out = gate.named_article_first(case, ctx)
    assert [(h.doc_id, h.article) for h in out.hits] == [("law", 2), ("law", 1), ("city", 1)]
    assert [s.sentence for s in out.hits[0].sentences] == [1]
    assert gate.named_article_first(_case("第二条怎么规定的", _hit("law", 1, .9)), ctx).hits[0] \
        .article == 1
    assert gate.named_article_first(_case("某某测试法第九条", _hit("law", 1, .9)), ctx).hits[0] \
        .article == 1  # no such article: unchanged
