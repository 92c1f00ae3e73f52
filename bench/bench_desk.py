"""What the officer desk costs the public channel: the widget's polling of a 转人工
ticket, and a reply's way to the citizen. Against a real server on this machine.

Measures (1) ``GET /api/v1/handoff/{id}`` — one poll — p50/p95 at concurrency 1 and
its throughput at 8; (2) ``POST /api/v1/chat`` latency at concurrency 1 alone and
while simulated pages poll their tickets at a given total rate (default 20 polls/s,
i.e. 300 open pages at the widget's 15 s interval); (3) the time from an officer's
reply to the poll that first returns it (the rest of a citizen's wait is the poll
interval). Usage::

    .venv/bin/python bench/bench_desk.py [--tickets 50] [--polls-per-s 20] [--chat 60]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import GOLD, REPO, add_officer, run, serving


def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 1)


def make_tickets(url: str, questions: list[str], n: int) -> list[str]:
    ids = []
    with httpx.Client(timeout=60) as c:
        for q in questions[:n]:
            sid = c.post(f"{url}/api/v1/chat", json={"question": q}).json()["session_id"]
            ids.append(c.post(f"{url}/api/v1/handoff", json={"session_id": sid}).json()[
                "ticket_id"])
    return ids


def poll_latency(url: str, ids: list[str], n: int) -> dict[str, float]:
    lat = []
    with httpx.Client(timeout=30) as c:
        for i in range(n):
            t0 = time.perf_counter()
            assert c.get(f"{url}/api/v1/handoff/{ids[i % len(ids)]}").status_code == 200
            lat.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95)}


def pollers(url: str, ids: list[str], rate: float, stop: threading.Event) -> threading.Thread:
    """Background polling at ``rate`` requests per second in total, spread over the tickets."""
    def loop() -> None:
        with httpx.Client(timeout=30) as c:
            i, t_next = 0, time.perf_counter()
            while not stop.is_set():
                c.get(f"{url}/api/v1/handoff/{ids[i % len(ids)]}")
                i += 1
                t_next += 1 / rate
                time.sleep(max(0.0, t_next - time.perf_counter()))
    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return t


def reply_seen_after(url: str, ticket: str, token: str) -> float:
    """ms from the reply POST returning to the first poll that shows it."""
    h = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=30) as c:
        assert c.post(f"{url}/api/v1/officer/tickets/{ticket}/replies", headers=h,
                      json={"body": "您好，已为您查询。"}).status_code == 201
        t0 = time.perf_counter()
        while not c.get(f"{url}/api/v1/handoff/{ticket}").json()["replies"]:
            time.sleep(0.01)
        return (time.perf_counter() - t0) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=50)
    ap.add_argument("--polls-per-s", type=float, default=20.0)
    ap.add_argument("--chat", type=int, default=60, help="chat requests per measurement")
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for f in GOLD if (REPO / f).exists()
                 for line in (REPO / f).read_text("utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "POLICYQA_DATA_DIR": tmp, "POLICYQA_RATE_LIMIT_PER_MINUTE": "0",
               "OMP_NUM_THREADS": "1"}
        with serving(env) as (url, _):
            ids = make_tickets(url, questions, args.tickets)
            one = poll_latency(url, ids, 300)
            many = run_polls(url, ids, 8, 400)
            k = args.chat
            rest = questions[args.tickets:]
            alone = run(url, rest[:k], 1, k)
            stop = threading.Event()
            thread = pollers(url, ids, args.polls_per_s, stop)
            loaded = run(url, rest[k:2 * k], 1, k)
            stop.set()
            thread.join(10)
            token = add_officer(env, "bench-desk", "editor")
            seen = [reply_seen_after(url, t, token) for t in ids[:10]]
    print("one poll (GET /api/v1/handoff/{id}), c=1: "
          f"p50 {one['p50_ms']} ms, p95 {one['p95_ms']} ms; c=8: {many['rps']} req/s, "
          f"{many['errors']} errors")
    print(f"chat c=1 alone: p50 {alone['p50_ms']} ms, p95 {alone['p95_ms']} ms; while pages "
          f"poll at {args.polls_per_s:g}/s: p50 {loaded['p50_ms']} ms, p95 {loaded['p95_ms']} ms")
    print(f"reply visible to the next poll after {pct(seen, 50)} ms (p50 of {len(seen)}); "
          "a citizen waits that plus up to one poll interval (15 s)")


def run_polls(url: str, ids: list[str], concurrency: int, n: int) -> dict[str, float]:
    from concurrent.futures import ThreadPoolExecutor

    errors = 0

    def one(i: int) -> None:
        nonlocal errors
        errors += client.get(f"{url}/api/v1/handoff/{ids[i % len(ids)]}").status_code != 200

    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(n)))
        wall = time.perf_counter() - t0
    return {"rps": round(n / wall, 1), "errors": errors}


if __name__ == "__main__":
    main()
