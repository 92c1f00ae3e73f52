"""Serving the 问答库: match a citizen's question to a published entry first.

An entry is matched by its question or any paraphrase, semantically (cosine of
e5 query embeddings, computed through the retriever's cache so a question is
encoded once for FAQ and policy retrieval together) and lexically (the share of
the question's character bigrams that the matched wording contains). Below the
thresholds the policy retrieval answers as before, so an FAQ can only add
reviewed answers, never take a question away from the clause that answers it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from policyqa import messages as msg
from policyqa.answer import Answer, Citation
from policyqa.faq.model import question_key
from policyqa.faq.search import VectorSearch
from policyqa.faq.vectors import WordingVectors
from policyqa.ingest.model import Policy
from policyqa.text import cjk_bigrams

Embed = Callable[[str], np.ndarray]  # question -> L2-normalised vector (query side)


@dataclass(frozen=True)
class MatchParams:
    # Calibrated with bench/faq_match.py (dev questions as entries, held-out questions
    # asked): at 0.94 every held-out match was right except one the gate vetoes (a
    # place outside the jurisdiction); at 0.93 seven went to the wrong clause.
    sure: float = 0.94  # cosine at which a wording is the same question
    min_cos: float = 0.91  # below this never; in between the wording must also overlap
    min_overlap: float = 0.7  # share of the question's bigrams found in the wording


@dataclass(frozen=True)
class FaqMatch:
    entry: dict[str, Any]
    wording: str  # the question or paraphrase that matched
    score: float
    exact: bool


def overlap(question: str, wording: str) -> float:
    grams = set(cjk_bigrams(question))
    if not grams:
        return 0.0
    return len(grams & set(cjk_bigrams(wording))) / len(grams)


INLINE_MAX = 32  # new wordings a load encodes itself; more are left to the background job


class FaqMatcher:
    """In-memory view of the servable entries; ``load`` swaps it atomically.

    ``vectors``: the wordings' vectors stored in the database (shared by all processes).
    Without it (tests, the CLI) every new wording is encoded here.
    """

    def __init__(self, embed: Embed, params: MatchParams | None = None,
                 vectors: WordingVectors | None = None) -> None:
        self._embed = embed
        self.params = params or MatchParams()
        self.vectors = vectors
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._forms: list[tuple[int, str, str]] = []  # (entry row, wording, key)
        self._exact: dict[str, int] = {}  # wording key -> its first row in _forms
        self._search = VectorSearch([], np.zeros((0, 1), dtype=np.float32))
        self._by_article: dict[tuple[str, int], list[str]] = {}
        self._owner: dict[int, int] = {}  # search row -> entry row (first entry with it)
        self.pending = 0  # wordings waiting for the background job (not served yet)

    def _vectors_for(self, wordings: list[str]) -> dict[str, np.ndarray]:
        """Vectors of these wordings: kept from the last view, stored, or encoded now when
        few (a publish); the rest wait for the background job."""
        with self._lock:
            search = self._search
        known = {w: search.vecs[j] for j, w in enumerate(search.words)}
        need = [w for w in wordings if w not in known]
        if need and self.vectors is not None:
            known.update(self.vectors.stored(need))
            need = [w for w in need if w not in known]
        if need and (self.vectors is None or len(need) <= INLINE_MAX):
            known.update(self.vectors.encode(need) if self.vectors is not None
                         else {w: self._embed(w) for w in need})
            need = []
        self.pending = len(need)
        return known

    def load(self, entries: Sequence[dict[str, Any]]) -> None:
        """Swap in a new set of servable entries. Wordings already loaded keep their
        vectors, so a publish re-encodes only what is new (not the whole base)."""
        forms = [(i, w, question_key(w)) for i, e in enumerate(entries)
                 for w in [e["question"], *e["paraphrases"]]]
        known = self._vectors_for(list(dict.fromkeys(w for _, w, _ in forms)))
        forms = [f for f in forms if f[1] in known]  # a wording not encoded yet waits
        words = list(dict.fromkeys(w for _, w, _ in forms))
        vecs = (np.vstack([known[w] for w in words]).astype(np.float32) if words
                else np.zeros((0, 1), dtype=np.float32))
        search = VectorSearch(words, vecs, previous=self._search)
        row = {w: j for j, w in enumerate(words)}
        by_article: dict[tuple[str, int], list[str]] = {}
        for e in entries:
            if e["citations"]:
                c = e["citations"][0]
                by_article.setdefault((c["doc_id"], int(c["article"])), []).append(e["question"])
        exact: dict[str, int] = {}
        for j, (_, _, k) in enumerate(forms):
            exact.setdefault(k, j)
        owner: dict[int, int] = {}
        for i, w, _ in forms:
            owner.setdefault(row[w], i)
        with self._lock:
            self._entries, self._forms, self._search = list(entries), forms, search
            self._by_article, self._exact, self._owner = by_article, exact, owner

    def take_vectors(self, other: FaqMatcher) -> None:
        """Start from another matcher's encoded wordings (a new index build: the same
        encoder, so the vectors hold), so the next :meth:`load` encodes only what is new."""
        with other._lock:
            search = other._search
        with self._lock:
            self._search = search  # vectors (and the IVF index) only: load() does the rest

    def serves(self, entry_id: str) -> bool:
        with self._lock:
            return any(e["id"] == entry_id for e in self._entries)

    def questions_for(self, key: tuple[str, int]) -> list[str]:
        """Published questions whose answer cites this clause (for 猜你想问)."""
        with self._lock:
            return list(self._by_article.get(key, []))

    def published(self) -> list[tuple[str, tuple[str, int]]]:
        """(question, clause it cites first) of every served entry: wording an officer
        approved, which is all that the public lists (热点问题) may show."""
        with self._lock:
            return [(q, key) for key, qs in self._by_article.items() for q in qs]

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, question: str, qvec: np.ndarray | None = None) -> FaqMatch | None:
        with self._lock:
            entries, forms, exact = self._entries, self._forms, self._exact
            search, owner = self._search, self._owner
        if not forms:
            return None
        key = question_key(question)
        if key in exact:  # a dict, not a scan: the base may hold tens of thousands of wordings
            i, w, _ = forms[exact[key]]
            return FaqMatch(entries[i], w, 1.0, True)
        q = self._embed(question) if qvec is None else qvec
        best, score = search.best(q)
        if best < 0:
            return None
        i, wording = owner[best], search.words[best]
        p = self.params
        if score >= p.sure or (score >= p.min_cos and
                               overlap(key, question_key(wording)) >= p.min_overlap):
            return FaqMatch(entries[i], wording, score, False)
        return None


def faq_answer(m: FaqMatch, question: str, policies: Mapping[str, Policy]) -> Answer:
    """The entry as an :class:`Answer` with full citations (title, 条, heading, url)."""
    cites = []
    for c in m.entry["citations"]:
        p = policies.get(c["doc_id"])
        if p is None:
            continue
        try:
            a = p.article(int(c["article"]))
        except KeyError:
            continue
        idx = tuple(s.index for s in a.sentences if s.text in c["quote"])
        cites.append(Citation(p.doc_id, p.doc_no, p.title, a.ordinal, a.cite_label, a.heading,
                              c["quote"], idx, p.source_url))
    lines = [msg.FAQ_LEAD.format(question=m.entry["question"])]
    if cites:
        lines.append(msg.LEAD.format(citation=cites[0].text))
        same = len({(c.doc_id, c.article) for c in cites}) == 1
        lines += [f"“{c.quote}”" if same else msg.QUOTE.format(quote=c.quote, citation=c.text)
                  for c in cites]
    if m.entry["answer_text"] and not cites:
        lines.append(m.entry["answer_text"])
    lines.append(msg.CLOSING)
    ranked = tuple(dict.fromkeys((c.doc_id, c.article) for c in cites))
    return Answer(question, "answered", "\n".join(lines), tuple(cites), ranked, "",
                  (), {"faq_score": m.score})
