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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from policyqa import messages as msg
from policyqa.answer import Answer, Citation
from policyqa.faq.model import question_key
from policyqa.faq.vectors import WordingVectors
from policyqa.faq.view import Item, View, build, changed_items, items_for
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
    """In-memory view of the servable entries (:class:`~policyqa.faq.view.View`);
    ``load`` / ``update`` swap in a new one atomically.

    ``vectors``: the wordings' vectors stored in the database (shared by all processes).
    Without it (tests, the CLI) every new wording is encoded here.
    """

    def __init__(self, embed: Embed, params: MatchParams | None = None,
                 vectors: WordingVectors | None = None) -> None:
        self._embed = embed
        self.params = params or MatchParams()
        self.vectors = vectors
        self._lock = threading.Lock()
        self._view = View()

    @property
    def pending(self) -> int:
        """Wordings waiting for the background job (not served yet)."""
        return self._view.waiting

    def _vectors_for(self, need: list[str]) -> dict[str, np.ndarray]:
        """Vectors of wordings the view has none for: stored, or encoded now when few (a
        publish); the rest wait for the background job."""
        known: dict[str, np.ndarray] = {}
        if self.vectors is not None:
            known.update(self.vectors.stored(need))
            need = [w for w in need if w not in known]
        if need and (self.vectors is None or len(need) <= INLINE_MAX):
            known.update(self.vectors.encode(need) if self.vectors is not None
                         else {w: self._embed(w) for w in need})
        return known

    def _swap(self, items: dict[str, Item]) -> None:
        with self._lock:
            previous = self._view
        view = build(items, previous, self._vectors_for)
        with self._lock:
            self._view = view

    def load(self, entries: Sequence[dict[str, Any]]) -> None:
        """Swap in this whole set of servable entries. Wordings already loaded keep their
        vectors and keys, so a publish re-encodes only what is new (not the whole base)."""
        with self._lock:
            previous = self._view.items
        self._swap(items_for(entries, previous))

    def update(self, changed: Sequence[dict[str, Any]], gone: Iterable[str]) -> None:
        """Swap in the view with the entries ``gone`` taken out and ``changed`` (servable
        entries, new or edited) put in: what a publish, edit or retire costs is what it
        changed. With nothing changed it still looks again for wordings that had no
        vector (the background job may have stored them since)."""
        with self._lock:
            previous = self._view.items
        self._swap(changed_items(previous, changed, gone))

    def take_vectors(self, other: FaqMatcher) -> None:
        """Start from another matcher's encoded wordings (a new index build: the same
        encoder, so the vectors hold), so the next :meth:`load` encodes only what is new."""
        with other._lock:
            view = other._view
        with self._lock:  # vectors, keys and the IVF index; what is served comes with load()
            self._view = View(items=view.items, search=view.search)

    def serves(self, entry_id: str) -> bool:
        with self._lock:
            return entry_id in self._view.items

    def served(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._view.entries)

    def questions_for(self, key: tuple[str, int]) -> list[str]:
        """Published questions whose answer cites this clause (for 猜你想问)."""
        with self._lock:
            return list(self._view.by_article.get(key, []))

    def published(self) -> list[tuple[str, tuple[str, int]]]:
        """(question, clause it cites first) of every served entry: wording an officer
        approved, which is all that the public lists (热点问题) may show."""
        with self._lock:
            return [(q, key) for key, qs in self._view.by_article.items() for q in qs]

    def __len__(self) -> int:
        return len(self._view.entries)

    def match(self, question: str, qvec: np.ndarray | None = None) -> FaqMatch | None:
        with self._lock:
            v = self._view
        if not v.forms:
            return None
        key = question_key(question)
        if key in v.exact:  # a dict, not a scan: the base may hold tens of thousands of wordings
            i, w, _ = v.forms[v.exact[key]]
            return FaqMatch(v.entries[i], w, 1.0, True)
        q = self._embed(question) if qvec is None else qvec
        best, score = v.search.best(q)
        if best < 0:
            return None
        i, wording = v.owner[best], v.search.words[best]
        p = self.params
        if score >= p.sure or (score >= p.min_cos and
                               overlap(key, question_key(wording)) >= p.min_overlap):
            return FaqMatch(v.entries[i], wording, score, False)
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
