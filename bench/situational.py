"""Situational questions (a story, then the question): does retrieving on the asking part help?

For each gold question longer than 40 characters, the asking part (its last sentences
with a question word, ``retrieve.asking_part``) is embedded as well, and the dense scores
of the whole question are replaced by: the whole alone (what the service does), the max
of both, the part alone, or their average. Answer accuracy over all questions and over
the ``situational`` kind, through bench/tune.py's ``score`` (the service's own ranking
and gate). Usage::

    .venv/bin/python bench/situational.py
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))

from tune import score

from policyqa.evaluation import load_gold
from policyqa.retrieve import Retriever, Signals, asking_part
from policyqa.service import PolicyQA
from policyqa.settings import Settings

MODES = ("whole", "max", "part", "average")


def signals(r: Retriever, question: str, mode: str) -> Signals:
    s = r.signals(question)
    part = asking_part(s.normalized, 40)
    if not part or mode == "whole":
        return s
    vec = r.embed_query(part)[2]
    pd = {c.id: x for c, x in r.index.dense_search(vec, r.params.dense_k)}
    lo, plo = min(s.dense.values()), min(pd.values())
    ids = set(s.dense) | set(pd)
    if mode == "part":
        return replace(s, dense=pd)
    if mode == "max":
        return replace(s, dense={c: max(s.dense.get(c, lo), pd.get(c, plo)) for c in ids})
    return replace(s, dense={c: (s.dense.get(c, lo) + pd.get(c, plo)) / 2 for c in ids})


def main() -> None:
    qa = PolicyQA.open(Settings().resolved())
    sets = {n: load_gold(Path(f"eval/{n}.jsonl")) for n in ("questions", "holdout3")}
    rp, gp = qa.retriever.params, qa.answerer.params
    print("mode | " + " | ".join(f"{n} all acc / situational acc (n)" for n in sets))
    for mode in MODES:
        row = []
        for gold in sets.values():
            data = [(g, signals(qa.retriever, g.question, mode)) for g in gold]
            sit = [(g, s) for g, s in data if g.kind == "situational"]
            a, b = score(qa, data, rp, gp), score(qa, sit, rp, gp)
            row.append(f"{a['acc']:.3f} / {b['acc']:.3f} ({len(sit)})")
        print(f"{mode} | " + " | ".join(row), flush=True)


if __name__ == "__main__":
    main()
