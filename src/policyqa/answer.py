"""Extractive, cited answers — or a refusal, returned as a value, never a guess.

The gate (:mod:`policyqa.gate`) decides between the two from what the best clauses say;
this module composes what the citizen reads: the lead naming the document and article,
at most three verbatim quotes with an item's lead-in, a national clause quoted as well, and
the note when the clause leaves a figure to someone else. Thresholds are calibrated on
``eval/questions.jsonl``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from policyqa import gate
from policyqa import messages as msg
from policyqa.docnames import DocumentNames
from policyqa.gate import Case, GateParams, Refusal
from policyqa.index import PolicyIndex
from policyqa.ingest.model import Article, Policy
from policyqa.lexicon import Lexicon
from policyqa.retrieve import ArticleHit, Retrieval
from policyqa.text import normalize

__all__ = ["Answer", "Answerer", "Citation", "GateParams"]
# How many of a clause's best sentences may state a figure asked (the evidence: two).
FIGURE_SENTENCES = 3
_CATCH_ALL = re.compile(r"^[（(][一二三四五六七八九十]+[）)](?:法律|法规|法律、行政法规|国家)"
                        r"[^，,。]*(?:规定|认定)[^，,。]*其他[^，,。]{0,6}[。；;]?$")
Status = Literal["answered", "refused"]


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
    rule: str = ""  # the gate rule that refused (policyqa.gate), for officers' 命中测试


class Answerer:
    def __init__(self, index: PolicyIndex, lexicon: Lexicon, words: Callable[[str], list[str]],
                 params: GateParams | None = None) -> None:
        self.index = index
        self.lexicon = lexicon
        self.words = words  # content words of a question (jieba, stopwords removed)
        self.params = params or GateParams()
        self.clauses = _clauses(index, lexicon)

    @property
    def context(self) -> gate.Context:
        return gate.Context(self.clauses, self.lexicon, self.params, self.words)

    def answer(self, r: Retrieval) -> Answer:
        ctx = self.context
        case = gate.rank(Case.read(r.normalized, r.expanded, r.articles, self.lexicon), ctx)
        ranked = tuple((h.doc_id, h.article) for h in case.hits)
        out = gate.run(case, ctx, gate.CHECKS)
        if isinstance(out, Refusal):
            return Answer(r.question, "refused", f"{out.text}{msg.REFUSE_OFFER}", (), ranked,
                          out.reason, (), out.feats, out.rule)
        return self._compose(r, out, ranked)

    def admits(self, q: str, doc_id: str, article: int) -> bool:
        """Would the gate's clause rules (document held, HR topics named, place) let this
        clause answer ``q``? For the 问答库 drafter, which must not copy them."""
        hit = ArticleHit(doc_id, article, 1.0, ())
        case = Case.read(normalize(q), normalize(q), (hit,), self.lexicon)
        return not isinstance(gate.run(case, self.context, gate.CLAUSE_RULES), Refusal)

    def _pick_sentences(self, art: Article, case: Case) -> tuple[int, list[int]]:
        """Best sentence first — of the ``FIGURE_SENTENCES`` best (as many as the gate read),
        the one stating the figure asked — then up to two close runners-up (a bare heading
        is not a quote); an item （五）… comes right after its lead-in (有下列情形之一的，…：),
        so it reads as a rule. At most ``max_quotes`` in all. Returns (the answering
        sentence, all in order)."""
        hit = case.hit
        body = [s for s in hit.sentences
                if not (len(art.sentences) > 1 and s.sentence == 1 and art.heading
                        and art.sentence(1).text.rstrip("。；;") == art.heading)]
        pool = body or list(hit.sentences)
        # a catch-all item (（七）法律、行政法规规定的其他情形) answers nothing by itself
        pool = sorted(pool, key=lambda x: bool(_CATCH_ALL.search(art.sentence(x.sentence).text)))
        if case.figure == "stated":  # of the best, the one stating the figure leads
            top = [s for s in pool[:FIGURE_SENTENCES] if any(
                k.stated.search(normalize(art.sentence(s.sentence).text)) for k in case.kinds)]
            pool = top + [s for s in pool if s not in top]
        best = pool[0]
        margin = self.params.quote_margin
        chosen = [best.sentence] + [s.sentence for s in pool[1:] if s.score >= best.score - margin]
        out: list[int] = []
        for i in chosen:
            lead = _lead_in(art, i)
            out += [x for x in (lead, i) if x and x not in out]
        room = self.params.max_quotes - len(out)
        for i in list(out):  # a lead-in quoted alone (…情形之一的：) gets its best items
            items = set(_items_of(art, i))
            if items and not items & set(out) and room > 0:
                best_items = [x.sentence for x in hit.sentences if x.sentence in items][:room]
                out[out.index(i) + 1:out.index(i) + 1] = sorted(best_items)
                room -= len(best_items)
        return best.sentence, out[: self.params.max_quotes]

    def _compose(self, r: Retrieval, case: Case, ranked: tuple[tuple[str, int], ...]
                 ) -> Answer:
        """The cited answer: the lead names the answering sentence's clause; then the quotes;
        a national clause quoted as well comes last, under its own line."""
        hit, national = case.hit, case.national
        policy: Policy = self.index.policies[hit.doc_id]
        best, picked = self._pick_sentences(policy.article(hit.article), case)
        if national:
            picked = picked[: self.params.max_quotes - 1]
        cites = tuple(_cite(policy, hit.article, i) for i in picked)
        notes = [msg.AMOUNT_NOT_FIXED] if case.figure == "deferred" else []
        answering = next(c for c in cites if c.sentences[0] == best)
        lines = [msg.LEAD.format(citation=answering.text), *(f"“{c.quote}”" for c in cites)]
        if national:
            extra = _cite(self.index.policies[national.doc_id], national.article,
                          national.sentences[0].sentence)
            cites += (extra,)
            lines += [msg.ALSO_NATIONAL.format(citation=extra.text), f"“{extra.quote}”"]
        if case.old and case.old_first:  # asked of the old version alone: it leads
            olds = self._old_cites(case.old)
            cites = olds + cites
            year = self.index.policies[case.old.doc_id].date[:4]
            lines = [msg.LEAD_OLD.format(year=year, citation=olds[-1].text),
                     *(f"“{c.quote}”" for c in olds),
                     msg.NOW_IN_FORCE.format(citation=answering.text), *lines[1:]]
        elif case.old:
            old = self.index.policies[case.old.doc_id]
            extra = _cite(old, case.old.article, case.old.sentences[0].sentence)
            cites += (extra,)
            lines += [msg.ALSO_OLD.format(year=old.date[:4], citation=extra.text),
                      f"“{extra.quote}”"]
        lines += [*notes, msg.CLOSING]
        return Answer(r.question, "answered", "\n".join(lines), cites, ranked, "",
                      tuple(notes), case.feats)


    def _old_cites(self, hit: ArticleHit) -> tuple[Citation, ...]:
        """The earlier version's best sentence, after its lead-in when it is an item."""
        policy = self.index.policies[hit.doc_id]
        art, i = policy.article(hit.article), hit.sentences[0].sentence
        return tuple(_cite(policy, hit.article, x) for x in (_lead_in(art, i), i) if x)


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


def _items_of(art: Article, index: int) -> list[int]:
    """The items a lead-in sentence (有下列情形之一的，…：) introduces: the item sentences of
    its 款 after it; [] for any other sentence."""
    s = art.sentence(index)
    if s.item or not s.text.rstrip().endswith((":", "：")):
        return []
    return [x.index for x in art.sentences
            if x.paragraph == s.paragraph and x.item and x.index > index]


def _in_context(art: Article, best: list[int]) -> list[int]:
    """Sentences as the gate reads them: a lead-in with its items, and an item with its
    lead-in (…逾期不改正的，处5万元以上10万元以下的罚款：（一）… — the figure asked of an
    item is in the sentence that introduces it)."""
    out = [*best, *(i for b in best for i in _items_of(art, b) if i not in best)]
    return out + [x for x in dict.fromkeys(_lead_in(art, b) for b in best) if x and x not in out]


def _clauses(index: PolicyIndex, lexicon: Lexicon) -> gate.Clauses:
    """What the gate reads of an index, once: each document's jurisdiction (its own field,
    else what its title, 文号 and issuers name; national: none), the superseded ones, and
    each clause's text (its sentence chunks with their heading context) and evidence."""
    policies = index.policies
    parts: dict[tuple[str, int], list[str]] = {}
    for c in index.chunks:
        parts.setdefault((c.doc_id, c.article), []).append(c.text)

    def said(hit: ArticleHit, n: int) -> str:  # its n best sentences, read in context
        art = policies[hit.doc_id].article(hit.article)
        best = [s.sentence for s in hit.sentences[:n]]
        return normalize("".join(art.sentence(i).text for i in _in_context(art, best)))

    def evidence(hit: ArticleHit) -> str:  # what the clause says in answer: its 2 best
        return said(hit, 2)

    def figure_evidence(hit: ArticleHit) -> str:  # where a figure asked may be stated
        return said(hit, FIGURE_SENTENCES)

    text = {k: normalize(policies[k[0]].title + "".join(v)) for k, v in parts.items()}
    return gate.Clauses(
        jurisdiction={p.doc_id: lexicon.jurisdictions(normalize(
            p.jurisdiction or p.title + p.doc_no + "".join(p.issuers))) for p in policies.values()},
        superseded=frozenset(d for d, p in policies.items() if p.status == "superseded"),
        titles=tuple(normalize(p.title) for p in policies.values()),
        names=DocumentNames(policies.values()),
        text=text,
        evidence=evidence,
        predecessors={d: tuple(o for o, p in policies.items() if p.superseded_by == d)
                      for d in policies},
        years={d: p.date[:4] for d, p in policies.items()},
        sentences=lambda doc, art: [normalize(s.text)
                                    for s in policies[doc].article(art).sentences],
        figure_evidence=figure_evidence,
        quantities={k: q for k, t in text.items() if (q := lexicon.quantities(t))})
