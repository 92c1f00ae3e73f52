"""The gate's rules, each ``(Case, Context) -> Case | Refusal`` (see :mod:`policyqa.gate`),
and the small pure helpers they share."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace

from policyqa import messages as msg
from policyqa.gate.model import Case, Context, Refusal, Rule
from policyqa.lexicon import BROADEST, FigureKind, Topic
from policyqa.retrieve import ArticleHit, SentenceHit
from policyqa.text import cjk_bigrams, cn_to_int

# Figures (多少钱 / 几倍 / 多久 / 什么时候) are checked by the kinds in resources/figures.txt;
# named items, cases and earlier versions by the cues in resources/shapes.txt.
# Figures a clause hands to someone else (按规定给予…补助 / 具体比例由…规定); an age, span or
# date asked is not answered by 按照国家规定享受… (that defers something else).
_DEFERRABLE = ("amount", "ratio", "multiple", BROADEST)
_TITLE = re.compile(r"[《<]([^《》<>]{2,60})[》>]")
_ARTICLE = re.compile(r"第([0-9]{1,3}|[一二两三四五六七八九十百零〇]{1,6})条")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
GENERIC_BIGRAMS = frozenset(
    "企业 政策 规定 补贴 我们 你们 可以 什么 怎么 如何 有没 没有 请问 能不 不能 需要 哪些 是否 "
    "有关 相关 关于 一下 现在 公司 单位 员工 职工 重庆".split())


# ---- rules that refuse ------------------------------------------------------------------

def any_match(case: Case, ctx: Context) -> Case | Refusal:
    return case if case.hits and case.q.strip() else Refusal("no_match", msg.REFUSE_DEFAULT)


def held_document(case: Case, ctx: Context) -> Case | Refusal:
    """A 《title》 named in the question that is not a document we hold (say, one it cites)."""
    for title in _TITLE.findall(case.q):
        t = title.strip()
        if t and not any(t in own or own in t for own in ctx.clauses.titles):
            return Refusal("document", msg.REFUSE_DOCUMENT.format(title=t))
    return case


def names_topics(case: Case, ctx: Context) -> Case | Refusal:
    """Of the best clauses, those that name every HR topic the question names."""
    text = ctx.clauses.text
    keep = tuple(h for h in case.hits[:ctx.params.topic_pool] if all(
        ctx.lexicon.covers(t, text.get((h.doc_id, h.article), "")) for t in case.topics))
    if keep:
        return replace(case, hits=keep)
    # "No document covers 双倍工资" only when none does; else the best ones just don't say it
    if any(all(ctx.lexicon.covers(t, x) for t in case.topics) for x in text.values()):
        return Refusal("topic", msg.REFUSE_DEFAULT)
    return Refusal("topic", msg.REFUSE_TOPIC.format(topic=_topic_word(case.topics, case.q)))


def in_jurisdiction(case: Case, ctx: Context) -> Case | Refusal:
    """A place named outside the document's jurisdiction refuses, unless the question asks
    of a move from or to the document's own place (在重庆领失业金…打算搬去成都)."""
    home = ctx.clauses.jurisdiction.get(case.hit.doc_id, set())
    place = foreign_place(case.places, home)
    move = ctx.lexicon.move
    if not place or (any(j in home for _, j in case.places)
                     and move is not None and move.asked is not None
                     and bool(move.asked.search(case.q))):
        return case
    have = "、".join(sorted(ctx.clauses.jurisdiction[case.hit.doc_id])) or "已收录地区"
    return Refusal("place", msg.REFUSE_PLACE.format(have=have, place=place))


def states_specifics(case: Case, ctx: Context) -> Case | Refusal:
    ok = lists_what_is_asked(case.q, ctx.clauses.evidence(case.hit), ctx.lexicon.items)
    return case if ok else Refusal("specifics", msg.REFUSE_DEFAULT)


def states_figure(case: Case, ctx: Context) -> Case | Refusal:
    """A figure asked (多少钱 / 几倍 / 多久 / 什么时候) is stated in the clause's best sentences,
    or handed to someone else there (按照国家规定 / 由…确定; quoted with a note); a clause
    that only mentions the topic fixes no figure and refuses."""
    if not case.kinds:
        return case
    evidence = ctx.clauses.evidence(case.hit)
    if any(k.stated.search(ctx.clauses.stating(case.hit)) for k in case.kinds):
        return replace(case, figure="stated")
    if ctx.params.answer_deferred and ctx.lexicon.defers(evidence) and any(
            k.name in _DEFERRABLE for k in case.kinds):
        return replace(case, figure="deferred")
    return Refusal(case.kinds[0].name, msg.REFUSE_DEFAULT)


def states_shape(case: Case, ctx: Context) -> Case | Refusal:
    """申报条件是什么 / 什么情况下… / 怎么办理: the clause states each shape of answer asked
    that must be stated — lists the cases or conditions, or at least speaks of them (符合…
    条件的 / 具备…); says how it is done (申请 / 提交…材料). One that only says what the holder
    may do, and nothing of how to become one, does not answer."""
    must = [k for k in case.shapes if k.must]  # a bound asked only orders candidates
    if not must:
        return case
    t = ctx.clauses.text.get((case.hit.doc_id, case.hit.article), "")
    if all(k.stated.search(t) or (k.enough and k.enough.search(t)) for k in must):
        return case
    return Refusal("shape", msg.REFUSE_DEFAULT)


def confident(case: Case, ctx: Context) -> Case | Refusal:
    """Similar enough in meaning (cosine), or less so but sharing enough of its wording."""
    h, p = case.hit, ctx.params
    feats = {"dense": h.dense, "score": h.score, "coverage": coverage(
        ctx.words(case.expanded), ctx.clauses.text.get((h.doc_id, h.article), ""))}
    if feats["dense"] >= p.dense_sure or (
            feats["dense"] >= p.dense_min and feats["coverage"] >= p.coverage_min):
        return replace(case, feats=feats)
    return Refusal("low_confidence", msg.REFUSE_DEFAULT, feats)


# ---- rules that reorder -----------------------------------------------------------------

def named_first(case: Case, ctx: Context) -> Case:
    """A question that names a held document (按劳动合同法… / 工伤条例里…) is answered
    from it: that document's articles first, in their order."""
    named = ctx.clauses.names.named_in(case.q)
    return _first(case, lambda h: h.doc_id in named) if named else case


def named_article_first(case: Case, ctx: Context) -> Case:
    """劳动合同法第四十七条怎么规定的: a question naming a held document and one of its
    articles is answered by that article, not by another that cites it (第八十七条 …依照本法
    第四十七条…). The article stands first, all its sentences as the clause's evidence."""
    named = ctx.clauses.names.named_in(case.q)
    numbers = sorted(n for n in (cn_to_int(m) for m in _ARTICLE.findall(case.q)) if n)
    wanted = [(d, n) for d in sorted(named) for n in numbers if (d, n) in ctx.clauses.text]
    if len(wanted) != 1:
        return case
    doc, art = wanted[0]
    top = max((h.score for h in case.hits), default=1.0)
    sents = tuple(SentenceHit(f"{doc}/a{art}/s{i}", doc, art, i, 1.0, 1.0, top)
                  for i in range(1, len(ctx.clauses.sentences(doc, art)) + 1))
    hit = ArticleHit(doc, art, top, sents)
    return replace(case, hits=(hit, *(h for h in case.hits if (h.doc_id, h.article) != wanted[0])))


def in_force_first(case: Case, ctx: Context) -> Case:
    """Articles of superseded documents after all others: an old version is never the
    first citation while one in force ranks at all (its articles stay readable)."""
    old = ctx.clauses.superseded
    return _first(case, lambda h: h.doc_id not in old) if old else case


def given_first(case: Case, ctx: Context) -> Case:
    """A question that gives a quantity (签一年期的合同, 工作满10年): of close candidates, a
    clause naming it speaks of the case asked and comes first (劳动合同期限一年以上不满三年的，
    试用期不得超过二个月 before 试用期最长不得超过六个月)."""
    given = ctx.lexicon.quantities(case.q)
    if not given or not case.hits:
        return case
    top, named = case.hits[0].score - ctx.params.given_margin, ctx.clauses.quantities
    return _first(case, lambda h: h.score >= top and bool(
        given & named.get((h.doc_id, h.article), frozenset())))


def figure_first(case: Case, ctx: Context) -> Case:
    """When a figure is asked, of close candidates those that state one come first: of a
    law and a clause that only says 按照国家有关规定, the one that fixes the figure answers."""
    if not case.kinds or not case.hits:
        return case
    top = case.hits[0].score - ctx.params.figure_margin
    return _first(case, lambda h: h.score >= top and any(
        k.stated.search(ctx.clauses.stating(h)) for k in case.kinds))


def shape_first(case: Case, ctx: Context) -> Case:
    """什么情况下… / 需要什么条件: of close candidates, a clause that lists the cases or
    conditions (有下列情形之一的…) comes first; a clause that only refers to them (依照本法
    第四十六条规定…支付经济补偿) comes after."""
    if not case.shapes or not case.hits:
        return case
    top, text = case.hits[0].score - ctx.params.shape_margin, ctx.clauses.text
    return _first(case, lambda h: h.score >= top and any(
        k.stated.search(text.get((h.doc_id, h.article), "")) for k in case.shapes))


def local_first(case: Case, ctx: Context) -> Case:
    """A question about a place (重庆 / 我市 …): of close candidates, a document of that
    place answers before a national one (重庆市失业保险条例 before 失业保险条例)."""
    places = {j for _, j in case.places}
    if not places or not case.hits:
        return case
    top, juris = case.hits[0].score - ctx.params.local_margin, ctx.clauses.jurisdiction
    return _first(case, lambda h: h.score >= top and bool(places & juris.get(h.doc_id, set())))


def national_too(case: Case, ctx: Context) -> Case:
    """A question about a place answered from that place's document: a national clause that
    answers as closely is quoted as well (全国: 失业保险条例…; 重庆: 重庆市失业保险条例…)."""
    juris = ctx.clauses.jurisdiction
    if not case.places or not juris.get(case.hit.doc_id):
        return case
    top = case.hit.score - ctx.params.local_margin
    other = next((h for h in case.hits[1:] if not juris.get(h.doc_id) and h.score >= top), None)
    return replace(case, national=other) if other else case


def old_version_too(case: Case, ctx: Context) -> Case:
    """A question about an earlier version (1996年的职业教育法… / 旧法…现在还是这样吗) is
    answered from the one in force; the superseded document's closest clause is shown too.
    Closest: most character pairs shared with the question and the answering clause (an
    amended law keeps most of its wording); its sentence closest to the question is quoted.
    Asked of the old version alone (1996年版的…里…要不要给报酬？), its best-retrieved clause
    leads the answer instead, the one in force after it."""
    old_docs, old = ctx.clauses.predecessors.get(case.hit.doc_id, ()), ctx.lexicon.old_version
    years = {y for y in _YEAR.findall(case.q)}
    asked = [d for d in old_docs if ctx.clauses.years.get(d) in years] or (
        list(old_docs) if old and old.asked and old.asked.search(case.q) else [])
    if not asked:
        return case
    now = ctx.lexicon.current_version
    alone = not (now and now.asked and now.asked.search(case.q))  # asked of the old one alone
    own = next((h for h in case.retrieved if h.doc_id in asked), None) if alone else None
    if own:  # its own best-retrieved clause leads, the one in force after it
        return replace(case, old=own, old_first=True)
    text, q = ctx.clauses.text, set(cjk_bigrams(case.q))
    want = q | set(cjk_bigrams(text.get((case.hit.doc_id, case.hit.article), "")))
    best = max(((len(want & set(cjk_bigrams(t))), key) for key, t in text.items()
                if key[0] in asked and key[1]), default=None)
    if best is None or best[0] == 0:
        return case
    doc, art = best[1]
    sents = ctx.clauses.sentences(doc, art)
    i = max(range(len(sents)), key=lambda j: len(q & set(cjk_bigrams(sents[j]))), default=0)
    return replace(case, old_first=alone, old=ArticleHit(doc, art, 0.0, (SentenceHit(
        f"{doc}/a{art}/s{i + 1}", doc, art, i + 1, 0.0, 0.0, 0.0),)))


def _first(case: Case, wanted: Callable[[ArticleHit], bool]) -> Case:
    """Stable partition: the hits ``wanted`` first, then the others, each in their order."""
    flags = [wanted(h) for h in case.hits]
    if not any(flags) or all(flags):
        return case
    return replace(case, hits=(*(h for h, f in zip(case.hits, flags, strict=True) if f),
                               *(h for h, f in zip(case.hits, flags, strict=True) if not f)))


# The chat's gate, in order: the ranking every answer and refusal reports, then the checks;
# the clause rules are those that judge one clause alone (the 问答库 drafter's).
RANKING: tuple[Rule, ...] = (named_first, in_force_first, named_article_first)
CHECKS: tuple[Rule, ...] = (
    any_match, held_document, names_topics, given_first, shape_first, figure_first, local_first,
    in_jurisdiction, states_specifics, states_figure, states_shape, confident, national_too,
    old_version_too)
RULES = RANKING + CHECKS
CLAUSE_RULES: tuple[Rule, ...] = (held_document, names_topics, in_jurisdiction)


def rank(case: Case, ctx: Context) -> Case:
    for rule in RANKING:
        out = rule(case, ctx)
        assert isinstance(out, Case), rule.__name__  # ranking rules never refuse
        case = out
    return case


# ---- small pure helpers -----------------------------------------------------------------

def foreign_place(places: Iterable[tuple[str, str]], home: set[str]) -> str:
    """A place named outside a document's jurisdiction ("" if none; national: none)."""
    if not home:
        return ""
    return next((form for form, juris in places if juris not in home), "")


def coverage(words: list[str], article_norm: str) -> float:
    """Share of the bigrams of the question's content words that occur in the clause text.

    Bigrams inside words (not across them) so that 文号是多少 is judged on 文号 alone.
    """
    grams = {g for w in words for g in cjk_bigrams(w) if len(g) == 2
             and g not in GENERIC_BIGRAMS}
    if not grams:
        return 0.0
    return sum(g in article_norm for g in grams) / len(grams)


def lists_what_is_asked(q: str, evidence: str, items: FigureKind | None) -> bool:
    """True unless the question asks for particular items the evidence does not list."""
    m = items.asked.search(q) if items and items.asked else None
    if not m or not items:
        return True
    if items.stated.search(evidence):
        return True
    wanted = m.group(1) if m.re.groups else None
    n = cn_to_int(wanted) if wanted and wanted != "几" else None
    if n is None:
        return False
    longest = max((len(re.split(r"[、]", part)) for part in re.split(r"[,，;；。]", evidence)),
                  default=1)
    pairs = 2 if re.search(r"[与和及]", evidence) else 1
    return max(longest, pairs) >= n


def _topic_word(topics: Iterable[Topic], q: str) -> str:
    topics = list(topics)
    for t in topics:
        for f in t.forms:
            if f in q:
                return f
    return topics[0].name if topics else ""
