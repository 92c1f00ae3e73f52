"""The nearest 问答库 wording to a question vector, fast at any size of the base.

A small base is searched exactly (one matrix-vector product). The channel this mirrors
has ~15,000 entries of 2–5 wordings: an exact scan of ~50,000 vectors costs ~13 ms per
question here, most of a question's budget, so past ``EXACT_MAX`` rows the search is a
FAISS IVF index (inverted lists over k-means cells; ``nprobe`` of them are scanned).
Building it costs seconds, and the base changes one publish at a time, so a new view
reuses the previous index: wordings added since it was built are searched exactly (a
small "delta"), wordings gone are masked, and the index is rebuilt only once the delta
or the mask has grown past a share of it. The matcher then checks the best hit's cosine
exactly against its thresholds, so IVF can only miss a match, never make a wrong one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EXACT_MAX = 8192  # rows searched exactly (~2 ms here)
NPROBE = 24
CANDIDATES = 8  # IVF hits examined for one that is not masked
REBUILD_SHARE = 0.1  # delta or masked rows, as a share of the IVF rows, before a rebuild


class _Ivf:
    def __init__(self, words: Sequence[str], vecs: np.ndarray) -> None:
        import faiss

        self.words = list(words)
        self.row = {w: i for i, w in enumerate(self.words)}
        dim = vecs.shape[1]
        cells = max(16, int(4 * np.sqrt(len(words))))
        quantizer = faiss.IndexFlatIP(dim)
        self.index = faiss.IndexIVFFlat(quantizer, dim, cells, faiss.METRIC_INNER_PRODUCT)
        self.index.train(vecs)
        self.index.add(vecs)
        self.index.nprobe = NPROBE
        self._quantizer = quantizer  # FAISS does not own it: keep it alive


class VectorSearch:
    """Immutable view: ``words[i]`` has vector ``vecs[i]``; :meth:`best` gives (row, cos)."""

    def __init__(self, words: Sequence[str], vecs: np.ndarray,
                 previous: VectorSearch | None = None) -> None:
        self.words, self.vecs = list(words), vecs
        self.row = {w: i for i, w in enumerate(self.words)}
        self._ivf: _Ivf | None = None
        self._delta = np.zeros(0, dtype=np.int64)  # rows of ours not in the IVF index
        self._live = np.zeros(0, dtype=bool)  # per IVF row: still one of ours
        self._ours = np.zeros(0, dtype=np.int64)  # per IVF row: our row (if live)
        if len(self.words) > EXACT_MAX:
            self._index_from(previous._ivf if previous is not None else None)

    def _index_from(self, ivf: _Ivf | None) -> None:
        row = self.row
        if ivf is not None:
            live = np.array([w in row for w in ivf.words], dtype=bool)
            delta = [i for i, w in enumerate(self.words) if w not in ivf.row]
            grown = max(len(delta), int((~live).sum()))
            if grown <= REBUILD_SHARE * len(ivf.words):
                self._ivf, self._live = ivf, live
                self._ours = np.array([row.get(w, -1) for w in ivf.words], dtype=np.int64)
                self._delta = np.array(delta, dtype=np.int64)
                return
        self._ivf = _Ivf(self.words, self.vecs)
        self._live = np.ones(len(self.words), dtype=bool)
        self._ours = np.arange(len(self.words), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.words)

    def best(self, q: np.ndarray) -> tuple[int, float]:
        """The row nearest to ``q`` (cosine of L2-normalised vectors) and its cosine;
        (-1, -1.0) when empty."""
        if not self.words:
            return -1, -1.0
        q = q.astype(np.float32)
        if self._ivf is None:
            sims = self.vecs @ q
            i = int(np.argmax(sims))
            return i, float(sims[i])
        found = [(-1, -1.0)]
        if len(self._delta):
            sims = self.vecs[self._delta] @ q
            j = int(np.argmax(sims))
            found.append((int(self._delta[j]), float(sims[j])))
        _, ids = self._ivf.index.search(q.reshape(1, -1), CANDIDATES)
        for r in ids[0]:
            if r >= 0 and self._live[r]:  # -1: fewer hits than asked (FAISS pads)
                i = int(self._ours[r])
                found.append((i, float(self.vecs[i] @ q)))  # the exact cosine, from our rows
                break
        return max(found, key=lambda t: t[1])
