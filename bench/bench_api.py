"""Load benchmark of ``POST /api/v1/chat`` against a real server on this machine.

Starts ``policyqa serve --workers W`` on a free loopback port for each W asked (rate
limit off unless --rate-limit, a throwaway SQLite database, or PostgreSQL with --pg),
waits for /readyz, then measures: latency p50/p95 at concurrency 1, and throughput,
latency and errors at concurrency 8 and 32 (bounded request counts). Questions come
from the eval sets; each level gets its own slice (no cache hits). With --nginx the
same runs go through deploy/nginx/policyqa.conf in front of the server too. Prints
the RSS of each worker, and the encoder's own time for the c=1 questions, measured in
this process on one thread in the same run (the HTTP p50 / encoder p50 ratio is the
service's overhead). The load client runs on the same 2 cores as the server. Usage::

    .venv/bin/python bench/bench_api.py [--requests 130] [--workers 1 2] [--pg] [--nginx]
        [--encoder onnx-int8] [--faq] [--rate-limit]
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
GOLD = ["eval/questions.jsonl", "eval/holdout.jsonl", "eval/holdout2.jsonl",
        "eval/holdout3.jsonl", "eval/holdout4.jsonl"]
sys.path.insert(0, str(REPO / "tests"))  # the throwaway PostgreSQL and nginx of the tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def workers_rss(server: subprocess.Popen[bytes]) -> list[float]:
    """RSS of each process that answers: the server itself, or each of its workers."""
    kids = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    pids = [int(k) for k in kids
            if b"resource_tracker" not in Path(f"/proc/{k}/cmdline").read_bytes()]
    return [round(rss_mb(p)) for p in pids or [server.pid]]


def encoder_p50(questions: list[str], encoder_name: str) -> float:
    """The encoder's own time per question (one thread, this process), p50 in ms."""
    from policyqa.encoder import make_encoder
    from policyqa.settings import Settings

    enc = make_encoder(Settings(encoder=encoder_name).resolved())  # type: ignore[arg-type]
    enc.encode_queries(questions[:5])  # warm
    times = []
    for q in questions:
        t0 = time.perf_counter()
        enc.encode_queries([q])
        times.append((time.perf_counter() - t0) * 1000)
    return round(float(np.percentile(times, 50)), 1)


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
def serving(env: dict[str, str], workers: int = 1
            ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``policyqa serve`` on a free loopback port, ready; terminated afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [str(REPO / ".venv/bin/policyqa"), "serve", "--port", str(port), "--workers",
         str(workers)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
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
        time.sleep(3 * workers)  # every worker loaded, not only the first to answer
        yield url, server
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def nginx_in_front(port: int, tmp: Path) -> Iterator[str]:
    from test_nginx_front import NGINX, nginx_conf

    listen = free_port()
    proc = subprocess.Popen([NGINX, "-c", str(nginx_conf(tmp, [port], listen)), "-e",
                             str(tmp / "error.log")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{listen}"
    try:
        for _ in range(50):
            try:
                httpx.get(f"{url}/nginx-healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def database(pg: bool, tmp: str) -> Iterator[str]:
    """An empty database: SQLite in ``tmp`` (the default), or a throwaway PostgreSQL."""
    if not pg:
        yield ""
        return
    from pg import PgServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("--pg: PostgreSQL server binaries not found")
    server = PgServer(bindir)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def levels(url: str, questions: list[str], n: int, offset: int) -> list[dict[str, float]]:
    """c=1, 8 and 32, each on its own slice of the questions (no cache hits)."""
    return [run(url, questions[(offset + i) * n:(offset + i + 1) * n], c, n)
            for i, c in enumerate((1, 8, 32))]


def table(title: str, rows: list[dict[str, float]]) -> None:
    print(f"\n{title}\nconcurrency | requests | errors | req/s | p50 ms | p95 ms | from 问答库")
    for r in rows:
        print(f"{r['concurrency']} | {r['requests']} | {r['errors']} | {r['rps']} | "
              f"{r['p50_ms']} | {r['p95_ms']} | {r['faq']}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=130, help="per concurrency level")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    ap.add_argument("--nginx", action="store_true", help="also through nginx in front")
    ap.add_argument("--rate-limit", action="store_true",
                    help="count every request in the database's rate limiter (at a limit "
                         "no run reaches: the counting's cost, not 429s)")
    ap.add_argument("--encoder", default=os.environ.get("POLICYQA_ENCODER", "onnx-int8"))
    ap.add_argument("--faq", action="store_true",
                    help="first publish 问答库 entries drafted from every clause (FAQ-first path)")
    args = ap.parse_args()
    questions = list(dict.fromkeys(
        json.loads(line)["question"] for f in GOLD if (REPO / f).exists()
        for line in (REPO / f).read_text("utf-8").splitlines() if line.strip()))
    n = min(args.requests, len(questions) // (3 * (1 + args.nginx) * len(args.workers)))
    with tempfile.TemporaryDirectory() as tmp, database(args.pg, tmp) as db_url:
        env = {**os.environ, "POLICYQA_DATA_DIR": tmp, "POLICYQA_DATABASE_URL": db_url,
               "POLICYQA_ENCODER": args.encoder, "OMP_NUM_THREADS": "1",
               "POLICYQA_RATE_LIMIT_PER_MINUTE": "10000000" if args.rate_limit else "0"}
        print(f"encoder {args.encoder}; database {'PostgreSQL' if args.pg else 'SQLite'}; "
              f"rate limit {'counted' if args.rate_limit else 'off'}; {n} distinct questions "
              f"per level; load client on the same {os.cpu_count()} cores")
        slot = 0
        for w in args.workers:
            with serving(env, w) as (url, server):
                if args.faq and slot == 0:
                    print(f"published {publish_faq(url, env)} 问答库 entries", file=sys.stderr)
                rows = levels(url, questions, n, slot)
                enc = encoder_p50(questions[slot * n:(slot + 1) * n], args.encoder)
                table(f"{w} worker(s), direct; RSS per worker {workers_rss(server)} MB; "
                      f"encoder alone p50 {enc} ms on the c=1 questions "
                      f"(HTTP/encoder {rows[0]['p50_ms'] / enc:.2f}x)", rows)
                slot += 3
                if args.nginx:
                    port = int(url.rsplit(":", 1)[1])
                    with nginx_in_front(port, Path(tmp)) as front:
                        table(f"{w} worker(s), through nginx",
                              levels(front, questions, n, slot))
                    slot += 3
    print("\ntargets: 2 workers c=8 >= 90 req/s with 0 errors; c=1 HTTP p50 <= 1.5x the "
          "encoder's", file=sys.stderr)


if __name__ == "__main__":
    main()
