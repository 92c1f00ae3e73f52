"""Would a whole-article embedding help ranking? An experiment, not a feature.

Encodes one passage per article (its document title and text, first 300 characters,
normalised; cached in /tmp), then re-scores the 20 best articles of the service's own
ranking with ``score + w * cosine(question, article)`` and reports Recall@1 and answer
accuracy per gold set for several ``w`` — through the same pure ranking and gate code
the service uses (bench/tune.py's ``score``). Usage::

    .venv/bin/python bench/article_passages.py [--w 0 0.3 0.6 1.0] [--max-chars 300]

``--max-chars N``: only articles of at most N characters are embedded whole; a longer one
(a 13-measures article) is scored by its best sentence's own cosine instead, so it is not
diluted.

Measured 2026-12-02 (README, "What did not help"): it lifts the multi-document sets and
costs the 13-measure sets, whose long articles it dilutes, so the service does not use it.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))

from tune import Ranker, encode_by_length, gold_signals, sweep

from policyqa.retrieve import ArticleHit, Retrieval, RetrievalParams, Signals, aggregate, fuse
from policyqa.service import PolicyQA
from policyqa.settings import Settings
from policyqa.text import normalize

CACHE = Path("/tmp/policyqa-article-vectors.npy")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--w", type=float, nargs="*", default=[0.0, 0.3, 0.6, 1.0])
    ap.add_argument("--max-chars", type=int, default=0, help="embed whole only articles "
                    "this short (0: all); longer ones keep their best sentence's cosine")
    args = ap.parse_args()
    qa = PolicyQA.open(Settings().resolved())
    keys = [(p.doc_id, a.ordinal) for p in qa.index.policies.values() for a in p.articles
            if a.ordinal]
    texts = [normalize(qa.index.policies[d].title + "：" + qa.index.policies[d].article(n).text)
             [:300] for d, n in keys]
    long = {k for k in keys if args.max_chars and len(normalize(
        qa.index.policies[k[0]].article(k[1]).text)) > args.max_chars}
    vecs = np.load(CACHE) if CACHE.exists() else None
    if vecs is None or len(vecs) != len(keys):
        vecs = encode_by_length(qa, texts)
        np.save(CACHE, vecs)
    cos_of: dict[str, dict[tuple[str, int], float]] = {}

    def whole(h: ArticleHit, cos: dict[tuple[str, int], float], floor: float) -> float:
        key = (h.doc_id, h.article)
        if args.max_chars and (key in long or key not in cos):  # front matter: not embedded
            return h.dense
        return cos.get(key, floor)

    def ranker(w: float) -> Ranker:
        def rank(sig: Signals, params: RetrievalParams, k: int) -> Retrieval:
            if sig.question not in cos_of:
                qv = qa.retriever.embed_query(sig.question)[2]
                cos_of[sig.question] = dict(zip(keys, (vecs @ qv).tolist(), strict=True))
            cos = cos_of[sig.question]
            floor = min(cos.values())  # front matter has no passage
            pool = aggregate(fuse(sig.dense, sig.lexical, params.w_lexical), params.w_second, 20)
            hits = sorted((replace(h, score=h.score + w * whole(h, cos, floor)) for h in pool),
                          key=lambda h: (-h.score, h.doc_id, h.article))
            return Retrieval(sig.question, sig.normalized, sig.expanded, tuple(hits[:k]))
        return rank

    sweep(qa, "w", {str(w): ranker(w) for w in args.w}, gold_signals(qa))

if __name__ == "__main__":
    main()
