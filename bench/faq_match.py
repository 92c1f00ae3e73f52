"""Calibration of the 问答库 matcher: how often a FAQ hit would answer with the right clause.

Entries are simulated from the dev set (per clause: one dev question as the entry
question, the next two as paraphrases); the held-out sets are then asked. For each
threshold: matches, matches citing an expected clause, matches citing a wrong one,
and matches on questions that should be refused, before and after the gate's veto
(a refusal for what is asked — place, document, topic, sum, items, date — wins over a
FAQ hit, as in ChatService; the agreement rule of ``faq_wins`` is measured by faq_eval.py). Usage::

    .venv/bin/python bench/faq_match.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy as np

    from policyqa.chat import FAQ_MAY_OVERRIDE
    from policyqa.faq.match import FaqMatcher, overlap
    from policyqa.faq.model import question_key
    from policyqa.service import PolicyQA
    from policyqa.settings import Settings

    qa = PolicyQA.open(Settings().resolved())

    def load(name: str) -> list[dict[str, object]]:
        text = (REPO / name).read_text("utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    by_article: dict[int, list[str]] = {}
    for g in load("eval/questions.jsonl"):
        exp = g["expected"]
        if exp:
            by_article.setdefault(int(exp[0]["article"]), []).append(str(g["question"]))  # type: ignore[index]
    entries = [{"question": qs[0], "paraphrases": qs[1:3], "answer_text": "",
                "citations": [{"doc_id": "-", "article": a}]} for a, qs in by_article.items()]
    matcher = FaqMatcher(lambda t: qa.retriever.embed_query(t)[2])
    matcher.load(entries)
    rows = []
    for g in load("eval/holdout.jsonl") + load("eval/holdout2.jsonl"):
        q = str(g["question"])
        qvec = qa.retriever.embed_query(q)[2]
        sims = matcher._vecs @ qvec
        best = int(np.argmax(sims))
        i, _, key = matcher._forms[best]
        expected = [int(e["article"]) for e in g["expected"]]  # type: ignore[attr-defined]
        article = int(entries[i]["citations"][0]["article"])  # type: ignore[index]
        pol = qa.ask(q)
        veto = pol.status == "refused" and pol.reason not in FAQ_MAY_OVERRIDE
        rows.append((float(sims[best]), overlap(question_key(q), key), bool(expected),
                     article in expected, veto))
    print(f"{len(entries)} simulated entries, {len(rows)} held-out questions")
    print("sure | min_cos | min_overlap | matched | right clause | wrong clause | "
          "should refuse | after veto: wrong + should refuse")
    for sure in (0.92, 0.93, 0.94, 0.95, 0.96):
        for min_cos, min_ov in ((0.91, 0.7), (0.90, 0.6)):
            hit = [r for r in rows if r[0] >= sure or (r[0] >= min_cos and r[1] >= min_ov)]
            ok = sum(r[2] and r[3] for r in hit)
            wrong = sum(r[2] and not r[3] for r in hit)
            unans = sum(not r[2] for r in hit)
            bad_after = sum((not (r[2] and r[3])) and not r[4] for r in hit)
            print(f"{sure} | {min_cos} | {min_ov} | {len(hit)} | {ok} | {wrong} | {unans} | "
                  f"{bad_after}")


if __name__ == "__main__":
    main()
