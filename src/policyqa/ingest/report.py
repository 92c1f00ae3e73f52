"""The documents table (``policyqa ingest --check``, and the desk's upload check): one
row per parsed document, every fact and what is missing, and the warnings an officer
should read before a document goes live."""

from __future__ import annotations

from typing import Any

from policyqa.ingest.model import Policy

DOCUMENT_COLUMNS = ("doc_id", "title", "cited as", "文号", "level", "issuer", "jurisdiction",
                     "adopted", "published", "amended", "effective", "status", "articles",
                     "missing")


def document_row(p: Any) -> list[str]:
    """One row of the documents table (a ``Policy``); several dates of a kind joined by 、."""
    status = f"superseded by {p.superseded_by}" if p.superseded_by else p.status
    return [p.doc_id, p.title, p.short_title, p.doc_no, p.level, "、".join(p.issuers),
            p.jurisdiction, *("、".join(p.dates_of(k)) for k in
                              ("adopted", "published", "amended", "effective")),
            status, str(sum(1 for a in p.articles if a.ordinal)), ", ".join(p.missing)]




def document_warnings(p: Policy) -> list[str]:
    """What parsed but looks wrong: missing facts, empty or very long articles."""
    out = [f"缺少{f}（missing {f}）" for f in p.missing]
    if not p.source_url:
        out.append("没有原文链接（sidecar source_url）")
    for a in p.articles:
        if a.ordinal and not a.sentences:
            out.append(f"{a.cite_label}没有正文")
        elif a.ordinal and len(a.text) > 3000:
            out.append(f"{a.cite_label}长达{len(a.text)}字，请确认条文没有连在一起")
    return out
