"""Where a chat turn's time goes, in-process, warm, one thread: the encoder, the rest of
the pipeline (retrieval, gate, compose), 猜你想问, the database, and the web layer
(FastAPI through its test client: routing, validation, JSON).

Each stage is timed on the same distinct questions (no cache hits: the query-embedding
cache is cleared before each pass), p50 per question. ``--profile`` adds a cProfile
listing of one pass of full chat turns. Usage::

    OMP_NUM_THREADS=1 .venv/bin/python bench/profile_chat.py [--n 150] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GOLD = ["eval/holdout3.jsonl", "eval/holdout4.jsonl", "eval/holdout5.jsonl"]


def p50(fn: Callable[[str], Any], questions: list[str], reset: Callable[[], None]) -> float:
    reset()
    times = []
    for q in questions:
        t0 = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - t0) * 1000)
    return round(float(np.percentile(times, 50)), 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    from fastapi.testclient import TestClient

    from policyqa.api import create_app
    from policyqa.api.wiring import services
    from policyqa.service import PolicyQA
    from policyqa.settings import from_environment
    from policyqa.store import Store

    questions = list(dict.fromkeys(
        json.loads(line)["question"] for f in GOLD
        for line in (REPO / f).read_text("utf-8").splitlines() if line.strip()))[:args.n]
    with tempfile.TemporaryDirectory() as tmp:
        s = from_environment().model_copy(update={"data_dir": Path(tmp),
                                                  "rate_limit_per_minute": 0})
        qa = PolicyQA.open(s)
        store = Store.open(s)
        chat = services(qa, store).chat
        enc, ret = qa.encoder, qa.retriever

        def reset() -> None:
            ret._qvec.clear()  # the query-embedding cache: every pass encodes

        for q in questions[:10]:  # warm
            chat.chat(q)
        rows = {
            "encoder alone, question as typed": p50(
                lambda q: enc.encode_queries([q]), questions, reset),
            # what retrieval really encodes: normalised, with the thesaurus's policy wording
            "encoder alone, text encoded (expanded)": p50(
                lambda q: enc.encode_queries([ret.query_text(q)]), questions, reset),
            "qa.ask (encode + retrieve + gate + compose)": p50(qa.ask, questions, reset),
            "chat turn (+ 问答库 match, session, DB write, 猜你想问)": p50(
                chat.chat, questions, reset),
        }
        app = create_app(s, loader=lambda _s: services(qa, store), background=False,
                         mount_ui=False)
        with TestClient(app) as c:
            rows["HTTP in-process (+ FastAPI, validation, JSON)"] = p50(
                lambda q: c.post("/api/v1/chat", json={"question": q}), questions, reset)
        print(f"{len(questions)} distinct questions, p50 ms per question, one thread")
        for k, v in rows.items():
            print(f"{v:7.2f}  {k}")
        if args.profile:
            prof = cProfile.Profile()
            reset()
            prof.enable()
            for q in questions:
                chat.chat(q)
            prof.disable()
            pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(35)
        store.close()


if __name__ == "__main__":
    main()
