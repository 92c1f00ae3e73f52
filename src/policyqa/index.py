"""The on-disk index: FAISS (dense) + BM25 (lexical) over sentence chunks, with a manifest.

Layout under ``index_dir``::

    CURRENT                  name of the active build (replaced atomically)
    builds/<name>/           manifest.json, chunks.jsonl, policies.json,
                             dense.faiss, bm25_vocab.json, bm25_weights.npz
    cache/<engine>-<model>.npz   passage vectors by text (see policyqa.vecache)

A build is written to a fresh folder and only then made CURRENT, so a failing
build never touches the index in service. Row numbers stay inside this module;
everything outside sees chunk ids.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.bm25 import BM25
from policyqa.encoder import Encoder
from policyqa.errors import IndexMismatch, IndexMissing, IndexStoreError
from policyqa.ingest.chunk import Chunk, make_chunks
from policyqa.ingest.corpus import SourceFile
from policyqa.ingest.model import Policy, policy_from_dict, policy_to_dict
from policyqa.text import Tokenizer
from policyqa.vecache import VectorCache

SCHEMA_VERSION = 1
_KEEP_OLD_BUILDS = 1


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_atomic(path: Path, data: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, path)


@dataclass(frozen=True)
class BuildKey:
    """What an index depends on; any change means the index is stale."""

    model_id: str
    backend: str  # same weights, but each engine's vectors differ slightly: keep them apart
    corpus: tuple[tuple[str, str], ...]  # (doc_id, sha256)
    tokenizer: str  # hash of dictionary + tokenizer options + parser/chunker code

    @classmethod
    def of(cls, encoder: Encoder, files: Sequence[SourceFile], tokenizer_sig: str) -> BuildKey:
        return cls(encoder.model_id, encoder.backend,
                   tuple((f.doc_id, f.build_hash) for f in files), tokenizer_sig)


def _dense_index(vectors: np.ndarray, factory: str) -> Any:
    import faiss

    dim = vectors.shape[1]
    index: Any
    if factory == "Flat":
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
        if not index.is_trained:
            index.train(vectors)
    index.add(vectors)
    return index


class PolicyIndex:
    """A loaded index: chunks, their policies, and both retrieval structures."""

    def __init__(self, manifest: dict[str, Any], chunks: list[Chunk], policies: list[Policy],
                 dense: Any, bm25: BM25) -> None:
        self.manifest = manifest
        self.chunks = chunks
        self.policies = {p.doc_id: p for p in policies}
        self._dense = dense
        self.bm25 = bm25
        self._row = {c.id: i for i, c in enumerate(chunks)}
        self.build_name = ""  # the builds/<name> folder it was loaded from

    def __len__(self) -> int:
        return len(self.chunks)

    def chunk(self, cid: str) -> Chunk:
        return self.chunks[self._row[cid]]

    def dense_search(self, qvec: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        """Top-k chunks by inner product; guards k > size and FAISS's -1 padding."""
        k = min(k, len(self.chunks))
        if k <= 0:
            return []
        scores, rows = self._dense.search(np.ascontiguousarray(qvec, np.float32).reshape(1, -1), k)
        return [(self.chunks[r], float(s)) for s, r in zip(scores[0], rows[0], strict=True)
                if r >= 0]

    def lexical_scores(self, tokens: Sequence[str], k: int | None = None) -> dict[str, float]:
        """BM25 score per chunk id, only the chunks that match at all (the ``k`` best)."""
        s = self.bm25.scores(tokens)
        rows = np.flatnonzero(s)
        if k is not None and len(rows) > k:
            rows = rows[np.argpartition(-s[rows], k - 1)[:k]]
        return {self.chunks[i].id: float(s[i]) for i in rows}

    # ---- persistence -------------------------------------------------------

    @staticmethod
    def build(policies: Sequence[Policy], files: Sequence[SourceFile], encoder: Encoder,
              tokenizer: Tokenizer, tokenizer_sig: str, index_dir: Path, *,
              factory: str = "Flat", progress: Callable[[int, int], None] | None = None,
              batch_size: int = 1, workers: int = 1) -> Path:
        """Encode and write a new build, then make it CURRENT. Returns the build folder."""
        import faiss

        chunks = [c for p in policies for c in make_chunks(p)]
        if not chunks:
            raise IndexStoreError("the corpus produced no chunks to index")
        builds = index_dir / "builds"
        builds.mkdir(parents=True, exist_ok=True)
        _drop_abandoned(builds)
        name = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp = builds / f".{name}.partial"
        tmp.mkdir()
        cache = VectorCache.open(index_dir, encoder)
        try:
            vectors = cache.encode(encoder, [c.text for c in chunks], batch_size=batch_size,
                                   workers=workers, progress=progress)
            faiss.write_index(_dense_index(vectors, factory), str(tmp / "dense.faiss"))
            bm25 = BM25.build([tokenizer.tokenize(c.text) for c in chunks])
            bm25.save(tmp)
            (tmp / "chunks.jsonl").write_text(
                "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in chunks), "utf-8")
            (tmp / "policies.json").write_text(
                json.dumps([policy_to_dict(p) for p in policies], ensure_ascii=False, indent=1),
                "utf-8")
            key = BuildKey.of(encoder, files, tokenizer_sig)
            manifest = {
                "schema_version": SCHEMA_VERSION,
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "encoder": {"model_id": encoder.model_id, "backend": encoder.backend,
                            "dim": int(vectors.shape[1])},
                "corpus": [{"doc_id": d, "sha256": h} for d, h in key.corpus],
                "tokenizer": tokenizer_sig,
                "faiss_factory": factory,
                "counts": {"documents": len(policies),
                           "articles": sum(len(p.articles) for p in policies),
                           "chunks": len(chunks)},
                "encoded": {"new": cache.misses, "from_cache": cache.hits},
                "files": {f.name: _sha256(f) for f in sorted(tmp.iterdir())},
            }
            (tmp / "manifest.json").write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
            final = builds / name
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _write_atomic(index_dir / "CURRENT", name + "\n")
        cache.save()  # after the build is in place: a failed build leaves the old cache
        _prune(builds, keep={name})
        return final

    @staticmethod
    def current_manifest(index_dir: Path) -> dict[str, Any] | None:
        folder = _current_folder(index_dir)
        if folder is None:
            return None
        try:
            manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text("utf-8"))
            return manifest
        except (OSError, json.JSONDecodeError):
            return None

    @staticmethod
    def is_current(manifest: dict[str, Any] | None, key: BuildKey) -> bool:
        if not manifest or manifest.get("schema_version") != SCHEMA_VERSION:
            return False
        corpus = tuple((d["doc_id"], d["sha256"]) for d in manifest.get("corpus", []))
        enc = manifest.get("encoder", {})
        return (enc.get("model_id") == key.model_id and enc.get("backend") == key.backend
                and corpus == key.corpus
                and manifest.get("tokenizer") == key.tokenizer)

    @classmethod
    def load(cls, index_dir: Path, *, model_id: str, dim: int | None = None) -> PolicyIndex:
        """Load CURRENT, verifying the manifest, file hashes and the encoder it was built with."""
        import faiss

        folder = _current_folder(index_dir)
        if folder is None:
            raise IndexMissing(f"no index in {index_dir}; run `policyqa index`")
        try:
            manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise IndexStoreError(f"index manifest unreadable in {folder} ({e}); "
                                  "run `policyqa index --force`") from e
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise IndexMismatch(f"index schema {manifest.get('schema_version')} != "
                                f"{SCHEMA_VERSION}; run `policyqa index --force`")
        built = manifest["encoder"]["model_id"]
        if built != model_id or (dim is not None and manifest["encoder"]["dim"] != dim):
            raise IndexMismatch(f"index was built with model {built!r}, but the configured "
                                f"model is {model_id!r}; rebuild with `policyqa index --force`")
        for fname, digest in manifest["files"].items():
            path = folder / fname
            if not path.exists() or _sha256(path) != digest:
                raise IndexStoreError(f"index file {fname} is missing or corrupt; "
                                      "run `policyqa index --force`")
        chunks = [Chunk(**json.loads(line)) for line in
                  (folder / "chunks.jsonl").read_text("utf-8").splitlines() if line]
        policies = [policy_from_dict(d) for d in
                    json.loads((folder / "policies.json").read_text("utf-8"))]
        dense = faiss.read_index(str(folder / "dense.faiss"))
        if dense.ntotal != len(chunks):
            raise IndexStoreError("index vectors and chunks disagree; run `policyqa index --force`")
        index = cls(manifest, chunks, policies, dense, BM25.load(folder))
        index.build_name = folder.name
        return index

    @staticmethod
    def current_build(index_dir: Path) -> str | None:
        """The name of the build CURRENT points at (None: no index yet)."""
        folder = _current_folder(index_dir)
        return folder.name if folder else None


def _current_folder(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / "CURRENT").read_text("utf-8").strip()
    except OSError:
        return None
    folder = index_dir / "builds" / name
    return folder if name and folder.is_dir() else None


def _prune(builds: Path, keep: set[str]) -> None:
    """Drop all but the newest previous build (kept for a manual rollback)."""
    done = sorted((p for p in builds.iterdir() if p.is_dir() and p.name not in keep
                   and not p.name.startswith(".")), key=lambda p: p.stat().st_mtime_ns,
                  reverse=True)
    for old in done[_KEEP_OLD_BUILDS:]:
        shutil.rmtree(old, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _drop_abandoned(builds: Path, max_age_s: float = 6 * 3600) -> None:
    """Remove ``.<name>.partial`` folders left by a build that was killed (its process
    is gone, or it is older than any build takes); a build still running elsewhere
    keeps its folder. The name carries the builder's pid: <time>-<pid>-<hex>."""
    for p in builds.glob(".*.partial"):
        parts = p.name[1:].split("-")
        pid = int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else -1
        age = time.time() - p.stat().st_mtime
        if pid == os.getpid() or pid < 0 or not _pid_alive(pid) or age > max_age_s:
            shutil.rmtree(p, ignore_errors=True)
