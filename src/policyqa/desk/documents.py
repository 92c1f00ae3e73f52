"""Policy documents through the desk: check an upload, then add it; retire or supersede.

A check parses the upload in a staging folder (never the corpus) and returns the same
table as ``policyqa ingest --check`` with every missing fact and warning. Adding,
retiring and superseding change the corpus atomically (temp file + rename), rebuild
the index (the vector cache encodes only new text) and switch the running servers to
it; if the build fails, the corpus is put back as it was. One change at a time, also
across processes on this host (an flock on ``corpus/.desk.lock``: two admins on two
workers or replicas sharing the folder cannot interleave their builds).
A retired document's files move to ``corpus/retired/`` (the index reads only the top
folder), so nothing an officer removes is lost.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from policyqa.errors import Conflict, CorpusError, DocumentTooLarge, InvalidDocument, NotFound
from policyqa.ingest.corpus import (
    DOC_ID,
    META_SUFFIX,
    SIDECAR_FACTS,
    corpus_files,
    load_corpus,
    load_policy,
)
from policyqa.ingest.model import Policy
from policyqa.ingest.readers import DOC_SUFFIXES
from policyqa.ingest.report import DOCUMENT_COLUMNS, document_row, document_warnings
from policyqa.locks import exclusive

SIDECAR_KEYS = frozenset({*SIDECAR_FACTS, "source", "source_url", "encoding"})
RETIRED = "retired"
LOCK_FILE = ".desk.lock"


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    meta: Mapping[str, Any] = field(default_factory=dict)
    doc_id: str = ""  # default: the file name's stem

    @property
    def suffix(self) -> str:
        return Path(self.filename).suffix.lower()

    @property
    def id(self) -> str:
        return self.doc_id or Path(self.filename).stem


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _report(p: Policy, file: str) -> dict[str, Any]:
    return {"doc_id": p.doc_id, "file": file, "columns": list(DOCUMENT_COLUMNS),
            "row": document_row(p), "missing": list(p.missing),
            "warnings": document_warnings(p),
            "articles": [{"label": a.cite_label, "heading": a.heading,
                          "sentences": len(a.sentences)} for a in p.articles if a.ordinal]}


@contextmanager
def corpus_lock(corpus_dir: Path) -> Iterator[None]:
    """Exclusive use of the corpus folder by one change, whichever process makes it."""
    with exclusive(corpus_dir / LOCK_FILE):
        yield


class DocumentDesk:
    def __init__(self, corpus_dir: Path, rebuild: Callable[[], str], max_bytes: int) -> None:
        self.corpus_dir = corpus_dir
        self.rebuild = rebuild  # builds the index of the corpus and switches to it
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def table(self) -> dict[str, Any]:
        policies = load_corpus(self.corpus_dir)
        return {"columns": list(DOCUMENT_COLUMNS), "rows": [document_row(p) for p in policies]}

    def check(self, up: Upload) -> dict[str, Any]:
        """What the upload parses to; the corpus is not touched."""
        with tempfile.TemporaryDirectory() as tmp:
            return _report(self._parse(up, Path(tmp)), self._name(up))

    def add(self, up: Upload) -> dict[str, Any]:
        with self._lock, corpus_lock(self.corpus_dir), tempfile.TemporaryDirectory() as tmp:
            p = self._parse(up, Path(tmp))
            staged = [f for f in Path(tmp).iterdir() if f.is_file()]
            for f in staged:
                _write_atomic(self.corpus_dir / f.name, f.read_bytes())
            def undo() -> None:
                for f in staged:
                    (self.corpus_dir / f.name).unlink()

            build = self._rebuild_or(undo)
            return {**_report(p, self._name(up)), "build": build}

    def retire(self, doc_id: str) -> dict[str, Any]:
        with self._lock, corpus_lock(self.corpus_dir):
            files = self._files_of(doc_id)
            if len(corpus_files(self.corpus_dir)) == 1:
                raise Conflict("不能下线最后一份文件：语料库不能为空")
            for p in load_corpus(self.corpus_dir):
                if p.superseded_by == doc_id:
                    raise Conflict(f"{p.doc_id} 标注为被 {doc_id} 取代，请先修改它再下线")
            folder = self.corpus_dir / RETIRED / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            folder.mkdir(parents=True, exist_ok=True)
            for f in files:
                f.replace(folder / f.name)
            def undo() -> None:
                for f in files:
                    (folder / f.name).replace(f)

            build = self._rebuild_or(undo)
            return {"doc_id": doc_id, "retired_to": str(folder.relative_to(self.corpus_dir)),
                    "build": build}

    def supersede(self, doc_id: str, by: str) -> dict[str, Any]:
        """Mark ``doc_id`` as superseded by ``by`` (both in the corpus): it is never cited
        first again, and a question about the old version is answered from the new one."""
        with self._lock, corpus_lock(self.corpus_dir):
            self._files_of(doc_id)
            self._files_of(by)
            if by == doc_id:
                raise InvalidDocument("文件不能被自己取代")
            meta_path = self.corpus_dir / f"{doc_id}{META_SUFFIX}"
            old = meta_path.read_bytes() if meta_path.exists() else None
            meta = json.loads(old.decode("utf-8")) if old else {}
            meta.update(status="superseded", superseded_by=by)
            _write_atomic(meta_path, json.dumps(meta, ensure_ascii=False, indent=2).encode())
            def undo() -> None:
                if old is None:
                    meta_path.unlink()
                else:
                    _write_atomic(meta_path, old)

            build = self._rebuild_or(undo)
            return {"doc_id": doc_id, "superseded_by": by, "build": build}

    # ---- internals -------------------------------------------------------------------

    @staticmethod
    def _name(up: Upload) -> str:
        return f"{up.id}{up.suffix}"

    def _files_of(self, doc_id: str) -> list[Path]:
        docs = [f.path for f in corpus_files(self.corpus_dir) if f.doc_id == doc_id]
        if not docs:
            raise NotFound(f"语料库中没有文件：{doc_id[:64]}")
        meta = docs[0].with_name(doc_id + META_SUFFIX)
        return [docs[0], *([meta] if meta.exists() else [])]

    def _rebuild_or(self, undo: Callable[[], Any]) -> str:
        try:
            return self.rebuild()
        except Exception:
            undo()  # the corpus as it was; the index in service was never replaced
            raise

    def _parse(self, up: Upload, staging: Path) -> Policy:
        if len(up.data) > self.max_bytes:
            raise DocumentTooLarge(f"文件过大（{len(up.data) // 1_048_576} MB），"
                                   f"上限为 {self.max_bytes // 1_048_576} MB")
        if up.suffix not in DOC_SUFFIXES:
            raise InvalidDocument(f"不支持的文件格式：{up.suffix or '（无扩展名）'}，"
                                  f"请上传 {'、'.join(DOC_SUFFIXES)}")
        if not DOC_ID.match(up.id):
            raise InvalidDocument("文件编号（doc_id）只能用字母、数字和 . _ -，例如 cq-rsj-2026-5")
        unknown = sorted(set(up.meta) - SIDECAR_KEYS)
        if unknown:
            raise InvalidDocument(f"说明文件（sidecar）中有未知的项：{'、'.join(unknown)}")
        current = load_corpus(self.corpus_dir)
        if any(p.doc_id == up.id for p in current):
            raise Conflict(f"语料库中已有文件 {up.id}；更新请另用新编号，再将旧文件标为被取代")
        by = up.meta.get("superseded_by")
        if by and by not in {p.doc_id for p in current}:
            raise InvalidDocument(f"superseded_by 指向的文件不存在：{by}")
        (staging / self._name(up)).write_bytes(up.data)
        if up.meta:
            (staging / f"{up.id}{META_SUFFIX}").write_text(
                json.dumps(dict(up.meta), ensure_ascii=False, indent=2), "utf-8")
        try:
            p = load_policy(corpus_files(staging)[0])
        except CorpusError as e:
            raise InvalidDocument(str(e)) from e
        if not any(a.ordinal for a in p.articles):
            raise InvalidDocument(f"{self._name(up)}：没有识别出任何条文（第一条、一、……），"
                                  "请确认上传的是政策正文")
        for other in current:
            if p.doc_no and other.doc_no == p.doc_no:
                raise Conflict(f"文号 {p.doc_no} 已被 {other.doc_id} 使用")
        return p
