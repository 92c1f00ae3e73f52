"""Ablation of the retrieval signals: which tokenisation for BM25, and what fusion adds.

Reports article Recall@1 / Recall@3 (answerable questions) on the dev and the
held-out sets for: dense only; BM25 over jieba words, over character bigrams,
over both; and the hybrid fusion with each BM25 variant. Usage::

    .venv/bin/python bench/ablation.py
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from policyqa.bm25 import BM25
from policyqa.evaluation import doc_aliases, expected_ids, load_gold
from policyqa.retrieve import Signals, rank
from policyqa.service import PolicyQA, make_tokenizer
from policyqa.settings import Settings

SETS = [Path("eval/questions.jsonl"), Path("eval/holdout.jsonl"), Path("eval/holdout2.jsonl"),
        Path("eval/holdout3.jsonl"), Path("eval/holdout8.jsonl")]


def main() -> None:
    qa = PolicyQA.open(Settings().resolved(), progress=lambda m: print(m, file=sys.stderr))
    tok, _ = make_tokenizer()
    chunks = qa.index.chunks
    variants = {
        "jieba": lambda t: tok.words(t),
        "bigram": lambda t: [x for x in tok.tokenize(t) if x.startswith("#")],
        "jieba+bigram": tok.tokenize,
    }
    bm25 = {name: BM25.build([f(c.text) for c in chunks]) for name, f in variants.items()}
    aliases = doc_aliases(qa.index.policies)
    params = qa.retriever.params
    print(f"{'set':<22}{'method':<26}{'R@1':>7}{'R@3':>7}")
    for path in SETS:
        if not path.exists():
            continue
        gold = [g for g in load_gold(path) if g.answerable]
        sigs = [qa.retriever.signals(g.question) for g in gold]

        def report(label: str, build: object, gold: list = gold, sigs: list = sigs,
                    path: Path = path) -> None:
            r1 = r3 = 0
            for g, s in zip(gold, sigs, strict=True):
                sig, p = build(s)  # type: ignore[operator]
                ranked = [(h.doc_id, h.article) for h in rank(sig, p, 3).articles]
                expected = expected_ids(g, aliases)
                r1 += bool(ranked) and ranked[0] in expected
                r3 += any(x in expected for x in ranked)
            print(f"{path.name:<22}{label:<26}{r1 / len(gold):>7.3f}{r3 / len(gold):>7.3f}")

        def lex(s: Signals, name: str) -> dict[str, float]:
            scores = bm25[name].scores(variants[name](s.expanded))
            return {chunks[i].id: float(v) for i, v in enumerate(scores) if v > 0}

        report("dense only", lambda s: (replace(s, lexical={}), params))
        for name in variants:
            report(f"bm25 {name}", lambda s, n=name: (
                replace(s, dense={}, lexical=lex(s, n)), replace(params, w_lexical=1.0)))
            report(f"hybrid dense+{name}", lambda s, n=name: (replace(s, lexical=lex(s, n)),
                                                              params))


if __name__ == "__main__":
    main()
