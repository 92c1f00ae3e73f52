"""Grid-search the retrieval fusion weights and the answer gate on the dev set.

Signals (query embedding scores, BM25 scores) are measured once per question,
then every parameter combination is replayed through the same pure ranking and
gate code the service uses. The held-out set is only *reported*, never used
to choose. Usage::

    python bench/tune.py [--dev eval/questions.jsonl] [--holdout eval/holdout.jsonl]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

from policyqa.answer import GateParams
from policyqa.evaluation import GoldQuestion, doc_aliases, expected_ids, load_gold
from policyqa.retrieve import Retrieval, RetrievalParams, Signals, rank
from policyqa.service import PolicyQA
from policyqa.settings import Settings

Ranker = Callable[[Signals, RetrievalParams, int], Retrieval]
Data = list[tuple[GoldQuestion, Signals]]
# The gold sets the experiments in bench/ were measured on (holdout6 came after them).
OLDER_SETS = ("questions", "holdout", "holdout2", "holdout3", "holdout4", "holdout5")


def gold_signals(qa: PolicyQA, names: Sequence[str] = OLDER_SETS) -> dict[str, Data]:
    """Each gold set's questions with their signals, measured once for many replays."""
    return {n: [(g, qa.retriever.signals(g.question)) for g in load_gold(Path(f"eval/{n}.jsonl"))]
            for n in names}


def encode_by_length(qa: PolicyQA, texts: list[str], batch: int = 16) -> np.ndarray:
    """Passage vectors in the texts' order, encoded shortest first in small batches (less
    padding, bounded memory)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    enc = np.concatenate([qa.encoder.encode_passages([texts[i] for i in order[j:j + batch]])
                          for j in range(0, len(order), batch)])
    out = np.zeros_like(enc)
    out[order] = enc
    return out


def sweep(qa: PolicyQA, label: str, rankers: dict[str, Ranker], sets: dict[str, Data]) -> None:
    """One row per ranker: Recall@1 and answer accuracy on each set, through the service's
    own gate."""
    print(f"{label} | " + " | ".join(f"{n} R@1 / acc" for n in sets))
    for name, ranker in rankers.items():
        row = [score(qa, d, qa.retriever.params, qa.answerer.params, ranker) for d in sets.values()]
        print(f"{name} | " + " | ".join(f"{s['r1']:.3f} / {s['acc']:.3f}" for s in row), flush=True)


def score(qa: PolicyQA, data: Data, rp: RetrievalParams, gp: GateParams,
          ranker: Ranker = rank) -> dict[str, float]:
    aliases = doc_aliases(qa.index.policies)
    qa.answerer.params = gp
    r1 = acc = fr = rr = 0
    n_a = sum(g.answerable for g, _ in data)
    n_u = len(data) - n_a
    for g, sig in data:
        expected = expected_ids(g, aliases)
        r = ranker(sig, rp, 5)
        ans = qa.answerer.answer(r)
        top = (r.articles[0].doc_id, r.articles[0].article) if r.articles else None
        if g.answerable:
            r1 += top in expected
            fr += ans.status == "refused"
            acc += ans.status == "answered" and (
                ans.citations[0].doc_id, ans.citations[0].article) in expected
        else:
            rr += ans.status == "refused"
    return {"r1": r1 / n_a, "acc": acc / n_a, "frr": fr / n_a, "refusal": rr / max(n_u, 1),
            "objective": acc / n_a + rr / max(n_u, 1) - 2 * max(0.0, fr / n_a - 0.03)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", type=Path, default=Path("eval/questions.jsonl"))
    ap.add_argument("--holdout", type=Path, default=Path("eval/holdout.jsonl"))
    args = ap.parse_args()
    qa = PolicyQA.open(Settings().resolved(), progress=lambda m: print(m, file=sys.stderr))
    dev = [(g, qa.retriever.signals(g.question)) for g in load_gold(args.dev)]
    hold = [(g, qa.retriever.signals(g.question)) for g in load_gold(args.holdout)]
    base_r, base_g = qa.retriever.params, qa.answerer.params
    print("current  dev", score(qa, dev, base_r, base_g))
    print("current hold", score(qa, hold, base_r, base_g))
    best = None
    for wl, ws in itertools.product([0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4],
                                    [0.0, 0.1, 0.2, 0.3]):
        rp = replace(base_r, w_lexical=wl, w_second=ws)
        s = score(qa, dev, rp, base_g)
        if best is None or s["r1"] > best[0]["r1"]:
            best = (s, rp)
    assert best
    print("best retrieval on dev", best[1], best[0])
    rp = best[1]
    print("  its holdout", score(qa, hold, rp, base_g))
    gbest = None
    for sure, dmin, cov in itertools.product([0.86, 0.87, 0.88, 0.89, 0.90, 0.92],
                                             [0.76, 0.78, 0.80, 0.82, 0.84],
                                             [0.1, 0.2, 0.3, 0.4, 0.5]):
        if dmin > sure:
            continue
        gp = replace(base_g, dense_sure=sure, dense_min=dmin, coverage_min=cov)
        s = score(qa, dev, rp, gp)
        if gbest is None or s["objective"] > gbest[0]["objective"]:
            gbest = (s, gp)
    assert gbest
    print("best gate on dev", gbest[1], gbest[0])
    print("  its holdout", score(qa, hold, rp, gbest[1]))


if __name__ == "__main__":
    main()
