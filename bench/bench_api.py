"""Load benchmark of ``POST /api/v1/chat`` against a real server on this machine.

Starts ``policyqa serve`` on a free loopback port (rate limit off, a throwaway
database), waits for /readyz, then measures: latency p50/p95 at concurrency 1,
and throughput, latency and errors at concurrency 8 and 32 (bounded request
counts). Questions come from the eval sets; each is sent once at concurrency 1
and each level gets its own slice (no cache hits). Prints the server's RSS.
Usage::

    .venv/bin/python bench/bench_api.py [--requests 130] [--encoder onnx-int8] [--faq]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
GOLD = ["eval/questions.jsonl", "eval/holdout.jsonl", "eval/holdout2.jsonl"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(url: str, questions: list[str], concurrency: int, n: int) -> dict[str, float]:
    """``n`` requests over ``questions`` (cycled only if fewer: cache hits after that)."""
    lat: list[float] = []
    errors = 0
    from_faq = 0

    def one(i: int) -> None:
        nonlocal errors, from_faq
        t0 = time.perf_counter()
        try:
            r = client.post(f"{url}/api/v1/chat", json={"question": questions[i % len(questions)]})
            ok = r.status_code == 200
            from_faq += ok and r.json()["source"] == "faq"
        except httpx.HTTPError:
            ok = False
        lat.append((time.perf_counter() - t0) * 1000)
        errors += not ok

    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(n)))
        wall = time.perf_counter() - t0
    return {"concurrency": concurrency, "requests": n, "errors": errors,
            "rps": round(n / wall, 1), "p50_ms": round(float(np.percentile(lat, 50)), 1),
            "p95_ms": round(float(np.percentile(lat, 95)), 1), "faq": from_faq}


def add_officer(env: dict[str, str], name: str, role: str) -> str:
    return subprocess.run([str(REPO / ".venv/bin/policyqa"), "officer", "add", name, "--role",
                           role], cwd=REPO, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def publish_faq(url: str, env: dict[str, str]) -> int:
    """Draft entries from every clause through the officer API; an editor submits them
    and a reviewer publishes them (four eyes)."""
    editor = {"Authorization": f"Bearer {add_officer(env, 'bench', 'editor')}"}
    reviewer = {"Authorization": f"Bearer {add_officer(env, 'bench-rev', 'reviewer')}"}
    n = 0
    with httpx.Client(timeout=300) as c:
        for p in c.get(f"{url}/api/v1/policies").json():
            for a in p["articles"]:
                r = c.post(f"{url}/api/v1/officer/faq/drafts", headers=editor,
                           json={"doc_id": p["doc_id"], "article": a["article"], "limit": 3})
                for e in r.json().get("created", []):
                    v = e["version"]
                    for to, who in (("in_review", editor), ("published", reviewer)):
                        v = c.post(f"{url}/api/v1/officer/faq/{e['id']}/transition",
                                   headers=who, json={"version": v, "to": to}).json()["version"]
                    n += 1
    return n


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``policyqa serve`` on a free loopback port, ready; terminated afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [str(REPO / ".venv/bin/policyqa"), "serve", "--port", str(port)], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("server did not become ready")
        yield url, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=130, help="per concurrency level")
    ap.add_argument("--encoder", default=os.environ.get("POLICYQA_ENCODER", "onnx-int8"))
    ap.add_argument("--faq", action="store_true",
                    help="first publish 问答库 entries drafted from every clause (FAQ-first path)")
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for f in GOLD if (REPO / f).exists()
                 for line in (REPO / f).read_text("utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "POLICYQA_DATA_DIR": tmp, "POLICYQA_RATE_LIMIT_PER_MINUTE": "0",
               "POLICYQA_ENCODER": args.encoder, "OMP_NUM_THREADS": "1"}
        with serving(env) as (url, server):
            if args.faq:
                print(f"published {publish_faq(url, env)} 问答库 entries", file=sys.stderr)
            # Disjoint slices of the questions per run, so no run is served from the
            # query-embedding cache filled by an earlier one.
            n = min(args.requests, len(questions) // 3)
            rows = [run(url, questions[i * n:(i + 1) * n], c, n)
                    for i, c in enumerate((1, 8, 32))]
            print(f"encoder {args.encoder}; 问答库 {'on' if args.faq else 'empty'}; "
                  f"server RSS {rss_mb(server.pid):.0f} MB")
            print("concurrency | requests | errors | req/s | p50 ms | p95 ms | from 问答库")
            for r in rows:
                print(f"{r['concurrency']} | {r['requests']} | {r['errors']} | {r['rps']} | "
                      f"{r['p50_ms']} | {r['p95_ms']} | {r['faq']}")
            print("targets: c=1 p50 <= 40 ms, p95 <= 80 ms; c=8 >= 50 req/s with 0 errors",
                  file=sys.stderr)

if __name__ == "__main__":
    main()
