"""Index build times: from an empty cache, with nothing changed, and after one document
is added or edited — the three figures a corpus maintainer waits for.

Builds into a throwaway index folder over a throwaway copy of a corpus (default: the
repo's ``corpus/``; ``--extra DIR`` adds the documents of another folder; files that do
not parse are left out and named). Adding and editing are timed for a middle-sized and
for the largest document. The encoder is the configured one (default onnx-int8),
``--workers`` chunks at a time (default: every core). Usage::

    .venv/bin/python bench/bench_build.py [--extra DIR] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from policyqa.encoder import build_threads, make_encoder
from policyqa.errors import CorpusError
from policyqa.index import PolicyIndex
from policyqa.ingest.corpus import DOC_SUFFIXES, corpus_files, load_policy
from policyqa.service import build_index, ensure_model, make_tokenizer
from policyqa.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def copy_corpus(dest: Path, extra: Path | None) -> list[str]:
    """Copy the documents; return the names of those left out (they do not parse)."""
    dest.mkdir()
    sources = [p for p in sorted((REPO / "corpus").iterdir())]
    if extra:
        sources += [p for p in sorted(extra.iterdir()) if p.suffix in DOC_SUFFIXES
                    and p.name.lower() != "readme.md"]
    for p in sources:
        shutil.copy(p, dest / p.name)
    skipped = []
    for src in corpus_files(dest):
        try:
            load_policy(src)
        except CorpusError:
            skipped.append(src.path.name)
            src.path.unlink()
    return skipped


def timed_build(s: Settings, encoder: object, force: bool = False
                ) -> tuple[float, dict[str, object]]:
    tokenizer, sig = make_tokenizer()
    t0 = time.perf_counter()
    build_index(s, encoder, tokenizer, sig, force=force)  # type: ignore[arg-type]
    dt = time.perf_counter() - t0
    return dt, PolicyIndex.current_manifest(s.index_dir) or {}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--extra", type=Path, help="a folder of more documents to include")
    ap.add_argument("--workers", type=int, default=0, help="0 = every core")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings().resolved()
        s = base.model_copy(update={"corpus_dir": Path(tmp) / "corpus",
                                    "index_dir": Path(tmp) / "index",
                                    "build_threads": args.workers})
        skipped = copy_corpus(s.corpus_dir, args.extra)
        ensure_model(s)
        encoder = make_encoder(s)
        print(f"encoder {encoder.backend}; {build_threads(s)} chunks at a time; "
              f"{len(corpus_files(s.corpus_dir))} documents"
              + (f"; left out (do not parse): {', '.join(skipped)}" if skipped else ""))
        print("build | seconds | chunks | encoded | from cache | chunks/s encoded")
        rows = []
        dt, m = timed_build(s, encoder)
        rows.append(("full, empty cache", dt, m))
        dt, m = timed_build(s, encoder)
        rows.append(("nothing changed", dt, m))
        dt, m = timed_build(s, encoder, force=True)
        rows.append(("forced rebuild, nothing changed (all from cache)", dt, m))
        docs = sorted(corpus_files(s.corpus_dir), key=lambda f: f.path.stat().st_size)
        for what, src in (("middle-sized", docs[len(docs) // 2]), ("largest", docs[-1])):
            doc = src.path
            held = Path(tmp) / doc.name
            shutil.move(doc, held)
            timed_build(s, encoder)  # the corpus without it (cached vectors of the others)
            shutil.move(held, doc)
            dt, m = timed_build(s, encoder)
            rows.append((f"{what} document added ({doc.name})", dt, m))
            text = doc.read_text("utf-8")
            doc.write_text(text.replace("。", "（基准测试改动）。", 1), "utf-8")  # one sentence
            dt, m = timed_build(s, encoder)
            rows.append((f"{what} document edited ({doc.name})", dt, m))
        for name, dt, m in rows:
            enc = m.get("encoded", {}) if name != "nothing changed" else {"new": 0,
                                                                          "from_cache": 0}
            counts = m.get("counts", {})
            new = int(enc.get("new", 0))  # type: ignore[union-attr]
            rate = f"{new / dt:.0f}" if new and dt else "–"
            print(f"{name} | {dt:.1f} | {counts.get('chunks')} | {new} | "  # type: ignore[union-attr]
                  f"{enc.get('from_cache', 0)} | {rate}")  # type: ignore[union-attr]
    sys.stdout.flush()


if __name__ == "__main__":
    main()
