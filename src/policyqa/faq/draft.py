"""Draft 问答库 entries from a clause, a topic or citizens' logs — rules plus the real pipeline.

Officers review every draft, so drafting aims at *trustworthy* suggestions, not many:
questions come from rules on the clause's sentence forms (对…给予…补贴, 支持…, 鼓励…, …可…,
…不低于…, “术语”, the heading), worded with the citizen side of ``resources/synonyms.txt``;
each wording is then asked through ``PolicyQA.ask`` and kept only if the service answers it
from the very clause it was drafted from, so an entry never disagrees with the chat. Answers
are verbatim sentences checked by ``check_citation``, like any import. No rule names a
document, a numbering style or a question: every slot is filled from the clause text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from policyqa.answer import Answer
from policyqa.errors import PolicyQAError
from policyqa.faq.model import FaqCitation, FaqDraft, check_citation, find_article
from policyqa.faq.wording import (
    ACTOR,
    BAD_SLOT,
    DATE,
    FRAMES,
    HEADING,
    LAW_KINDS,
    LEAD_VERB,
    META,
    MODAL,
    RANK,
    SEP,
    TITLE,
    USES_Y,
    content_bigrams,
    gist,
    last_term,
    to_everyday,
    variants,
    wording_key,
)
from policyqa.ingest.model import Article, Policy
from policyqa.service import PolicyQA
from policyqa.text import normalize, split_sentences

# Same need? e5 cosine of the thesaurus-expanded questions, or a lower cosine plus the overlap
# coefficient of content bigrams (the cosines of e5 crowd into 0.88-0.98 for any two HR
# questions). Grid-searched on 20 invented paraphrase groups (76 same-need pairs) against the
# 42,967 pairs of answerable eval/*.jsonl questions whose gold clauses differ: merges 88% of
# same-need pairs and 0.16% of different-clause ones; cosine alone at that recall (0.925), 0.41%.
SURE_COS, MIN_COS, MIN_OVERLAP = 0.94, 0.91, 0.4
@dataclass(frozen=True)
class LoggedQuestion:
    """One citizen turn from the logs."""

    question: str  # as typed
    normalized: str  # policyqa.text.normalize(question)
    status: str  # "answered" | "refused"
    bad: bool  # rated 差评 (1-2)


_NOT_OURS = ("place", "document")  # refusals no clause of ours can answer


class Drafter:
    """Turns clauses, topics and logs into verified draft entries (see the module docstring).

    Answers are cached per instance (one officer session), as one clause is asked about
    from several sentence forms and topics reuse the same clauses.
    """

    def __init__(self, qa: PolicyQA) -> None:
        self.qa = qa
        self._policies = qa.index.policies
        self._asked: dict[str, Answer | None] = {}

    def from_clause(self, doc: str, article: int, limit: int = 5) -> list[FaqDraft]:
        """Questions this clause answers, best first; InvalidEntry for an unknown clause."""
        p, a = find_article(self._policies, doc, article)
        seen: Counter[str] = Counter()  # a rule's n-th draft ranks n steps lower: variety
        ranked: list[tuple[int, int, int, FaqDraft]] = []
        for kind, sents, cands in self._candidates(p, a):
            if d := self._verified(p, a, kind, sents, cands):
                ranked.append((RANK[kind] + seen[kind], -len(d.paraphrases), len(ranked), d))
                seen[kind] += 1
        kept: list[tuple[set[str], FaqDraft]] = []
        for *_, d in sorted(ranked, key=lambda t: t[:3]):  # near-identical questions: one entry
            g = content_bigrams(normalize(d.question))
            if all(len(g & h) < 0.7 * len(g | h) and wording_key(d.question) not in
                   {wording_key(x) for x in k.paraphrases} for h, k in kept):
                kept.append((g, d))
        return [d for _, d in kept][:limit]

    def _candidates(self, p: Policy, a: Article) -> Iterator[tuple[str, list[int], list[str]]]:
        """(rule, quoted sentence indices, wordings: main first, official wording last)."""
        if a.ordinal == 0:
            facts = (lambda t: bool(p.doc_no) and p.doc_no in t, lambda t: bool(DATE.search(t)),
                     lambda t: bool(p.issuers) and p.issuers[0] in t)
            for states, meta in zip(facts, META, strict=True):
                if hit := next((s.index for s in a.sentences if states(s.text)), 0):
                    yield "meta", [hit], [t.format(t=p.title) for t in meta]
            return
        body = [s for s in a.sentences if s.text.rstrip("。；;") != a.heading]
        if body and TITLE.fullmatch(a.heading) and not MODAL.search(a.heading):
            c = to_everyday(LEAD_VERB.sub("", a.heading))
            yield "heading", [s.index for s in body][:10], [
                t.format(h=a.heading, c=c) for t in HEADING[not LEAD_VERB.match(a.heading)]]
        for s in body:
            for kind, _, rx, forms in FRAMES:
                if s.item and kind in LAW_KINDS:  # an item (（七）…) is a case of its lead-in
                    continue
                for m in list(rx.finditer(s.text))[:2]:
                    everyday, plain = (self._slots(kind, m, s.text, x) for x in (False, True))
                    if everyday and plain:
                        yield kind, [s.index], [t.format(**everyday) for t in forms] + [
                            forms[0].format(**plain)]

    @staticmethod
    def _slots(kind: str, m: re.Match[str], sentence: str, plain: bool) -> dict[str, str] | None:
        """Fill a frame's slots from the match; a missing subject comes from the piece before."""
        g = {k: v or "" for k, v in m.groupdict().items()}
        pieces = [x for x in SEP.split(sentence[:m.start()]) if x.strip()]
        if kind == "grant":  # subject: 对X的Y, else the sentence's first piece before the grant
            s = (gist(g["y"], plain) if g["y"] else "") + (gist(g["x"], plain) if g["x"] else "")
            s = s or (gist(pieces[0], plain) if pieces else "")
            return {"s": s, "z": g["z"], "k": g["z"][-2:]} if s and len(g["z"]) >= 2 else None
        if kind in ("can", "norm"):  # subject too long or missing: its head noun, or the piece
            y, prev = gist(g["y"], plain), pieces[-1] if pieces else ""
            if not 2 <= len(y) <= 12:
                y = last_term(g["y"]) or last_term(prev, heads_only=kind == "can")
                y, alt = y if plain else to_everyday(y), gist(prev, plain)
                y = y or (alt if len(alt) <= 14 else "")
            x = gist(g["x"], plain) if kind == "can" else "-"
            return {"y": y, "x": x} if y and x else None
        if kind in LAW_KINDS:  # subject: its own slot, else the piece before (建立劳动关系，应当…)
            n = 30 if kind == "pay" else 24  # a condition (未订立书面劳动合同的) runs longer
            y = gist(g.get("y") or "", plain, n) or (gist(pieces[-1], plain) if pieces else "")
            x = gist(g["x"], plain)
            needs_subject = kind in ("forbid", "entitled", "enjoy", "duty", "pay")
            y = y if kind in USES_Y else ""
            if BAD_SLOT.search(x) or BAD_SLOT.search(y) or (kind == "calc" and ACTOR.search(y)):
                return None
            return {"y": y, "x": x} if x and (y or not needs_subject) else None
        x = g["z"] if kind == "define" else gist(g["x"], plain)
        return {"x": x, "z": x} if x else None

    def _verified(self, p: Policy, a: Article, kind: str, sents: list[int], cands: list[str]
                  ) -> FaqDraft | None:
        """Keep the wordings the service answers from this clause; a draft needs 3 of them."""
        ok: dict[str, str] = {}
        for q in cands:
            if wording_key(q) not in ok and self._routes(q, p.doc_id, a.ordinal):
                ok[wording_key(q)] = q
        if len(ok) < 3:
            return None
        cites = [check_citation(self._policies, {"doc_id": p.doc_id, "article": a.ordinal,
                                                 "quote": a.sentence(i).text}) for i in sents]
        qs = list(ok.values())
        return FaqDraft(qs[0], qs[1:6], "\n".join(c.quote for c in cites), cites, "clause",
                        {"rule": kind, "sentence": sents[0], "sentences": sents})

    def _ask(self, q: str) -> Answer | None:
        if q not in self._asked:
            try:
                self._asked[q] = self.qa.ask(q)
            except PolicyQAError:  # empty or over-long wording
                self._asked[q] = None
        return self._asked[q]

    def _routes(self, q: str, doc_id: str, ordinal: int) -> bool:
        ans = self._ask(q)
        return bool(ans and ans.status == "answered" and ans.citations
                    and (ans.citations[0].doc_id, ans.citations[0].article) == (doc_id, ordinal))

    def from_topic(self, topic: str, limit: int = 5) -> list[FaqDraft]:
        """Drafts from the (up to 3) clauses that cover a topic; [] when no clause names it.

        Retrieval always returns *something*, so a clause counts only if it contains most of
        the topic's words (or their policy wording), names the HR topic it names (养老保险
        matches no clause here) and is in the jurisdiction of any place named; a topic the
        gate refuses for its place or for naming a document we do not hold has none.
        """
        norm, th = normalize(topic), self.qa.retriever.thesaurus
        words = self.qa.retriever.tokenizer.words(norm) if norm else []
        concepts = [w for w in words if not any(w != v and w in v for v in words)]
        forms = [[w, to_everyday(w), *(e for e in th.expansions(w) if len(e) >= len(w))]
                 for w in concepts]  # 扩岗补助 -> 一次性扩岗补助, but not its part 补助 -> 补贴
        if not concepts or self.qa.ask(norm).reason in _NOT_OURS:
            return []
        found: list[tuple[float, Policy, Article]] = []
        for hit in self.qa.retrieve(norm, k=8).articles:
            p, a = find_article(self._policies, hit.doc_id, hit.article)
            text = normalize(a.text)
            cov = sum(len(fs[0]) for fs in forms if any(f in text for f in fs)) / sum(
                map(len, concepts))
            if cov >= 0.6 and self.qa.answerer.admits(norm, p.doc_id, a.ordinal):
                found.append((cov, p, a))
        best = max((c for c, _, _ in found), default=0.0)
        ranked: list[tuple[int, int, int, FaqDraft]] = []
        for n, (_, p, a) in enumerate([f for f in found if f[0] >= best - 0.2][:3]):
            for i, d in enumerate(self.from_clause(p.doc_id, a.ordinal, limit=50)):
                said = [d.question, "".join(d.paraphrases), d.answer_text]
                where = next((k for k, x in enumerate(said) if any(
                    normalize(f) in normalize(x) for fs in forms for f in fs)), 3)
                d.origin, d.evidence = "topic", {**d.evidence, "topic": topic}
                ranked.append((where, n, i, d))  # the topic in the question first
        return [t[3] for t in sorted(ranked, key=lambda t: t[:3])][:limit]

    def from_logs(self, turns: Sequence[LoggedQuestion], limit: int = 20, min_count: int = 2
                  ) -> list[FaqDraft]:
        """One draft per citizen need that was refused, rated 差评 or asked >= min_count times;
        those refused or 差评 first (the 问答库 gaps), then the most asked."""
        groups: dict[str, list[LoggedQuestion]] = {}
        for t in turns:
            if key := wording_key(t.normalized or t.question):
                groups.setdefault(key, []).append(t)
        out: list[tuple[tuple[int, int], FaqDraft]] = []
        for members in self._cluster(sorted(groups, key=lambda k: -len(groups[k]))):
            asked = [t for k in members for t in groups[k]]
            refused, bad = sum(t.status == "refused" for t in asked), sum(t.bad for t in asked)
            if not (refused or bad or len(asked) >= min_count):
                continue
            wordings = [Counter(t.question.strip() for t in groups[k]).most_common(1)[0][0]
                        for k in members]  # the most-asked wording leads
            question, paras = wordings[0], wordings[1:6]
            paras += [v for v in variants(question) if v not in paras][:max(0, 2 - len(paras))]
            ev: dict[str, Any] = {"asked": len(asked), "refused": refused, "bad": bad,
                                  "examples": wordings[:5]}
            text, cites = self._answer(question, ev)
            out.append(((0 if refused or bad else 1, -len(asked)),
                        FaqDraft(question, paras, text, cites, "logs", ev)))
        return [d for _, d in sorted(out, key=lambda t: t[0])][:limit]

    def _cluster(self, keys: list[str]) -> list[list[str]]:
        """Greedy, most asked first: a question joins the first cluster whose members it is the
        same need as for at least half of them (so no chain of near neighbours drifts off)."""
        if not keys:
            return []
        expanded = [self.qa.retriever.thesaurus.expand(k) for k in keys]
        vecs = self.qa.encoder.encode_queries(expanded)
        sims, grams = vecs @ vecs.T, [content_bigrams(e) for e in expanded]

        def same(i: int, j: int) -> bool:
            ov = len(grams[i] & grams[j]) / max(1, min(len(grams[i]), len(grams[j])))
            return bool(sims[i, j] >= SURE_COS or (sims[i, j] >= MIN_COS and ov >= MIN_OVERLAP))

        clusters: list[list[int]] = []
        for i in range(len(keys)):
            home = next((c for c in clusters if 2 * sum(same(i, j) for j in c) >= len(c)), None)
            if home is None:
                clusters.append([i])
            else:
                home.append(i)
        return [[keys[i] for i in c] for c in clusters]

    def _answer(self, question: str, ev: dict[str, Any]) -> tuple[str, list[FaqCitation]]:
        """The service's answer as verbatim sentences; ("", []) and needs_clause if refused."""
        ans = self._ask(question)
        if ans is None or ans.status != "answered":
            ev["needs_clause"] = True  # an officer picks the clause, or rules it out of scope
            ev["nearest"] = [{"doc_id": d, "article": n}
                             for d, n in (ans.ranked[:3] if ans else ())]
            return "", []
        cites: list[FaqCitation] = []
        for c in ans.citations:
            for s in split_sentences(c.quote):  # one citation per sentence
                fc = check_citation(self._policies, {"doc_id": c.doc_id, "article": c.article,
                                                     "quote": s})
                cites += [fc] if fc not in cites else []
        return "\n".join(c.quote for c in cites), cites
