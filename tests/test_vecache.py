"""The passage-vector cache of index builds (real encoder): reuse, exactness, atomic
files that are checked on load, and what a rebuild re-encodes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import INVENTED_DIR
from policyqa.encoder import Encoder
from policyqa.index import PolicyIndex
from policyqa.service import PolicyQA, build_index, make_tokenizer
from policyqa.settings import Settings
from policyqa.vecache import VectorCache

TEXTS = ["企业招用高校毕业生的，按规定给予一次性扩岗补助。", "职工教育经费60%以上用于一线职工。",
         "支持企业开展新型学徒制培训。"]


@pytest.fixture(scope="module")
def encoder(qa: PolicyQA) -> Encoder:
    return qa.encoder


def test_vectors_are_reused_and_exact(encoder: Encoder, tmp_path: Path) -> None:
    cache = VectorCache.open(tmp_path, encoder)
    first = cache.encode(encoder, TEXTS, workers=2)
    assert (cache.hits, cache.misses) == (0, 3)
    alone = np.vstack([encoder.encode_passages([t]) for t in TEXTS])
    assert np.array_equal(first, alone)  # one text per call: independent of its batch
    cache.save()
    again = VectorCache.open(tmp_path, encoder)
    assert len(again) == 3
    second = again.encode(encoder, [TEXTS[2], "新的句子。", TEXTS[0]])
    assert (again.hits, again.misses) == (2, 1)
    assert np.array_equal(second[0], first[2]) and np.array_equal(second[2], first[0])
    assert len(again) == 3  # only what the last build asked for is kept


def test_a_bad_cache_file_is_ignored(encoder: Encoder, tmp_path: Path) -> None:
    cache = VectorCache.open(tmp_path, encoder)
    cache.encode(encoder, TEXTS)
    cache.save()
    cache.path.write_bytes(b"not a numpy file")
    assert len(VectorCache.open(tmp_path, encoder)) == 0
    cache.save()
    other = VectorCache(cache.path, encoder)
    other.meta = {**other.meta, "backend": "another-engine"}  # made by another encoder
    other._load()
    assert len(other) == 0
    assert not list(cache.path.parent.glob(".*.tmp*"))  # written via temp file + rename


def test_a_rebuild_encodes_only_what_changed(settings: Settings, encoder: Encoder,
                                             tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("nested.txt", "webpage.txt"):  # invented documents
        shutil.copy(INVENTED_DIR / name, corpus / name)
    s = settings.model_copy(update={"corpus_dir": corpus, "index_dir": tmp_path / "index"})
    tokenizer, sig = make_tokenizer()

    def build() -> dict[str, int]:
        build_index(s, encoder, tokenizer, sig, force=True)
        manifest = PolicyIndex.current_manifest(s.index_dir) or {}
        return dict(manifest["encoded"])

    full = build()
    assert full["from_cache"] == 0 and full["new"] > 0
    assert build() == {"new": 0, "from_cache": full["new"]}
    doc = corpus / "nested.txt"
    doc.write_text(doc.read_text("utf-8").replace("。", "（改）。", 1), "utf-8")
    edited = build()
    assert 1 <= edited["new"] <= 2 and edited["from_cache"] >= full["new"] - 2
