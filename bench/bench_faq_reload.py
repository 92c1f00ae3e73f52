"""What one change to a large 问答库 costs the processes that serve it.

``bench_faq_scale.py`` measures the whole story but spends ~11 minutes encoding 52,000
wordings. This script measures only the reload side, in one process: the wordings' stored
vectors are stand-ins (random unit vectors under the real keys, written by this script into
a throwaway database; the matcher's answers are meaningless, its timings are not), so the
figures are ready in a minute. Measured, for a base of ``--entries`` published generated
entries (see ``bench_faq_scale.generate``):

- the first load of a serving process (every entry and vector read);
- an officer's create, the publish call (which reloads the handling process), and the
  reload of a second service on the same database that notices the change by its poll;
- the same for an edit that sends a published entry back to review, and for a retire.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_faq_reload.py [--entries 15000] [--pg]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))


def stand_in(dim: int) -> Callable[[Sequence[str]], np.ndarray]:
    rng = np.random.default_rng(3)

    def encode(texts: Sequence[str]) -> np.ndarray:
        v = rng.standard_normal((len(texts), dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)
    return encode


def timed(label: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    out = fn()
    print(f"  {label}: {(time.perf_counter() - t0) * 1000:.0f} ms", flush=True)
    return out


def run(url: str, n: int) -> None:
    from bench_faq_scale import NOTE, generate

    from policyqa.faq.repo import FaqRepo
    from policyqa.faq.service import FaqService
    from policyqa.faq.vectors import WordingVectors
    from policyqa.roles import Actor
    from policyqa.service import PolicyQA
    from policyqa.settings import from_environment
    from policyqa.store import Store

    qa = PolicyQA.open(from_environment())
    store = Store.open(url)
    items = generate(qa.index.policies, n)
    repo = FaqRepo(store)
    for i in range(0, len(items), 1000):
        repo.create_many(items[i:i + 1000], officer="bench", role="admin",
                         policies=qa.index.policies, status="published", origin="import",
                         action="import", note=NOTE)
    words = [w for e in items for w in [e["question"], *e["paraphrases"]]]
    dim = int(qa.retriever.encode_texts(["维度"]).shape[1])
    fake = WordingVectors(store, f"{qa.encoder.backend}:{qa.encoder.model_id}",
                          qa.retriever.query_text, stand_in(dim))
    for i in range(0, len(words), 2000):
        fake.encode(words[i:i + 2000])
    print(f"问答库: {len(items)} published entries, {len(words)} wordings (stand-in vectors)")
    a, b = FaqService(qa, store), FaqService(qa, store)
    timed("first load of a serving process", a.start)
    b.start()
    ed, rv = Actor("bench-ed", "editor"), Actor("bench-rv", "reviewer")
    quote = qa.index.policies[items[0]["citations"][0]["doc_id"]].article(
        int(items[0]["citations"][0]["article"])).sentences[0].text
    fields = {"question": "基准测试新增的问题，怎么办？", "paraphrases": ["基准测试新增的说法"],
              "answer_text": quote, "citations": [{"doc_id": items[0]["citations"][0]["doc_id"],
                                                   "article": items[0]["citations"][0]["article"],
                                                   "quote": quote}]}
    print("one new entry:")
    e = timed("create", lambda: a.create(fields, ed))
    e = a.transition(e["id"], e["version"], "in_review", ed)
    e = timed("publish call (reloads this process)",
              lambda: a.transition(e["id"], e["version"], "published", rv))
    timed("the other process's poll and reload", b.refresh_if_changed)
    assert b.matcher.serves(e["id"]), "the other process does not serve the publish"
    print("an edit of a published entry (back to review):")
    e = timed("edit call", lambda: a.edit(e["id"], e["version"],
                                          {"paraphrases": ["基准测试改过的说法"]}, ed))
    timed("the other process's poll and reload", b.refresh_if_changed)
    assert not b.matcher.serves(e["id"]), "the other process still serves the edited entry"
    print("a retire of a published entry:")
    old = repo.servable()[0]
    timed("retire call", lambda: a.transition(old["id"], old["version"], "retired", rv))
    timed("the other process's poll and reload", b.refresh_if_changed)
    assert not b.matcher.serves(old["id"]), "the other process still serves the retired entry"
    timed("a poll that finds nothing changed", b.refresh_if_changed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=15000)
    ap.add_argument("--pg", action="store_true", help="PostgreSQL (else SQLite)")
    args = ap.parse_args()
    from bench_api import database

    with tempfile.TemporaryDirectory() as tmp, database(args.pg, tmp) as url:
        print("PostgreSQL" if args.pg else "SQLite")
        run(url or f"sqlite:///{tmp}/bench.db", args.entries)

if __name__ == "__main__":
    main()
