"""Dify's (and RAGFlow's) external knowledge base over the corpus: which part of it a
``knowledge_id`` names, the clauses a query retrieves as records, and metadata conditions.

A record is one clause (条) with its verbatim text, a score in 0–1 and its citation in
``metadata``. The service's gate decides as it does for a citizen: a query the documents
do not cover gets no records (an empty list is Dify's "nothing found"), so the platform's
model is not handed loosely related clauses to guess from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from policyqa.errors import UnknownKnowledge
from policyqa.ingest.chunk import chunk_id
from policyqa.ingest.model import Article, Policy
from policyqa.retrieve import ArticleHit
from policyqa.service import PolicyQA
from policyqa.text import normalize

WHOLE = ("policyqa", "all")  # knowledge ids of the whole corpus
KINDS = ("doc", "jurisdiction", "level", "status")  # <kind>:<value> selects a part
POOL = 60  # candidates retrieved before a part or a condition narrows them


def knowledge_ids(policies: Mapping[str, Policy]) -> list[str]:
    """Every knowledge id that selects something (for the README and the officers)."""
    out = [WHOLE[0]] + [f"doc:{d}" for d in sorted(policies)]
    for kind in ("jurisdiction", "level", "status"):
        out += sorted({f"{kind}:{getattr(p, kind)}" for p in policies.values()
                       if getattr(p, kind)})
    return out


def select_docs(knowledge_id: str, policies: Mapping[str, Policy]) -> frozenset[str]:
    """The doc ids a knowledge id names: the whole corpus, one document (``doc:<id>`` or
    the bare id), a jurisdiction (``jurisdiction:重庆市``), a level (``level:法律``) or a
    status (``status:in_force``). UnknownKnowledge when it names nothing held."""
    kid = (knowledge_id or "").strip()
    if kid.lower() in WHOLE:
        return frozenset(policies)
    kind, sep, value = kid.partition(":")
    if not sep and kid in policies:
        return frozenset({kid})
    if kind in KINDS and value:
        field = "doc_id" if kind == "doc" else kind
        docs = frozenset(d for d, p in policies.items()
                         if normalize(str(getattr(p, field))) == normalize(value))
        if docs:
            return docs
    raise UnknownKnowledge(f"The knowledge does not exist: {kid!r}")


def _content(art: Article) -> str:
    """The clause's verbatim text, a line for each 款 and 项 (as the source sets them)."""
    return "\n".join(text for _, _, text in art.parts())


def record(p: Policy, hit: ArticleHit, score: float) -> dict[str, Any]:
    """One clause as Dify's record: content, score, title, metadata (never null)."""
    art = p.article(hit.article)
    best = art.sentence(hit.sentences[0].sentence) if hit.sentences and hit.sentences[
        0].sentence else art.sentences[0]
    cite = p.citation(art.ordinal)
    return {"content": _content(art), "score": round(max(0.0, min(1.0, score)), 4),
            "title": cite, "metadata": {
                "doc_id": p.doc_id, "doc_title": p.title, "doc_no": p.doc_no,
                "article": art.ordinal, "label": art.cite_label,
                "paragraph": best.paragraph, "item": best.item,
                "chunk_id": chunk_id(p.doc_id, art.ordinal, best.index,
                                     *((best.paragraph, best.item) if art.structured else (0, 0))),
                "quote": best.text, "citation": cite, "url": p.source_url,
                "level": p.level, "jurisdiction": p.jurisdiction, "status": p.status,
                "date": p.date}}


def retrieve(qa: PolicyQA, knowledge_id: str, query: str, top_k: int, threshold: float,
             condition: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The records of ``query`` in the part ``knowledge_id`` names, best first: the clauses
    of that part (and meeting ``condition``) the gate lets answer, at most ``top_k``, each
    scoring at least ``threshold``. Score: the fused retrieval score (cosine + weighted
    BM25 share) scaled to 0–1."""
    policies = qa.index.policies
    docs = select_docs(knowledge_id, policies)
    r = qa.retrieve(query, k=max(POOL, top_k))
    scale = 1.0 + qa.retriever.params.w_lexical
    hits = [(h, record(policies[h.doc_id], h, h.score / scale)) for h in r.articles
            if h.doc_id in docs]
    if condition and condition.get("conditions"):
        hits = [(h, rec) for h, rec in hits if holds(rec["metadata"], condition)]
    if not hits:
        return []
    ans = qa.answerer.answer(replace(r, articles=tuple(h for h, _ in hits)))
    if ans.status != "answered":
        return []
    order = {key: i for i, key in enumerate(ans.ranked)}
    hits.sort(key=lambda x: order.get((x[0].doc_id, x[0].article), len(order)))
    return [rec for _, rec in hits if rec["score"] >= threshold][:top_k]


# ---- metadata conditions (Dify's comparison operators) -------------------------------

def holds(meta: Mapping[str, Any], condition: Mapping[str, Any]) -> bool:
    """Whether a record's metadata meets ``{"logical_operator": "and"|"or", "conditions":
    [{"name", "comparison_operator", "value"}]}``. A name may be a list (any of them)."""
    results = [_one(meta, c) for c in condition.get("conditions") or []]
    if str(condition.get("logical_operator") or "and").lower() == "or":
        return any(results)
    return all(results)


def _one(meta: Mapping[str, Any], c: Mapping[str, Any]) -> bool:
    names = c.get("name")
    names = names if isinstance(names, list) else [names]
    op, value = str(c.get("comparison_operator") or ""), c.get("value")
    return any(_compare(op, meta.get(str(n)), value) for n in names)


def _compare(op: str, have: Any, want: Any) -> bool:
    empty = have is None or have == "" or have == []
    if op in ("empty", "null"):
        return empty
    if op in ("not empty", "not null"):
        return not empty
    if op in ("=", "≠", "!=", ">", "<", "≥", "≤", ">=", "<="):
        return _numeric(op, have, want)
    if op in ("before", "after"):
        a, b = _date(have), _date(want)
        return bool(a and b) and (a < b if op == "before" else a > b)
    text, wants = str(have if have is not None else ""), _strings(want)
    tests = {"contains": lambda w: w in text, "not contains": lambda w: w not in text,
             "start with": text.startswith, "end with": text.endswith,
             "is": lambda w: text == w, "is not": lambda w: text != w,
             "in": lambda w: text == w, "not in": lambda w: text != w}
    test = tests.get(op)
    if test is None:
        return False
    if op in ("not contains", "is not", "not in"):
        return all(test(w) for w in wants)
    return any(test(w) for w in wants)


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _numeric(op: str, have: Any, want: Any) -> bool:
    try:
        a, b = float(have), float(want)
    except (TypeError, ValueError):
        return False
    return {"=": a == b, "≠": a != b, "!=": a != b, ">": a > b, "<": a < b,
            "≥": a >= b, ">=": a >= b, "≤": a <= b, "<=": a <= b}[op]


def _date(value: Any) -> str:
    """An ISO date (yyyy-mm-dd) from an ISO string or a Unix timestamp; "" if neither."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).date().isoformat()
    text = str(value).strip()
    return text[:10] if len(text) >= 10 and text[4] == "-" and text[7] == "-" else ""

