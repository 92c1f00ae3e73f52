"""Experiment (not adopted): add an article-level BM25 score to the fused sentence score.

All of an article's chunk texts form one BM25 document; an article scores
``fused + W * (its BM25 / the best article's BM25)``, W swept. Chosen on dev only; the
held-out sets are reported. Measured 2026-12-02: dev answer accuracy falls with every W > 0
(0.820 → 0.818 / 0.818 / 0.814 / 0.810 / 0.805 at W = 0.01 / 0.02 / 0.03 / 0.05 / 0.08).

Usage: .venv/bin/python bench/article_bm25.py
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tune

from policyqa.bm25 import BM25
from policyqa.retrieve import Retrieval, RetrievalParams, Signals, aggregate, fuse
from policyqa.service import PolicyQA
from policyqa.settings import Settings

SETS = ["questions", "holdout", "holdout2", "holdout3", "holdout4"]
WEIGHTS = [0.0, 0.01, 0.02, 0.03, 0.05, 0.08]


def main() -> None:
    qa = PolicyQA.open(Settings().resolved())
    tok = qa.retriever.tokenizer
    texts: dict[tuple[str, int], list[str]] = {}
    for c in qa.index.chunks:
        texts.setdefault((c.doc_id, c.article), []).append(c.text)
    keys = list(texts)
    bm = BM25.build([tok.tokenize("".join(texts[k])) for k in keys])
    sets = tune.gold_signals(qa, SETS)
    article_score: dict[str, dict[tuple[str, int], float]] = {}
    for data in sets.values():
        for _, sig in data:
            s = bm.scores(tok.tokenize(sig.expanded))
            top = float(s.max()) if len(s) else 0.0
            article_score[sig.question] = ({keys[i]: float(s[i]) / top for i in s.nonzero()[0]}
                                           if top > 0 else {})
    for w in WEIGHTS:
        def rank(sig: Signals, params: RetrievalParams, k: int, w: float = w) -> Retrieval:
            hits = aggregate(fuse(sig.dense, sig.lexical, params.w_lexical), params.w_second, 60)
            bonus = article_score[sig.question]
            rescored = [dataclasses.replace(h, score=h.score + w * bonus.get(
                (h.doc_id, h.article), 0.0)) for h in hits]
            rescored.sort(key=lambda h: -h.score)
            return Retrieval(sig.question, sig.normalized, sig.expanded, tuple(rescored[:k]))

        row = []
        for name, data in sets.items():
            s = tune.score(qa, data, qa.retriever.params, qa.answerer.params, rank)
            row.append(f"{name} r1 {s['r1']:.3f} acc {s['acc']:.3f} ref {s['refusal']:.3f} "
                       f"fr {s['frr']:.3f}")
        print(f"W={w}", " | ".join(row), flush=True)


if __name__ == "__main__":
    main()
