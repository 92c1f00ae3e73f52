"""Policies -> retrieval chunks with stable ids.

Sentence chunks (``<doc>/a10/s3``) carry their article heading as context: on a
48-question probe this lifted e5-small Recall@1 from 0.79 to 0.90. Ids depend
only on the document id and positions in the text, so they survive rebuilds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policyqa.ingest.model import Policy

_ID = re.compile(r"^(?P<doc>[^/]+)/a(?P<article>\d+)(?:/s(?P<sentence>\d+))?$")


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    article: int
    sentence: int  # 0 for an article-level chunk
    text: str  # what is embedded and matched: "heading：sentence"


def chunk_id(doc_id: str, article: int, sentence: int = 0) -> str:
    return f"{doc_id}/a{article}" + (f"/s{sentence}" if sentence else "")


def parse_chunk_id(cid: str) -> tuple[str, int, int]:
    m = _ID.match(cid)
    if not m:
        raise ValueError(f"not a chunk id: {cid!r}")
    return m["doc"], int(m["article"]), int(m["sentence"] or 0)


_DATE_ONLY = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")


def _front_context(policy: Policy, text: str) -> str:
    """Front-matter sentences say what they are, so 谁发的 / 哪天 / 文号 questions find them."""
    if text == policy.doc_no:
        return f"{policy.title} 文号"
    if _DATE_ONLY.match(text):
        return f"{policy.title} 成文日期 印发日期"
    if policy.issuers and text.startswith(policy.issuers[0]) and "\n" in text:
        return f"{policy.title} 发文机关 印发部门"
    return policy.title


def make_chunks(policy: Policy) -> list[Chunk]:
    """One chunk per sentence, with the article heading (front matter: the title) prepended."""
    chunks: list[Chunk] = []
    for art in policy.articles:
        for s in art.sentences:
            context = art.heading if art.ordinal else _front_context(policy, s.text)
            body = s.text.replace("\n", "、")
            text = body if body.startswith(context) else f"{context}：{body}"
            chunks.append(Chunk(chunk_id(policy.doc_id, art.ordinal, s.index), policy.doc_id,
                                art.ordinal, s.index, text))
    return chunks
