"""Hybrid retrieval: dense (e5) + lexical (BM25) over sentence chunks, ranked by article.

Fusion and aggregation are small pure functions so they can be tuned and
tested without a model. An article scores by its best sentence plus a little
of its second best (a clause that answers a question usually does so in one
sentence; a second supporting sentence breaks ties).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from policyqa.encoder import Encoder
from policyqa.index import PolicyIndex
from policyqa.ingest.chunk import parse_chunk_id
from policyqa.text import Tokenizer, normalize


@dataclass(frozen=True)
class RetrievalParams:
    w_lexical: float = 0.25  # weight of max-normalised BM25 against cosine similarity
    w_second: float = 0.15  # share of the second-best sentence in an article's score
    dense_k: int = 200  # dense candidates (all chunks for small corpora)


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
class Retrieval:
    question: str
    normalized: str
    articles: tuple[ArticleHit, ...]
    lexical_raw_max: float = 0.0
    query_tokens: tuple[str, ...] = field(default=())


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


def aggregate(fused: Mapping[str, tuple[float, float, float]], w_second: float
              ) -> list[ArticleHit]:
    """Group sentence hits by article; article score = best + w_second * second best."""
    groups: dict[tuple[str, int], list[SentenceHit]] = {}
    for cid, (d, lx, s) in fused.items():
        doc, art, sent = parse_chunk_id(cid)
        groups.setdefault((doc, art), []).append(SentenceHit(cid, doc, art, sent, d, lx, s))
    hits = []
    for (doc, art), sents in groups.items():
        sents.sort(key=lambda h: h.score, reverse=True)
        second = sents[1].score if len(sents) > 1 else sents[0].score
        score = sents[0].score + w_second * (second - sents[0].score)
        hits.append(ArticleHit(doc, art, score, tuple(sents)))
    hits.sort(key=lambda h: (-h.score, h.doc_id, h.article))
    return hits


class Retriever:
    def __init__(self, index: PolicyIndex, encoder: Encoder, tokenizer: Tokenizer,
                 params: RetrievalParams | None = None) -> None:
        self.index = index
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.params = params or RetrievalParams()

    def search(self, question: str, k: int = 5) -> Retrieval:
        norm = normalize(question)
        qvec = self.encoder.encode_queries([norm])[0]
        dense = {c.id: s for c, s in self.index.dense_search(qvec, self.params.dense_k)}
        tokens = self.tokenizer.tokenize(norm)
        lexical = self.index.lexical_scores(tokens)
        fused = fuse(dense, lexical, self.params.w_lexical)
        articles = aggregate(fused, self.params.w_second)[:k]
        return Retrieval(question, norm, tuple(articles), max(lexical.values(), default=0.0),
                         tuple(tokens))
