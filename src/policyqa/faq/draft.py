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
from functools import lru_cache
from importlib import resources
from typing import Any

from policyqa.answer import Answer
from policyqa.errors import PolicyQAError
from policyqa.faq.model import FaqCitation, FaqDraft, check_citation, find_article
from policyqa.ingest.model import Article, Policy
from policyqa.service import PolicyQA
from policyqa.text import cjk_bigrams, load_terms, normalize, split_sentences

# Same need? e5 cosine of the thesaurus-expanded questions, or a lower cosine plus the overlap
# coefficient of content bigrams (the cosines of e5 crowd into 0.88-0.98 for any two HR
# questions). Grid-searched on 20 invented paraphrase groups (76 same-need pairs) against the
# 42,967 pairs of answerable eval/*.jsonl questions whose gold clauses differ: merges 88% of
# same-need pairs and 0.16% of different-clause ones; cosine alone at that recall (0.925), 0.41%.
SURE_COS, MIN_COS, MIN_OVERLAP = 0.94, 0.91, 0.4
_P = r"[^,，;；。:：]"  # a character inside one clause piece (pieces end at commas)
_SEP = re.compile(r"[,，;；:：]")
_START = r"(?:^|(?<=[,，;；:：]))"
_FRAMES: tuple[tuple[str, int, re.Pattern[str], tuple[str, ...]], ...] = (  # kind, rank, form
    ("grant", 0, re.compile(rf"(?:对(?P<x>{_P}+?)的(?P<y>{_P}{{0,10}}?)[,，]?)?{_P}*?(?:给予|予以)"
                            rf"(?P<z>{_P}{{0,16}}?(?:补贴|补助|奖励|津贴|奖补|资助))"),
     ("{s}有什么{k}？", "{s}能领{z}吗？", "请问{s}能不能享受{z}？", "{s}有没有{z}？",
      "{z}怎么申请？")),
    ("can", 1, re.compile(rf"{_START}(?P<y>{_P}*?)(?<![认许不宁])可(?:以)?(?![能持靠见])"
                          rf"(?P<x>{_P}{{2,}})"),
     ("{y}可以{x}吗？", "{y}能不能{x}？", "请问{y}能{x}吗？", "{y}可不可以{x}？")),
    ("norm", 1, re.compile(rf"{_START}(?P<y>{_P}*?)(?:不低于|不少于|不高于|不超过|至少|"
                           r"\d+(?:\.\d+)?[%％]以上|应当?占)"),
     ("{y}有什么要求？", "{y}有什么标准？", "对{y}有没有规定？", "请问{y}是怎么规定的？")),
    ("define", 3, re.compile(r"“(?P<z>[^“”]{2,12})”"),
     ("什么是“{z}”？", "“{z}”是什么意思？", "请问{z}指的是什么？", "{z}是怎么回事？")),
    ("support", 3, re.compile(rf"(?<!政策)支持(?![和与及或的等])(?P<x>{_P}{{4,}})"),
     ("{x}有什么支持政策？", "政府支持{x}吗？", "请问{x}有没有扶持政策？", "{x}能得到哪些支持？")),
    ("encourage", 4, re.compile(rf"鼓励(?![和与及或的等])(?P<x>{_P}{{4,}})"),
     ("{x}有哪些鼓励措施？", "是否鼓励{x}？", "国家鼓励{x}吗？", "请问政策鼓励{x}吗？")),
)
_HEADING = (("{h}有哪些措施？", "关于{h}有什么政策？", "{h}具体有哪些规定？", "请问{c}有什么政策？",
             "{c}方面有哪些支持？"),  # a measure (支持企业…) / a subject (补贴标准)
            ("关于{h}有什么规定？", "{h}是怎么规定的？", "请问{c}有哪些规定？",
             "想了解一下{c}的规定"))
_TITLE = re.compile(r"[^，,。；;：:…、\d]{2,18}")  # a heading, not a whole sentence
_MODAL = re.compile(r"应当|应该|必须|可以|不得")
_META = (  # the front matter answers what the document is: 文号, date, issuers
    ("《{t}》的文号是什么？", "{t}的发文字号是多少？", "请问这个文件的文号是多少？"),
    ("《{t}》是什么时候印发的？", "{t}的成文日期是哪天？", "请问这个文件是哪天发的？"),
    ("《{t}》是哪些部门发的？", "{t}的发文机关有哪些？", "请问这个文件是谁发的？"))
_RANK = {kind: rank for kind, rank, _, _ in _FRAMES} | {"heading": 2, "meta": 0}
_LEAD_VERB = re.compile(r"^(?:大力|进一步|全面)?(?:支持|鼓励|加强|促进|推动|推进|推行|完善|强化|"
                        r"打造|实施|建立健全|建立|健全|深化|落实)")
_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
_PAREN = re.compile(r"[（(][^（）()]*[）)]")
_FILLER = re.compile(r"按照有关规定|按规定|依法|符合条件的|相应|进一步|大力|持续|充分|积极|切实|"
                     r"我市|我省|本市|本省|全市|全省|等(?:青年|人员|人才|单位|企业)$|^(?:对|保证|确保)")
_LIST_ETC = re.compile(r"(?:、[^、]{1,10}?)+等")  # A、B、C等X -> A等X
_CONJ = re.compile(r"[、或和及]")
_HEAD = re.compile(r"(?:生|人才|青年|职工|员工|工人|企业|公司|单位|机构|学校|院校|技师|高级工)$")
_ASKING = re.compile(r"吗|什么|怎么|哪|多少|是否|能否|如何|几|啥|咋")
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_VERBS = {"新招用": "招", "招用": "招"}  # everyday verbs synonyms.txt does not list
_GENERIC = frozenset("企业 政策 规定 我们 可以 什么 怎么 如何 有没 没有 请问 能不 不能 需要 哪些 "
                     "是否 有关 相关 关于 一下 现在 公司 单位 员工 职工".split())


@dataclass(frozen=True)
class LoggedQuestion:
    """One citizen turn from the logs."""

    question: str  # as typed
    normalized: str  # policyqa.text.normalize(question)
    status: str  # "answered" | "refused"
    bad: bool  # rated 差评 (1-2)


@lru_cache(maxsize=1)
def _lexicon() -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(official -> everyday replacements, longest first; head nouns such as 技能人才).

    The first citizen form listed replaces its official term only if it asks nothing and keeps
    the term's head (same last character) — or, for two-character words, is another word (企业
    -> 公司, not 补贴 -> 补助) — so 应届生 stands for 毕业年度高校毕业生 but 违约 never for 服务期.
    Policy terms without such a form map to themselves, which keeps 小微企业 / 链主企业 whole.
    """
    text = resources.files("policyqa").joinpath("resources/synonyms.txt").read_text("utf-8")
    table: dict[str, str] = {t: t for t in load_terms()}
    for line in text.splitlines():
        official, _, forms = (x.strip() for x in line.split("#", 1)[0].partition("|"))
        if forms and _CJK.fullmatch(official):
            f = forms.split()[0]
            fits = _CJK.fullmatch(f) and not _ASKING.search(f) and len(f) <= len(official)
            table[official] = f if fits and (f[-1] == official[-1] if len(official) > 2 else
                                             not set(f) & set(official)) else official
            table.update({w: w for w in forms.split() if w not in table})  # already everyday
    pairs = tuple(sorted((table | _VERBS).items(), key=lambda kv: -len(kv[0])))
    return pairs, tuple(t for t, _ in pairs if _HEAD.search(t))


def _everyday(text: str) -> str:
    """Official wording -> the words citizens use (left to right, longest term first)."""
    pairs, out, i = _lexicon()[0], [], 0
    while i < len(text):
        hit = next(((o, f) for o, f in pairs if text.startswith(o, i)), (text[i], text[i]))
        out.append(hit[1])
        i += len(hit[0])
    return "".join(out)


def _last_term(phrase: str, heads_only: bool = True) -> str:
    """The last dictionary term of a phrase (a head noun such as 技能人才 by default)."""
    terms = _lexicon()[1] if heads_only else [o for o, _ in _lexicon()[0]]
    return max(((phrase.rfind(t) + len(t), len(t), t) for t in terms if t in phrase),
               default=(0, 0, ""))[2]


def _collapse(p: str) -> str:
    """Keep the first of parallel items: 高校毕业生、技工院校毕业生到企业 -> 高校毕业生到企业;
    毕业年度或登记失业离校2年内高校毕业生 -> 毕业年度高校毕业生 (modifiers of one head)."""
    p, i, heads = _LIST_ETC.sub("等", p), 0, _lexicon()[1]
    while m := _CONJ.search(p, i):
        k = m.start()
        left, tail = p[:k], p[k + 1:]
        cut = next((tail.find(left[-n:]) + n for n in (2, 1)
                    if len(left) >= n and left[-n:] in tail), -1)
        if cut < 0 and m.group() != "、":  # 或/和/及 between modifiers: up to the shared head
            cut = min((j for j in (tail.find(h) for h in heads) if j > 0), default=-1)
        elif cut < 0:  # A、B和C做… -> A做…; else drop up to 的, or to the end
            cut = max((tail.find(c + h) + 1 + len(h) for c in "和及与" for h in heads
                       if c + h in tail), default=tail.find("的") if "的" in tail else len(tail))
        if cut < 0:
            i = k + 1
        else:
            p, i = left + tail[cut:], k
    return p


def _gist(phrase: str, plain: bool = False) -> str:
    """A short (citizen-worded unless plain) form of a clause phrase; "" if none is left."""
    p = _collapse(_FILLER.sub("", _PAREN.sub("", phrase)).strip("，,的 "))
    p = p if plain else _everyday(p)
    return p if 2 <= len(p) <= 24 else ""


def _grams(norm: str) -> set[str]:
    return {g for g in cjk_bigrams(norm) if len(g) == 2 and g not in _GENERIC}


def _key(text: str) -> str:
    """Identity of a wording: normalised, punctuation and spaces dropped."""
    return re.sub(r"[\W_]+", "", normalize(text))


def _variants(q: str) -> list[str]:
    """Rule-based rewordings of a logged question (请问 / 有没有 / 能不能 / everyday words)."""
    core = q.strip().rstrip("？?。.！! ")
    out = [] if _ASKING.search(core) else [f"{core}有什么政策？", f"关于{core}有哪些规定？"]
    out.append(core[2:] + "？" if core.startswith("请问") else f"请问{core}？")
    swaps = (("可以", "可不可以"), ("能", "能不能"), ("有", "有没有"), ("是", "是不是"))
    out += [core[:-1].replace(a, b, 1) + "？" for a, b in swaps
            if core.endswith("吗") and a in core and b not in core][:1]
    out += [_everyday(core) + "？", f"想咨询一下，{core}？"]
    return [v for v in dict.fromkeys(out) if _key(v) != _key(q)]


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
                ranked.append((_RANK[kind] + seen[kind], -len(d.paraphrases), len(ranked), d))
                seen[kind] += 1
        kept: list[tuple[set[str], FaqDraft]] = []
        for *_, d in sorted(ranked, key=lambda t: t[:3]):  # near-identical questions: one entry
            g = _grams(normalize(d.question))
            if all(len(g & h) < 0.7 * len(g | h) and _key(d.question) not in
                   {_key(x) for x in k.paraphrases} for h, k in kept):
                kept.append((g, d))
        return [d for _, d in kept][:limit]

    def _candidates(self, p: Policy, a: Article) -> Iterator[tuple[str, list[int], list[str]]]:
        """(rule, quoted sentence indices, wordings: main first, official wording last)."""
        if a.ordinal == 0:
            facts = (lambda t: bool(p.doc_no) and p.doc_no in t, lambda t: bool(_DATE.search(t)),
                     lambda t: bool(p.issuers) and p.issuers[0] in t)
            for states, meta in zip(facts, _META, strict=True):
                if hit := next((s.index for s in a.sentences if states(s.text)), 0):
                    yield "meta", [hit], [t.format(t=p.title) for t in meta]
            return
        body = [s for s in a.sentences if s.text.rstrip("。；;") != a.heading]
        if body and _TITLE.fullmatch(a.heading) and not _MODAL.search(a.heading):
            c = _everyday(_LEAD_VERB.sub("", a.heading))
            yield "heading", [s.index for s in body][:10], [
                t.format(h=a.heading, c=c) for t in _HEADING[not _LEAD_VERB.match(a.heading)]]
        for s in body:
            for kind, _, rx, forms in _FRAMES:
                for m in list(rx.finditer(s.text))[:2]:
                    everyday, plain = (self._slots(kind, m, s.text, x) for x in (False, True))
                    if everyday and plain:
                        yield kind, [s.index], [t.format(**everyday) for t in forms] + [
                            forms[0].format(**plain)]

    @staticmethod
    def _slots(kind: str, m: re.Match[str], sentence: str, plain: bool) -> dict[str, str] | None:
        """Fill a frame's slots from the match; a missing subject comes from the piece before."""
        g = {k: v or "" for k, v in m.groupdict().items()}
        pieces = [x for x in _SEP.split(sentence[:m.start()]) if x.strip()]
        if kind == "grant":  # subject: 对X的Y, else the sentence's first piece before the grant
            s = (_gist(g["y"], plain) if g["y"] else "") + (_gist(g["x"], plain) if g["x"] else "")
            s = s or (_gist(pieces[0], plain) if pieces else "")
            return {"s": s, "z": g["z"], "k": g["z"][-2:]} if s and len(g["z"]) >= 2 else None
        if kind in ("can", "norm"):  # subject too long or missing: its head noun, or the piece
            y, prev = _gist(g["y"], plain), pieces[-1] if pieces else ""
            if not 2 <= len(y) <= 12:
                y = _last_term(g["y"]) or _last_term(prev, heads_only=kind == "can")
                y, alt = y if plain else _everyday(y), _gist(prev, plain)
                y = y or (alt if len(alt) <= 14 else "")
            x = _gist(g["x"], plain) if kind == "can" else "-"
            return {"y": y, "x": x} if y and x else None
        x = g["z"] if kind == "define" else _gist(g["x"], plain)
        return {"x": x, "z": x} if x else None

    def _verified(self, p: Policy, a: Article, kind: str, sents: list[int], cands: list[str]
                  ) -> FaqDraft | None:
        """Keep the wordings the service answers from this clause; a draft needs 3 of them."""
        ok: dict[str, str] = {}
        for q in cands:
            if _key(q) not in ok and self._routes(q, p.doc_id, a.ordinal):
                ok[_key(q)] = q
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
        matches no clause here) and is in the jurisdiction of any place named.
        """
        norm, th, lex = normalize(topic), self.qa.retriever.thesaurus, self.qa.answerer.lexicon
        words = self.qa.retriever.tokenizer.words(norm) if norm else []
        concepts = [w for w in words if not any(w != v and w in v for v in words)]
        forms = [[w, _everyday(w), *(e for e in th.expansions(w) if len(e) >= len(w))]
                 for w in concepts]  # 扩岗补助 -> 一次性扩岗补助, but not its part 补助 -> 补贴
        found: list[tuple[float, Policy, Article]] = []
        for hit in self.qa.retrieve(norm, k=8).articles if concepts else ():
            p, a = find_article(self._policies, hit.doc_id, hit.article)
            text = normalize(a.text)
            cov = sum(len(fs[0]) for fs in forms if any(f in text for f in fs)) / sum(
                map(len, concepts))
            home = lex.jurisdictions(normalize(p.title + p.doc_no + "".join(p.issuers)))
            if cov >= 0.6 and all(lex.covers(t, text) for t in lex.topics_in(norm)) and not (
                    home and any(j not in home for _, j in lex.places_in(norm))):
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
            if key := _key(t.normalized or t.question):
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
            paras += [v for v in _variants(question) if v not in paras][:max(0, 2 - len(paras))]
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
        sims, grams = vecs @ vecs.T, [_grams(e) for e in expanded]

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
