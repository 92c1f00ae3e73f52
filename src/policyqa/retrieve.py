"""Hybrid retrieval: dense (e5) + lexical (BM25) over sentence chunks, ranked by article.

Fusion and aggregation are small pure functions so they can be tuned and
tested without a model. An article scores by its best sentence plus a little
of its second best (a clause that answers a question usually does so in one
sentence; a second supporting sentence breaks ties).
"""

from __future__ import annotations

import heapq
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from policyqa.encoder import Encoder
from policyqa.index import PolicyIndex
from policyqa.ingest.chunk import parse_chunk_id
from policyqa.lexicon import Thesaurus
from policyqa.text import Tokenizer, normalize

QUERY_CACHE_SIZE = 2048


@dataclass(frozen=True)
class RetrievalParams:
    w_lexical: float = 0.06  # weight of max-normalised BM25 against cosine (dev-tuned, 18 docs)
    w_second: float = 0.0  # share of the second-best sentence in an article's score
    dense_k: int = 200  # dense candidates (all chunks for small corpora)
    # lexical candidates: the best BM25 matches (character bigrams match hundreds of
    # sentences a question; those below the best 200 never reach the top articles)
    lexical_k: int = 200
    expand_dense: bool = True  # embed the thesaurus-expanded question (else the plain one)


@dataclass(frozen=True)
class SentenceHit:
    chunk_id: str
    doc_id: str
    article: int
    sentence: int
    dense: float  # cosine similarity
    lexical: float  # BM25, max-normalised over this query's matches (0..1)
    score: float


@dataclass(frozen=True)
class ArticleHit:
    doc_id: str
    article: int
    score: float
    sentences: tuple[SentenceHit, ...]  # best first

    @property
    def dense(self) -> float:
        return max(s.dense for s in self.sentences)


@dataclass(frozen=True)
class Signals:
    """Everything measured about one question before fusion (cacheable for tuning)."""

    question: str
    normalized: str
    expanded: str  # normalized + policy wording for the citizen wording found
    dense: dict[str, float]
    lexical: dict[str, float]


@dataclass(frozen=True)
class Retrieval:
    question: str
    normalized: str
    expanded: str
    articles: tuple[ArticleHit, ...]


def fuse(dense: Mapping[str, float], lexical: Mapping[str, float], w_lexical: float
         ) -> dict[str, tuple[float, float, float]]:
    """Per chunk: (dense, normalised lexical, fused). Chunks absent from dense get its minimum."""
    floor = min(dense.values(), default=0.0)
    top = max(lexical.values(), default=0.0)
    out = {}
    for cid in set(dense) | set(lexical):
        d = dense.get(cid, floor)
        lx = lexical.get(cid, 0.0) / top if top > 0 else 0.0
        out[cid] = (d, lx, d + w_lexical * lx)
    return out


def aggregate(fused: Mapping[str, tuple[float, float, float]], w_second: float,
              k: int | None = None, spare: frozenset[str] = frozenset()) -> list[ArticleHit]:
    """Group sentence hits by article; article score = best + w_second * (second - best).
    Only the ``k`` best articles are built in full (every question fuses hundreds of
    sentences; the rest are never looked at): an article's sentences are sorted only
    once it is among them. Articles of the ``spare`` documents (superseded versions) do
    not count toward ``k``: a short old law whose every article shares the title's words
    would otherwise fill all ``k`` places, and the version in force never be a candidate."""
    groups: dict[tuple[str, int], list[tuple[str, int, float, float, float]]] = {}
    for cid, (d, lx, s) in fused.items():
        doc, art, sent = parse_chunk_id(cid)
        groups.setdefault((doc, art), []).append((cid, sent, d, lx, s))
    scored = []
    for key, sents in groups.items():
        best = max(x[4] for x in sents)
        if w_second and len(sents) > 1:
            second = heapq.nlargest(2, (x[4] for x in sents))[1]
            best += w_second * (second - best)
        scored.append((best, key))
    top = _best(scored, k, spare)
    out = []
    for score, (doc, art) in top:
        sents = sorted(groups[(doc, art)], key=lambda x: x[4], reverse=True)
        out.append(ArticleHit(doc, art, score, tuple(SentenceHit(cid, doc, art, sent, d, lx, s)
                                                     for cid, sent, d, lx, s in sents)))
    return out


def _best(scored: list[tuple[float, tuple[str, int]]], k: int | None, spare: frozenset[str]
          ) -> list[tuple[float, tuple[str, int]]]:
    """The ``k`` best (score, article) pairs, best first, plus any article of a ``spare``
    document ranked above the last of them."""
    def order(x: tuple[float, tuple[str, int]]) -> tuple[float, tuple[str, int]]:
        return -x[0], x[1]

    if k is None:
        return sorted(scored, key=order)
    if not spare:
        return heapq.nsmallest(k, scored, key=order)
    out, counted = [], 0
    for item in sorted(scored, key=order):
        if counted == k:
            break
        out.append(item)
        counted += item[1][0] not in spare
    return out


def rank(sig: Signals, params: RetrievalParams, k: int,
         spare: frozenset[str] = frozenset()) -> Retrieval:
    """Pure: fuse the measured signals and rank articles (``spare``: see :func:`aggregate`)."""
    articles = aggregate(fuse(sig.dense, sig.lexical, params.w_lexical), params.w_second, k,
                         spare)
    return Retrieval(sig.question, sig.normalized, sig.expanded, tuple(articles))


_ASKING = re.compile(r"(吗|呢|么|？|\?|怎么|怎样|如何|多少|几|哪|谁|什么|是否|能否|能不能|可不可以|"
                     r"可以不|有没有|要不要|算不算|行不行|合不合)")
_CLAUSE_END = re.compile(r"(?<=[。！？!?；;])")


def asking_part(norm: str, min_chars: int) -> str:
    """The part of a long question that asks (its last sentences with a question word):
    in 我在重庆干了3年…上个月公司说经营困难…我能领失业金吗 the legal issue is at the end.
    Not used in serving: retrieving on it (alone, max or average with the whole question)
    did not beat the whole question (bench/situational.py)."""
    if len(norm) < min_chars:
        return ""
    parts = [p for p in _CLAUSE_END.split(norm) if p.strip()]
    if len(parts) < 2:
        return ""
    asking = [p for p in parts if _ASKING.search(p)]
    return "".join(asking[-2:]) if asking else parts[-1]


class Retriever:
    def __init__(self, index: PolicyIndex, encoder: Encoder, tokenizer: Tokenizer,
                 thesaurus: Thesaurus, params: RetrievalParams | None = None,
                 encode_slots: int = 2) -> None:
        self.index = index
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.thesaurus = thesaurus
        self.params = params or RetrievalParams()
        # Questions encoded at once. Each run on one core, so more than the cores gives
        # no throughput; and onnxruntime keeps buffers for every run in flight, so an
        # unbounded number (the web server's 40 worker threads) grew RSS by hundreds of
        # MB under a burst of long questions.
        self._slots = threading.BoundedSemaphore(max(1, encode_slots))
        # Citizens ask the same (hot) questions again and again; encoding is most of the cost.
        self._qvec: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # guards the cache only; encodes run concurrently

    def _embed(self, text: str) -> np.ndarray:
        with self._lock:
            vec = self._qvec.get(text)
            if vec is not None:
                self._qvec.move_to_end(text)
                return vec
        with self._slots:
            vec = self.encoder.encode_queries([text])[0]
        with self._lock:
            self._qvec[text] = vec
            if len(self._qvec) > QUERY_CACHE_SIZE:
                self._qvec.popitem(last=False)
        return vec

    def query_text(self, question: str) -> str:
        """The exact text a question is encoded as (normalised, expanded if so tuned)."""
        norm = normalize(question)
        return self.thesaurus.expand(norm) if self.params.expand_dense else norm

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Query-side vectors of already prepared texts (:meth:`query_text`), as one batch
        holding one encoder slot: a background job shares the cores with the questions."""
        with self._slots:
            return self.encoder.encode_queries(list(texts))

    def embed_query(self, question: str) -> tuple[str, str, np.ndarray]:
        """(normalized, expanded, vector) of a question, through the shared cache, so the
        FAQ matcher and retrieval encode a question once between them."""
        norm = normalize(question)
        expanded = self.thesaurus.expand(norm)
        return norm, expanded, self._embed(expanded if self.params.expand_dense else norm)

    def signals(self, question: str) -> Signals:
        norm, expanded, qvec = self.embed_query(question)
        dense = {c.id: s for c, s in self.index.dense_search(qvec, self.params.dense_k)}
        lexical = self.index.lexical_scores(self.tokenizer.tokenize(expanded),
                                            self.params.lexical_k)
        return Signals(question, norm, expanded, dense, lexical)

    def search(self, question: str, k: int = 5) -> Retrieval:
        old = frozenset(d for d, p in self.index.policies.items() if p.status == "superseded")
        return rank(self.signals(question), self.params, k, old)
