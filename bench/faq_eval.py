"""Does serving the 问答库 first keep answers right? Gold sets through the chat, with and
without published entries.

Publishes the drafts of every clause (``FaqService.draft``: the officer API's path, no
human edits) into a throwaway SQLite database, then asks every gold question through
``ChatService.chat`` (one new session per question) and reports, for the FAQ-first
chat against the policy-only chat: answer accuracy (answered with an expected clause
first), refusal recall, false refusals, and how many answers came from the 问答库.
Usage::

    .venv/bin/python bench/faq_eval.py [--gold eval/holdout.jsonl ...]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLD = ["eval/questions.jsonl", "eval/holdout.jsonl", "eval/holdout2.jsonl"]


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ap = argparse.ArgumentParser()
    ap.add_argument("--gold", nargs="*", default=GOLD)
    args = ap.parse_args()

    from policyqa.chat import ChatService
    from policyqa.evaluation import doc_aliases, expected_ids, load_gold
    from policyqa.faq.service import FaqService
    from policyqa.service import PolicyQA
    from policyqa.settings import Settings
    from policyqa.store import Store

    qa = PolicyQA.open(Settings().resolved())
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/faq.db")
        faq = FaqService(qa, store)
        for p in qa.index.policies.values():
            for a in p.articles:
                for e in faq.draft({"doc_id": p.doc_id, "article": a.ordinal}, "bench")["created"]:
                    e = faq.transition(e["id"], e["version"], "in_review", "bench")
                    faq.transition(e["id"], e["version"], "published", "bench")
        print(f"published {len(faq.matcher)} entries drafted from "
              f"{sum(len(p.articles) for p in qa.index.policies.values())} clauses")
        chats = {"policy only": ChatService(qa, store), "问答库 first": ChatService(
            qa, store, faq.matcher)}
        print("set | chat | answer acc. | refusal recall | false refusal | from 问答库 "
              "(of which wrong)")
        aliases = doc_aliases(qa.index.policies)
        for gold in args.gold:
            questions = load_gold(REPO / gold)
            for name, chat in chats.items():
                right = refused_ok = false_refusal = from_faq = faq_wrong = 0
                n_ans = sum(bool(g.expected) for g in questions)
                for g in questions:
                    t = chat.chat(g.question)
                    want = expected_ids(g, aliases)
                    first = ((t.citations[0]["doc_id"], t.citations[0]["article"])
                             if t.citations else None)
                    ok = t.status == "answered" and first in want
                    if t.source == "faq":
                        from_faq += 1
                        faq_wrong += not ok
                    if g.expected:
                        right += ok
                        false_refusal += t.status == "refused"
                    else:
                        refused_ok += t.status == "refused"
                n_un = len(questions) - n_ans
                print(f"{Path(gold).name} | {name} | {right / max(1, n_ans):.3f} | "
                      f"{refused_ok / max(1, n_un):.3f} | {false_refusal / max(1, n_ans):.3f} | "
                      f"{from_faq} ({faq_wrong})")
        store.close()


if __name__ == "__main__":
    main()
