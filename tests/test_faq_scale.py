"""A 问答库 of real size: the approximate search stays right, the wordings' vectors are
encoded once by a background job that is resumable, and a load never encodes a big
import inside a request. Vectors here are invented (a hash-seeded stand-in encoder);
the real encoder is exercised by bench/bench_faq_scale.py and the officer API tests."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from policyqa.faq import search as search_mod
from policyqa.faq.match import INLINE_MAX, FaqMatcher
from policyqa.faq.search import VectorSearch
from policyqa.faq.vectors import BATCH, LEASE_S, VectorJob, WordingVectors
from policyqa.store import Store

DIM = 32


def fake_vec(text: str) -> np.ndarray:
    seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


class FakeEncoder:
    def __init__(self) -> None:
        self.encoded: list[str] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += list(texts)
        return np.vstack([fake_vec(t) for t in texts])


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors in 40 clusters, the shape real sentence embeddings have."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(40, DIM))
    v = centers[rng.integers(0, 40, n)] + 0.3 * rng.normal(size=(n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture()
def small_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_mod, "EXACT_MAX", 300)  # the IVF path at test sizes


def test_ivf_finds_what_the_exact_scan_finds(small_exact: None) -> None:
    vecs = clustered(3000)
    words = [f"w{i}" for i in range(len(vecs))]
    ivf, exact = VectorSearch(words, vecs), VectorSearch(words[:300], vecs[:300])
    assert ivf._ivf is not None and exact._ivf is None
    rng = np.random.default_rng(1)
    hits = 0
    for i in rng.integers(0, 3000, 200):  # a question close to a stored wording
        q = vecs[i] + 0.05 * rng.normal(size=DIM).astype(np.float32)
        q /= np.linalg.norm(q)
        row, score = ivf.best(q)
        assert score == pytest.approx(float(vecs[row] @ q), abs=1e-5)  # cosine is exact
        hits += row == int(np.argmax(vecs @ q))
    assert hits >= 196  # approximate: at most a rare miss, never a wrong cosine


def test_a_small_change_reuses_the_index_and_masks_what_is_gone(small_exact: None) -> None:
    vecs = clustered(3000)
    words = [f"w{i}" for i in range(3000)]
    first = VectorSearch(words, vecs)
    # one entry retired (w5 gone), one published (new wording)
    new = np.vstack([vecs[:5], vecs[6:], clustered(1, seed=9)])
    second = VectorSearch([*words[:5], *words[6:], "new"], new, previous=first)
    assert second._ivf is first._ivf  # no rebuild for one publish
    row, _ = second.best(vecs[5])
    assert second.words[row] != "w5"  # retired: never returned
    row, score = second.best(new[-1])
    assert second.words[row] == "new" and score == pytest.approx(1.0, abs=1e-5)
    big = VectorSearch([*words, *(f"x{i}" for i in range(600))],
                       np.vstack([vecs, clustered(600, seed=3)]), previous=first)
    assert big._ivf is not first._ivf  # a fifth more: rebuilt


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'faq.db'}")


def vectors(store: Store, enc: FakeEncoder) -> WordingVectors:
    return WordingVectors(store, "fake:model", lambda w: w.strip(), enc)


def test_the_job_is_resumable_and_encodes_each_wording_once(store: Store) -> None:
    words = [f"问题{i}怎么办" for i in range(5 * BATCH + 3)]
    now = [1000.0]
    enc = FakeEncoder()
    a = VectorJob(vectors(store, enc), lambda: words, holder="a", clock=lambda: now[0])
    b = VectorJob(vectors(store, enc), lambda: words, holder="b", clock=lambda: now[0])
    assert not a.run_if_due()  # nothing asked for
    a.request()
    assert a.run_if_due(max_batches=2)  # a dies after two batches
    st = a.status()
    assert (st["state"], st["done"], st["total"], st["holder"]) == (
        "running", 2 * BATCH, len(words), "a")
    assert not b.run_if_due()  # a's lease still holds
    now[0] += LEASE_S + 1
    assert b.run_if_due()  # taken over, finished from where a stopped
    st = b.status()
    assert (st["state"], st["done"], st["holder"]) == ("done", len(words), "b")
    assert sorted(enc.encoded) == sorted(words)  # none encoded twice
    got = vectors(store, FakeEncoder()).stored(words)
    assert len(got) == len(words)
    assert np.allclose(got[words[7]], fake_vec(words[7]))


def entries(n: int) -> list[dict[str, object]]:
    return [{"id": f"e{i}", "question": f"第{i}个问题是什么", "paraphrases": [f"第{i}个问题"],
             "citations": [{"doc_id": "d", "article": i}]} for i in range(n)]


def test_a_big_load_waits_for_the_job_a_small_one_is_encoded_at_once(store: Store) -> None:
    enc = FakeEncoder()
    vec = vectors(store, enc)
    matcher = FaqMatcher(fake_vec, vectors=vec)
    matcher.load(entries(INLINE_MAX // 2 - 1))  # a publish: encoded here, served now
    assert matcher.pending == 0 and matcher.match("第3个问题是什么") is not None
    many = entries(200)
    matcher.load(many)  # an import-sized change: nothing is encoded in this call
    assert matcher.pending == 400 - 2 * (INLINE_MAX // 2 - 1)
    assert len(enc.encoded) == 2 * (INLINE_MAX // 2 - 1)
    assert matcher.match("第150个问题是什么") is None  # waits for its vectors
    job = VectorJob(vec, lambda: [w for e in many for w in [e["question"], *e["paraphrases"]]])
    job.request()
    assert job.run_if_due()
    matcher.load(many)
    assert matcher.pending == 0
    m = matcher.match("第150个问题是什么")
    assert m is not None and m.entry["id"] == "e150"
