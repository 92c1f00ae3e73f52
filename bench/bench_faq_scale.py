"""policyqa with a 问答库 of the channel's real size: 15,000 published entries of 2–5
wordings each, on PostgreSQL, served by two server processes.

The entries are generated for the benchmark from the corpus (each quotes one real
sentence of a real article; the wordings are templates around a fragment of it), stored
with origin ``import`` and the audit note 基准测试生成 in a throwaway database, and never
served as real answers. Measured:

1. import: the rows written (one transaction per 1,000), then the wordings' vectors
   encoded by the background job inside the running servers, with its progress, while
   a citizen keeps asking (c=1 latency during the job: nothing blocks);
2. the matcher's added latency per question (``FaqMatcher.match`` on held-out questions
   whose vectors are already computed: what the 问答库 adds to a turn), IVF against the
   exact scan of every wording;
3. RSS per server process, empty 问答库 against the full one;
4. the time for one publish on one server to be served by the other.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_faq_scale.py [--entries 15000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))
TEMPLATES = ["{f}是怎么规定的？", "关于{f}，有什么规定？", "{f}具体怎么办？", "请问{f}指的是什么？",
             "{f}有哪些要求？", "{f}，政策上怎么说？", "{f}在哪里有规定？"]
NOTE = "基准测试生成（bench/bench_faq_scale.py），非真实答案"


def generate(policies: Any, n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` entries, each quoting one real sentence, with 2–5 distinct wordings."""
    from policyqa.faq.model import InvalidEntry, clean_fields, question_key

    rng = random.Random(seed)
    sents = [(p.doc_id, a.ordinal, s.text) for p in policies.values() for a in p.articles
             for s in a.sentences if len(s.text) >= 12]
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    while len(out) < n:
        doc, art, text = rng.choice(sents)
        start = rng.randrange(0, max(1, len(text) - 10))
        frag = text[start:start + rng.randint(6, 14)].strip("，。；：、（）() ")
        words = [t.format(f=frag) for t in rng.sample(TEMPLATES, rng.randint(2, 5))]
        keys = {question_key(w) for w in words}  # what the 问答库 holds unique
        if len(frag) < 5 or len(keys) < len(words) or keys & used:
            continue
        item = {"question": words[0], "paraphrases": words[1:], "answer_text": text,
                "citations": [{"doc_id": doc, "article": art, "quote": text}]}
        try:  # what the 问答库 would refuse (e.g. a fragment that reads as a name)
            clean_fields(item, policies)
        except InvalidEntry:
            continue
        used.update(keys)
        out.append(item)
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(env: dict[str, str], tmp: Path, name: str) -> tuple[str, subprocess.Popen[bytes]]:
    from bench_api import free_port

    port = free_port()
    log = (tmp / f"{name}.log").open("wb")
    proc = subprocess.Popen([str(REPO / ".venv/bin/policyqa"), "serve", "--port", str(port)],
                            cwd=REPO, env={**env, "POLICYQA_DATA_DIR": str(tmp / name)},
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return url, proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{name} did not become ready")


def ask(url: str, q: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = httpx.post(f"{url}/api/v1/chat", json={"question": q}, timeout=60)
    r.raise_for_status()
    return (time.perf_counter() - t0) * 1000, str(r.json()["source"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=15000)
    args = ap.parse_args()
    from pg import PgServer, find_bindir
    from policyqa.faq import search as search_mod
    from policyqa.faq.match import FaqMatcher
    from policyqa.faq.officers import add_officer
    from policyqa.faq.repo import FaqRepo
    from policyqa.faq.service import FaqService
    from policyqa.service import PolicyQA
    from policyqa.settings import from_environment
    from policyqa.store import Store

    held_out = list(dict.fromkeys(
        json.loads(line)["question"] for f in ("eval/holdout4.jsonl", "eval/holdout5.jsonl")
        for line in (REPO / f).read_text("utf-8").splitlines() if line.strip()))
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL server binaries not found")
    pg = PgServer(bindir)
    pg.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        s = from_environment()
        qa = PolicyQA.open(s)
        store = Store.open(pg.url)
        items = generate(qa.index.policies, args.entries)
        n_words = sum(1 + len(e["paraphrases"]) for e in items)
        repo = FaqRepo(store)
        t0 = time.perf_counter()
        for i in range(0, len(items), 1000):
            repo.create_many(items[i:i + 1000], officer="bench", role="admin",
                             policies=qa.index.policies, status="published", origin="import",
                             action="import", note=NOTE)
        written = time.perf_counter() - t0
        print(f"问答库: {len(items)} entries, {n_words} wordings; rows written in "
              f"{written:.1f} s")
        editor, reviewer = add_officer(store, "bench-ed", "editor"), add_officer(
            store, "bench-rv", "reviewer")
        with tempfile.TemporaryDirectory() as tmp_s:
            tmp = Path(tmp_s)
            env = {**os.environ, "POLICYQA_DATABASE_URL": pg.url, "OMP_NUM_THREADS": "1",
                   "POLICYQA_RATE_LIMIT_PER_MINUTE": "0"}
            t0 = time.perf_counter()  # the job starts as soon as a server has loaded
            a, pa = start(env, tmp, "a")
            print(f"server a ready in {time.perf_counter() - t0:.1f} s", flush=True)
            b, pb = start(env, tmp, "b")
            procs += [pa, pb]
            job = FaqService(qa, store).job
            during: list[float] = []
            last = -1
            while (st := job.status())["state"] != "done" or st["done"] < n_words:
                if st["state"] == "failed":
                    raise SystemExit(f"job failed: {st['error']}")
                during.append(ask(a, held_out[len(during) % len(held_out)])[0])
                if st["done"] // 5000 != last:
                    last = st["done"] // 5000
                    print(f"  job {st['state']} {st['done']}/{st['total']} by {st['holder']} "
                          f"at {time.perf_counter() - t0:.0f} s", flush=True)
                time.sleep(0.5)
            took = time.perf_counter() - t0
            during = during or [ask(a, held_out[0])[0]]
            print(f"vectors encoded by the background job in {took:.0f} s "
                  f"({n_words / took:.0f} wordings/s) while serving; chat c=1 during the job: "
                  f"p50 {np.percentile(during, 50):.1f} ms, p95 {np.percentile(during, 95):.1f}"
                  f" ms, max {max(during):.0f} ms over {len(during)} questions")
            time.sleep(15)  # every process reloads once the job is done (an IVF build)
            sources = [ask(b, it["paraphrases"][0])[1] for it in items[:20]]
            print(f"served from the 问答库 by the other process: {sources.count('faq')}/20 "
                  f"generated wordings asked")
            print(f"RSS per server process with the full 问答库: a {rss_mb(pa.pid):.0f} MB, "
                  f"b {rss_mb(pb.pid):.0f} MB")
            publish_time(a, b, editor, reviewer, qa)
        matcher_latency(qa, store, held_out, search_mod, FaqMatcher)
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)
        pg.stop()


def publish_time(a: str, b: str, editor: str, reviewer: str, qa: Any) -> None:
    """One new entry published on server a: how long until server b answers from it."""
    art = httpx.get(f"{a}/api/v1/policies/labor-law-2018/articles/44", timeout=60).json()
    quote = next(x for x in art["sentences"] if "休息日" in x)
    q = "休息日加班工资怎么算"
    h = {"Authorization": f"Bearer {editor}"}
    t_create = time.perf_counter()
    e = httpx.post(f"{a}/api/v1/officer/faq", headers=h, timeout=120, json={
        "question": "休息日加班，加班费怎么算？", "paraphrases": [q], "answer_text": quote,
        "citations": [{"doc_id": "labor-law-2018", "article": 44, "quote": quote}]}).json()
    created = time.perf_counter() - t_create
    e = httpx.post(f"{a}/api/v1/officer/faq/{e['id']}/transition", headers=h, timeout=120,
                   json={"version": e["version"], "to": "in_review"}).json()
    t0 = time.perf_counter()
    r = httpx.post(f"{a}/api/v1/officer/faq/{e['id']}/transition", timeout=120,
                   headers={"Authorization": f"Bearer {reviewer}"},
                   json={"version": e["version"], "to": "published"})
    r.raise_for_status()
    call = time.perf_counter() - t0
    while ask(b, q)[1] != "faq":
        time.sleep(0.05)
    print(f"one new entry: create took {created * 1000:.0f} ms; the publish call "
          f"{call * 1000:.0f} ms; served by the other process "
          f"{time.perf_counter() - t0:.2f} s after it was sent")


def matcher_latency(qa: Any, store: Any, held_out: list[str], search_mod: Any,
                    matcher_cls: Any) -> None:
    from policyqa.faq.repo import FaqRepo
    from policyqa.faq.vectors import WordingVectors

    vec = WordingVectors(store, f"{qa.encoder.backend}:{qa.encoder.model_id}",
                         qa.retriever.query_text, qa.retriever.encode_texts)
    entries = FaqRepo(store).servable()
    qs = held_out[:200]
    qvecs = [qa.retriever.embed_query(q)[2] for q in qs]
    for label, exact_max in (("IVF (default)", search_mod.EXACT_MAX), ("exact scan", 10**9)):
        search_mod.EXACT_MAX = exact_max
        m = matcher_cls(lambda t: qa.retriever.embed_query(t)[2], vectors=vec)
        t0 = time.perf_counter()
        m.load(entries)
        load = time.perf_counter() - t0
        times, hits = [], 0
        for q, v in zip(qs, qvecs, strict=True):
            t1 = time.perf_counter()
            hits += m.match(q, v) is not None
            times.append((time.perf_counter() - t1) * 1000)
        print(f"matcher, {label}: load {load:.1f} s; per question p50 "
              f"{np.percentile(times, 50):.2f} ms, p95 {np.percentile(times, 95):.2f} ms "
              f"({len(qs)} held-out questions, {hits} matched a generated entry)")


if __name__ == "__main__":
    main()
