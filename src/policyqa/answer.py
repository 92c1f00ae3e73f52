"""Extractive, cited answers — or a refusal, returned as a value, never a guess.

The gate that decides between the two looks at what the question asks about,
not only at similarity scores (which overlap for in- and out-of-scope HR
questions): a named HR topic must be named by the clause, a named place must be
in the document's jurisdiction, and the clause must be similar enough in
meaning or in wording. Thresholds are calibrated on ``eval/questions.jsonl``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from policyqa import messages as msg
from policyqa.docnames import DocumentNames
from policyqa.index import PolicyIndex
from policyqa.ingest.model import Article, Policy
from policyqa.lexicon import FigureKind, Lexicon, Topic
from policyqa.retrieve import ArticleHit, Retrieval
from policyqa.text import cjk_bigrams, cn_to_int, normalize

Status = Literal["answered", "refused"]
# What kind of fact a question asks for, and what a clause must contain to state it.
# "具体包括哪些岗位": the clause must spell the items out (包括…, a colon, a parenthetical,
# a list of documents or lines); "是哪四个": it must list at least that many items.
# Figures (多少钱 / 几倍 / 多久 / 什么时候) are checked by the kinds in resources/figures.txt.
_SPECIFIC_Q = re.compile(r"(具体是哪|具体包括|具体指|具体有哪|具体是什么|分别叫|分别指|"
                         r"名单|目录|清单|从低到高|哪([0-9]+|[一二三四五六七八九十两几]+)[个种类项])")
_SPELLED_OUT = re.compile(r"(包括|即|如下|[:：]|[(（][^)）]{2,}[)）]|《|\n)")
# Figures a clause hands to someone else (按规定给予…补助 / 具体比例由…规定); an age, span or
# date asked is not answered by 按照国家规定享受… (that defers something else).
_DEFERRABLE = ("amount", "ratio", "multiple")
_TITLE = re.compile(r"[《<]([^《》<>]{2,60})[》>]")
GENERIC_BIGRAMS = frozenset(
    "企业 政策 规定 补贴 我们 你们 可以 什么 怎么 如何 有没 没有 请问 能不 不能 需要 哪些 是否 "
    "有关 相关 关于 一下 现在 公司 单位 员工 职工 重庆".split())


@dataclass(frozen=True)
class GateParams:
    dense_sure: float = 0.88  # cosine above which the clause is accepted on meaning alone
    dense_min: float = 0.80  # below this the clause is refused whatever the wording
    coverage_min: float = 0.30  # share of question bigrams the clause must contain in between
    quote_margin: float = 0.04  # extra sentences must score within this of the best one
    max_quotes: int = 3
    figure_margin: float = 0.03  # a clause stating the figure asked may outrank one this close
    # Quote a clause that defers the figure asked, with a note (else refuse). Dev: refusing
    # instead gains refusal recall 0.675 -> 0.779 and loses answer accuracy 0.781 -> 0.771;
    # the clause that says who fixes the figure is kept as the more useful answer.
    answer_deferred: bool = True
    local_margin: float = 0.03  # a document of the place asked about may outrank one this close


@dataclass(frozen=True)
class Citation:
    doc_id: str
    doc_no: str
    doc_title: str
    article: int
    label: str  # 第十条 / 前言
    heading: str
    quote: str  # verbatim sentence(s) from the source
    sentences: tuple[int, ...]
    url: str = ""

    @property
    def text(self) -> str:
        doc_no = f"（{self.doc_no}）" if self.doc_no else ""
        heading = f"「{self.heading}」" if self.heading else ""
        return f"《{self.doc_title}》{doc_no}{self.label}{heading}"

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of a citation (chat API, CLI, eval output): the document
        by its stable ``doc_id``, the 文号 only as a label."""
        return {"doc_id": self.doc_id, "doc_no": self.doc_no, "doc_title": self.doc_title,
                "article": self.article, "label": self.label, "heading": self.heading,
                "quote": self.quote, "url": self.url, "citation": self.text}


@dataclass(frozen=True)
class Answer:
    question: str
    status: Status
    text: str
    citations: tuple[Citation, ...] = ()
    ranked: tuple[tuple[str, int], ...] = ()  # (doc_id, article) best first
    reason: str = ""  # why refused: no_match / topic / place / low_confidence
    notes: tuple[str, ...] = field(default=())
    features: dict[str, float] = field(default_factory=dict)


def coverage(words: list[str], article_norm: str) -> float:
    """Share of the bigrams of the question's content words that occur in the clause text.

    Bigrams inside words (not across them) so that 文号是多少 is judged on 文号 alone.
    """
    grams = {g for w in words for g in cjk_bigrams(w) if len(g) == 2
             and g not in GENERIC_BIGRAMS}
    if not grams:
        return 0.0
    return sum(g in article_norm for g in grams) / len(grams)


class Answerer:
    def __init__(self, index: PolicyIndex, lexicon: Lexicon, words: Callable[[str], list[str]],
                 params: GateParams | None = None) -> None:
        self.index = index
        self.lexicon = lexicon
        self.words = words  # content words of a question (jieba, stopwords removed)
        self.params = params or GateParams()
        self._jurisdiction: dict[str, set[str]] = {}
        self._titles = [normalize(p.title) for p in index.policies.values()]
        self.names = DocumentNames(index.policies.values())
        for p in index.policies.values():  # its jurisdiction (全国: none), else its title's
            self._jurisdiction[p.doc_id] = lexicon.jurisdictions(
                normalize(p.jurisdiction or p.title + p.doc_no + "".join(p.issuers)))
        self._superseded = {d for d, p in index.policies.items() if p.status == "superseded"}
        # What a clause says, as matched: its chunks (sentences with heading/role context).
        parts: dict[tuple[str, int], list[str]] = {}
        for c in index.chunks:
            parts.setdefault((c.doc_id, c.article), []).append(c.text)
        self._norm_text = {k: normalize(self.index.policies[k[0]].title + "".join(v))
                           for k, v in parts.items()}

    def answer(self, r: Retrieval) -> Answer:
        r = self._in_force_first(self._named_first(r))
        ranked = tuple((h.doc_id, h.article) for h in r.articles)
        q = r.normalized
        if not r.articles or not q.strip():
            return self._refuse(r, ranked, "no_match", msg.REFUSE_DEFAULT)
        other = self._other_document(q)
        if other:
            return self._refuse(r, ranked, "document", msg.REFUSE_DOCUMENT.format(title=other))
        topics = self.lexicon.topics_in(q)
        candidates = [h for h in r.articles[:3]
                      if all(self.lexicon.covers(t, self._norm_text[(h.doc_id, h.article)])
                             for t in topics)]
        if not candidates:
            return self._refuse(r, ranked, "topic", msg.REFUSE_TOPIC.format(
                topic=_topic_word(topics, q)))
        kinds = self.lexicon.figures_asked(q)
        hit = self._local_first(q, self._states_figure_first(kinds, candidates))[0]
        place = self.foreign_place(q, hit.doc_id)
        if place:
            have = "、".join(sorted(self._jurisdiction[hit.doc_id])) or "已收录地区"
            return self._refuse(r, ranked, "place", msg.REFUSE_PLACE.format(have=have, place=place))
        evidence = self._evidence(hit)
        if not _states_specifics(q, evidence):
            return self._refuse(r, ranked, "specifics", msg.REFUSE_DEFAULT)
        figure = self._figure(kinds, evidence)
        if figure not in ("stated", "none", "deferred"):
            return self._refuse(r, ranked, figure, msg.REFUSE_DEFAULT)
        feats = {"dense": hit.dense,
                 "coverage": coverage(self.words(r.expanded),
                                      self._norm_text[(hit.doc_id, hit.article)]),
                 "score": hit.score}
        p = self.params
        confident = feats["dense"] >= p.dense_sure or (
            feats["dense"] >= p.dense_min and feats["coverage"] >= p.coverage_min)
        if not confident:
            return self._refuse(r, ranked, "low_confidence", msg.REFUSE_DEFAULT, feats)
        return self._compose(r, hit, ranked, feats, deferred=figure == "deferred",
                             national=self._national_too(q, hit, candidates))

    # ---- helpers -------------------------------------------------------------

    def _national_too(self, q: str, hit: ArticleHit, candidates: list[ArticleHit]
                      ) -> ArticleHit | None:
        """A question about a place answered from that place's document: a national clause
        that answers as closely (a close candidate), to be quoted as well, so the citizen
        sees both (全国: 失业保险条例…; 重庆: 重庆市失业保险条例…)."""
        if not self.lexicon.places_in(q) or not self._jurisdiction[hit.doc_id]:
            return None
        return next((h for h in candidates if h is not hit and not self._jurisdiction[h.doc_id]
                     and h.score >= hit.score - self.params.local_margin), None)

    def _local_first(self, q: str, hits: list[ArticleHit]) -> list[ArticleHit]:
        """A question about a place (重庆 / 我市 …): of close candidates, a document of that
        place answers before a national one (重庆市失业保险条例 before 失业保险条例)."""
        places = {j for _, j in self.lexicon.places_in(q)}
        if not places or not hits:
            return hits
        close = [h for h in hits if h.score >= hits[0].score - self.params.local_margin]
        local = [h for h in close if places & self._jurisdiction[h.doc_id]]
        return local + [h for h in hits if h not in local] if local else hits

    def _states_figure_first(self, kinds: list[FigureKind], hits: list[ArticleHit]
                             ) -> list[ArticleHit]:
        """When a figure is asked (几倍 / 多久 / 多少钱), the candidate clauses that state one
        come first (stable): of a law and the clause that only says 按照国家有关规定, the
        one that fixes the figure answers."""
        if not kinds:
            return hits
        close = [h for h in hits if h.score >= hits[0].score - self.params.figure_margin]
        states = [any(k.stated.search(self._evidence(h)) for k in kinds) for h in close]
        hits = close + [h for h in hits if h not in close]
        return [h for h, s in zip(close, states, strict=True) if s] + [
            h for h, s in zip(close, states, strict=True) if not s] + hits[len(close):]

    def _evidence(self, hit: ArticleHit) -> str:
        """What the clause says in answer: its two best sentences, normalised."""
        art = self.index.policies[hit.doc_id].article(hit.article)
        return normalize("".join(art.sentence(s.sentence).text for s in hit.sentences[:2]))

    def _figure(self, kinds: list[FigureKind], evidence: str) -> str:
        """What the clause does with a figure the question asks for (多少钱 / 几倍 / 多久 /
        什么时候): "none" asked; "stated" in the clause's best sentences; "deferred"
        when the quoted sentences hand it to someone else (按照国家规定 / 由…确定); else the
        kind asked, which refuses (a clause that only mentions the topic fixes no figure)."""
        if not kinds:
            return "none"
        if any(k.stated.search(evidence) for k in kinds):
            return "stated"
        if self.params.answer_deferred and self.lexicon.defers(evidence) and any(
                k.name in _DEFERRABLE for k in kinds):
            return "deferred"
        return kinds[0].name

    def _named_first(self, r: Retrieval) -> Retrieval:
        """A question that names a held document (按劳动合同法… / 工伤条例里…) is answered
        from it: that document's articles first, in their order."""
        named = self.names.named_in(r.normalized)
        if not named or not any(h.doc_id in named for h in r.articles):
            return r
        return replace(r, articles=(*(h for h in r.articles if h.doc_id in named),
                                    *(h for h in r.articles if h.doc_id not in named)))

    def _in_force_first(self, r: Retrieval) -> Retrieval:
        """Articles of superseded documents after all others: an old version is never the
        first citation while one in force ranks at all (its articles stay readable)."""
        old = self._superseded
        if not old or not any(h.doc_id in old for h in r.articles):
            return r
        live = [h for h in r.articles if h.doc_id not in old]
        return replace(r, articles=(*live, *(h for h in r.articles if h.doc_id in old)))

    def _other_document(self, q: str) -> str:
        """A 《title》 named in the question that is not a document we hold (say, one it cites)."""
        for title in _TITLE.findall(q):
            t = title.strip()
            if t and not any(t in own or own in t for own in self._titles):
                return t
        return ""

    def foreign_place(self, q: str, doc_id: str) -> str:
        """A place the question names outside the document's jurisdiction ("" if none)."""
        home = self._jurisdiction.get(doc_id, set())
        if not home:  # a national document applies everywhere
            return ""
        for form, juris in self.lexicon.places_in(q):
            if juris not in home:
                return form
        return ""

    def _refuse(self, r: Retrieval, ranked: tuple[tuple[str, int], ...], reason: str,
                text: str, feats: dict[str, float] | None = None) -> Answer:
        return Answer(r.question, "refused", f"{text}{msg.REFUSE_OFFER}", (), ranked, reason,
                      (), feats or {})

    def _pick_sentences(self, art: Article, hit: ArticleHit) -> tuple[int, list[int]]:
        """Best sentence first, then up to two close runners-up (a bare heading is not a
        quote); an item （五）… comes right after its lead-in (有下列情形之一的，…：), so it
        reads as a rule. At most ``max_quotes`` in all. Returns (the best, all in order)."""
        body = [s for s in hit.sentences
                if not (len(art.sentences) > 1 and s.sentence == 1 and art.heading
                        and art.sentence(1).text.rstrip("。；;") == art.heading)]
        pool = body or list(hit.sentences)
        best = pool[0]
        chosen = [best.sentence] + [s.sentence for s in pool[1:]
                                    if s.score >= best.score - self.params.quote_margin]
        out: list[int] = []
        for i in chosen:
            lead = _lead_in(art, i)
            out += [x for x in (lead, i) if x and x not in out]
        return best.sentence, out[: self.params.max_quotes]

    def _compose(self, r: Retrieval, hit: ArticleHit, ranked: tuple[tuple[str, int], ...],
                 feats: dict[str, float], deferred: bool = False,
                 national: ArticleHit | None = None) -> Answer:
        """The cited answer: the lead names the best sentence's clause; then the quotes; a
        national clause quoted as well comes last, under its own line."""
        policy: Policy = self.index.policies[hit.doc_id]
        best, picked = self._pick_sentences(policy.article(hit.article), hit)
        if national:
            picked = picked[: self.params.max_quotes - 1]
        cites = tuple(_cite(policy, hit.article, i) for i in picked)
        notes = [msg.AMOUNT_NOT_FIXED] if deferred else []
        answering = next(c for c in cites if c.sentences[0] == best)
        lines = [msg.LEAD.format(citation=answering.text), *(f"“{c.quote}”" for c in cites)]
        if national:
            extra = _cite(self.index.policies[national.doc_id], national.article,
                          national.sentences[0].sentence)
            cites += (extra,)
            lines += [msg.ALSO_NATIONAL.format(citation=extra.text), f"“{extra.quote}”"]
        lines += [*notes, msg.CLOSING]
        return Answer(r.question, "answered", "\n".join(lines), cites, ranked, "",
                      tuple(notes), feats)


def _cite(policy: Policy, article: int, index: int) -> Citation:
    """The citation of one quoted sentence: its 条, and 款/项 where the article has them."""
    art = policy.article(article)
    return Citation(policy.doc_id, policy.doc_no, policy.title, art.ordinal,
                    art.cite_label_for((index,)), art.heading, art.sentence(index).text,
                    (index,), policy.source_url)


def _lead_in(art: Article, index: int) -> int:
    """The sentence that introduces item sentence ``index`` (the last sentence of its 款
    before the items), or 0 when it is not an item."""
    s = art.sentence(index)
    if not s.item:
        return 0
    leads = [x.index for x in art.sentences
             if x.paragraph == s.paragraph and not x.item and x.index < index]
    return leads[-1] if leads else 0


def _states_specifics(q: str, evidence: str) -> bool:
    """True unless the question asks for particular items the evidence does not list."""
    m = _SPECIFIC_Q.search(q)
    if not m:
        return True
    if _SPELLED_OUT.search(evidence):
        return True
    wanted = m.group(2)
    n = cn_to_int(wanted) if wanted and wanted != "几" else None
    if n is None:
        return False
    longest = max((len(re.split(r"[、]", part)) for part in re.split(r"[,，;；。]", evidence)),
                  default=1)
    pairs = 2 if re.search(r"[与和及]", evidence) else 1
    return max(longest, pairs) >= n


def _topic_word(topics: list[Topic], q: str) -> str:
    for t in topics:
        for f in t.forms:
            if f in q:
                return f
    return topics[0].name if topics else ""
