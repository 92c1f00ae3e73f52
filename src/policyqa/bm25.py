"""Okapi BM25 with precomputed per-(document, term) weights, stored as plain files.

Like bm25s, scoring a query is a sum of sparse columns, so a query costs
microseconds; the whole model is a vocabulary (JSON) and a CSR matrix (npz).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse


class BM25:
    def __init__(self, vocab: dict[str, int], weights: sparse.csc_matrix) -> None:
        self.vocab = vocab
        self.weights = weights  # (n_docs, n_terms), column-major for fast term lookups

    @property
    def n_docs(self) -> int:
        return int(self.weights.shape[0])

    @classmethod
    def build(cls, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> BM25:
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        avgdl = float(lengths.mean()) if len(docs) and lengths.sum() else 1.0
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                rows.append(i)
                cols.append(vocab.setdefault(term, len(vocab)))
                tfs.append(tf)
        n = len(docs)
        tf_arr = np.asarray(tfs, dtype=np.float64)
        col_arr = np.asarray(cols, dtype=np.int64)
        df = np.bincount(col_arr, minlength=len(vocab)).astype(np.float64)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))  # Lucene's non-negative idf
        dl = lengths[np.asarray(rows, dtype=np.int64)] if rows else np.zeros(0)
        w = idf[col_arr] * tf_arr * (k1 + 1) / (tf_arr + k1 * (1 - b + b * dl / avgdl))
        mat = sparse.csc_matrix((w.astype(np.float32), (rows, cols)), shape=(n, len(vocab)))
        return cls(vocab, mat)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """Score of every document; all zeros for an empty or out-of-vocabulary query."""
        ids = [self.vocab[t] for t in query_tokens if t in self.vocab]
        if not ids or self.n_docs == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self.weights[:, ids].sum(axis=1), dtype=np.float32).ravel()

    def save(self, folder: Path) -> list[str]:
        (folder / "bm25_vocab.json").write_text(
            json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        sparse.save_npz(folder / "bm25_weights.npz", self.weights.tocsc())
        return ["bm25_vocab.json", "bm25_weights.npz"]

    @classmethod
    def load(cls, folder: Path) -> BM25:
        vocab = json.loads((folder / "bm25_vocab.json").read_text("utf-8"))
        return cls(vocab, sparse.load_npz(folder / "bm25_weights.npz").tocsc())
