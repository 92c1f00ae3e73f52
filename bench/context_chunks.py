"""Would a sentence embedded with its article's first sentence rank better? An experiment.

A law's later sentence often lacks its subject: 劳动法 article 84's "对仲裁裁决不服的，可以
…十五日内向人民法院提起诉讼" reads the same as article 83's, and only the article's first
sentence (因履行集体合同发生争议…) says what it is about. This embeds every later sentence of
an article without a heading as ``context：first sentence（≤ --lead chars）…sentence``
(cached in /tmp), and scores a sentence by ``mix`` of its own and its contextual cosine:
``max`` / ``ctx`` (contextual alone) / a weight ``w`` in 0..1 (w·ctx + (1−w)·own). The
service's own fusion, aggregation and gate then rank and answer (bench/tune.py's
``score``). Usage::

    .venv/bin/python bench/context_chunks.py [--lead 60] [--mix 0 max 0.5 ctx]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))

from tune import Ranker, encode_by_length, gold_signals, sweep

from policyqa.ingest.chunk import Chunk
from policyqa.retrieve import Retrieval, RetrievalParams, Signals, aggregate, fuse
from policyqa.service import PolicyQA
from policyqa.settings import Settings


def contextual(qa: PolicyQA, c: Chunk, lead: int) -> str | None:
    """The chunk's text with its article's first sentence put in, or None where it has
    one already (the first sentence itself, front matter, an article with a heading)."""
    p = qa.index.policies[c.doc_id]
    if not c.article or c.sentence <= 1:
        return None
    art = p.article(c.article)
    if art.heading:
        return None
    first = art.sentences[0].text.replace("\n", "、")[:lead]
    head, sep, body = c.text.partition("：")
    return f"{head}：{first}…{body}" if sep else f"{first}…{c.text}"


def vectors(qa: PolicyQA, texts: dict[str, str], lead: int) -> dict[str, np.ndarray]:
    cache = Path(f"/tmp/policyqa-context-vectors-{lead}.npz")
    ids = sorted(texts)
    if cache.exists():
        z = np.load(cache)
        if list(z["ids"]) == ids:
            return dict(zip(ids, z["vecs"], strict=True))
    vecs = encode_by_length(qa, [texts[i] for i in ids])
    np.savez(cache, ids=np.array(ids), vecs=vecs)
    return dict(zip(ids, vecs, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lead", type=int, default=60, help="characters of the first sentence")
    ap.add_argument("--mix", nargs="*", default=["0", "max", "0.5", "ctx"])
    args = ap.parse_args()
    qa = PolicyQA.open(Settings().resolved())
    texts = {c.id: t for c in qa.index.chunks if (t := contextual(qa, c, args.lead))}
    vecs = vectors(qa, texts, args.lead)
    ids = list(vecs)
    mat = np.stack([vecs[i] for i in ids])
    print(f"{len(ids)} of {len(qa.index.chunks)} chunks get their article's first sentence",
          file=sys.stderr)

    def combine(own: float, ctx: float | None, m: str) -> float:
        if ctx is None:
            return own
        if m == "max":
            return max(own, ctx)
        if m == "ctx":
            return ctx
        return float(m) * ctx + (1 - float(m)) * own

    def ranker(m: str) -> Ranker:
        def rank(sig: Signals, params: RetrievalParams, k: int) -> Retrieval:
            qv = qa.retriever.embed_query(sig.question)[2]
            ctx = dict(zip(ids, (mat @ qv).tolist(), strict=True))
            dense = {cid: combine(s, ctx.get(cid), m) for cid, s in sig.dense.items()}
            hits = aggregate(fuse(dense, sig.lexical, params.w_lexical), params.w_second, k)
            return Retrieval(sig.question, sig.normalized, sig.expanded, tuple(hits))
        return rank

    sweep(qa, "mix", {m: ranker(m) for m in args.mix}, gold_signals(qa))

if __name__ == "__main__":
    main()
