"""Find and read corpus documents: ``<doc_id>.txt`` (or .md, .docx, .html) plus an optional
``<doc_id>.meta.json``.

The sidecar holds what the text itself does not say (source URL) and, rarely,
overrides for metadata the parser cannot find. The file stem is the document's
stable id, so it must be ASCII.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from policyqa.errors import CorpusError
from policyqa.ingest.model import Policy
from policyqa.ingest.parse import parse_policy
from policyqa.ingest.readers import DOC_SUFFIXES, document_text

DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
META_SUFFIX = ".meta.json"
# What a sidecar may say of its document (the text's own statements come first).
SIDECAR_FACTS = ("title", "doc_no", "date", "issuers", "short_title", "level", "jurisdiction",
                 "status", "superseded_by", "adopted", "published", "amended", "effective")


@dataclass(frozen=True)
class SourceFile:
    doc_id: str
    path: Path
    sha256: str  # of the document's text file
    meta_sha256: str = ""  # of its sidecar, if any

    @property
    def build_hash(self) -> str:
        """What an index depends on: the text and the facts its sidecar adds."""
        if not self.meta_sha256:
            return self.sha256
        return hashlib.sha256(f"{self.sha256}:{self.meta_sha256}".encode()).hexdigest()


def corpus_files(corpus_dir: Path) -> list[SourceFile]:
    """The documents in ``corpus_dir`` (sorted, so builds are deterministic)."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    files, seen = [], dict[str, str]()
    for path in sorted(p for p in corpus_dir.iterdir() if p.suffix.lower() in DOC_SUFFIXES
                       and p.is_file()):
        if path.stem in seen:
            raise CorpusError(f"{path.name}: the id {path.stem} is used by {seen[path.stem]} "
                              "too", file=path.name)
        seen[path.stem] = path.name
        if not DOC_ID.match(path.stem):
            raise CorpusError(f"{path.name}: corpus file names must be ASCII ids "
                              "(letters, digits, . _ -), e.g. yrsg-2025-23.txt", file=path.name)
        meta = path.with_name(path.stem + META_SUFFIX)
        files.append(SourceFile(path.stem, path, hashlib.sha256(path.read_bytes()).hexdigest(),
                                hashlib.sha256(meta.read_bytes()).hexdigest()
                                if meta.exists() else ""))
    if not files:
        raise CorpusError(f"no documents ({', '.join('*' + x for x in DOC_SUFFIXES)}) "
                          f"in corpus folder {corpus_dir}")
    return files


def _read_meta(path: Path) -> dict[str, object]:
    meta_path = path.with_name(path.stem + META_SUFFIX)
    if not meta_path.exists():
        return {}
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CorpusError(f"{meta_path.name}: invalid JSON sidecar ({e})",
                          file=meta_path.name) from e
    if not isinstance(meta, dict):
        raise CorpusError(f"{meta_path.name}: sidecar must be a JSON object",
                          file=meta_path.name)
    return meta


def read_text(path: Path, encoding: str | None = None) -> str:
    """The document's text (what quotes are checked against), in any supported format."""
    return document_text(path, encoding)


def load_policy(src: SourceFile) -> Policy:
    meta = _read_meta(src.path)
    raw = read_text(src.path, str(meta["encoding"]) if meta.get("encoding") else None)
    overrides = {k: v for k, v in meta.items() if k in SIDECAR_FACTS}
    return parse_policy(raw, doc_id=src.doc_id, source_name=src.path.name,
                        source_url=str(meta.get("source_url", "")), source_sha256=src.sha256,
                        overrides=overrides)


def load_corpus(corpus_dir: Path) -> list[Policy]:
    """Parse every document; the first bad one stops everything (nothing half-built)."""
    policies = [load_policy(src) for src in corpus_files(corpus_dir)]
    seen: dict[str, str] = {}
    for p in policies:
        if p.doc_no and p.doc_no in seen:
            raise CorpusError(f"{p.doc_id}: 文号 {p.doc_no} already used by {seen[p.doc_no]}",
                              file=f"{p.doc_id}.txt")
        if p.doc_no:
            seen[p.doc_no] = p.doc_id
    return policies


def corpus_problems(corpus_dir: Path) -> list[dict[str, str]]:
    """Every file that stops a build, each with its reason (not only the first), for
    the report of a server that keeps serving its last good index."""
    try:
        files = corpus_files(corpus_dir)
    except CorpusError as e:
        return [{"file": e.file or str(corpus_dir.name), "reason": str(e)}]
    problems = []
    for src in files:
        try:
            load_policy(src)
        except CorpusError as e:
            problems.append({"file": e.file or src.path.name, "reason": str(e)})
    if not problems:
        try:
            load_corpus(corpus_dir)
        except CorpusError as e:
            problems.append({"file": e.file, "reason": str(e)})
    return problems
